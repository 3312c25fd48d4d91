"""Issue 12 item 6: admins disable, re-enable, reset passwords and revoke API tokens; a
disabled officer's open MJPEG stream ends at once and their grants are revoked."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.hub_harness import camera, running_hub

HOME = (33.7490, -84.3880)


async def test_disabling_ends_streams_grants_sessions_and_tokens(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam-1", *HOME)], auto_approve=True)
        admin = hub.client(await hub.create_user(role="admin"))
        analyst_user = await hub.create_user(role="analyst")
        analyst = hub.client(analyst_user)
        console, http = await hub.login(analyst_user)
        try:
            inc = await analyst.open_incident(*HOME, radius_m=200)
            await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam-1")])
            grant = await analyst.wait_for_grant(inc["incident_id"], "cam-1", scope="live")
            session = await analyst.open_session(grant["grant_id"], "cam-1")
            sid = session["session_id"]
            async with analyst.mjpeg(sid) as reader:
                await sim.send_frame(sid, seq=1)
                assert await asyncio.wait_for(reader.next_frame(), 10) is not None
                # Non-admins cannot manage users.
                status, _ = await analyst.call("POST", f"/api/v1/users/{analyst_user.id}/disable")
                assert status == 403
                body = await admin.expect(200, "POST", f"/api/v1/users/{analyst_user.id}/disable")
                assert body["user"]["active"] is False
                assert grant["grant_id"] in body["revoked"]
                # The open stream ends now; a frame sent afterwards is not relayed.
                await sim.send_frame(sid, seq=2)
                assert await asyncio.wait_for(reader.next_frame(), 10) is None
            revoke = await sim.next_message("revoke")
            assert grant["grant_id"] in revoke.token_ids
            # Bearer token and console cookie both stop working.
            status, _ = await analyst.call("GET", "/api/v1/auth/me")
            assert status == 401
            status, _ = await console.call("GET", "/api/v1/auth/me")
            assert status == 401
            status, _ = await admin.call("POST", f"/api/v1/users/{analyst_user.id}/enable")
            assert status == 200
            # Re-enabled: the old console session stays ended; the password works again.
            status, _ = await console.call("GET", "/api/v1/auth/me")
            assert status == 401
            await analyst.expect(200, "GET", "/api/v1/auth/me")
        finally:
            await http.close()


async def test_reset_password_and_revoke_tokens(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        admin_user = await hub.create_user(role="admin")
        admin = hub.client(admin_user)
        officer_user = await hub.create_user(role="officer")
        officer = hub.client(officer_user)
        _, http = await hub.login(officer_user)
        await http.close()
        status, _ = await admin.call(
            "POST", f"/api/v1/users/{officer_user.id}/password", {"password": "short"}
        )
        assert status == 400
        await admin.expect(
            200,
            "POST",
            f"/api/v1/users/{officer_user.id}/password",
            {"password": "a brand new long password"},
        )
        async with hub.http.post(
            hub.url + "/api/v1/auth/login",
            json={"username": officer_user.username, "password": officer_user.password},
        ) as resp:
            assert resp.status == 401
        officer_user.password = "a brand new long password"
        _, http = await hub.login(officer_user)
        await http.close()
        await officer.expect(200, "GET", "/api/v1/auth/me")
        body = await admin.expect(200, "POST", f"/api/v1/users/{officer_user.id}/tokens/revoke")
        assert body["revoked_tokens"] == 1
        status, _ = await officer.call("GET", "/api/v1/auth/me")
        assert status == 401
        status, body = await admin.call("POST", f"/api/v1/users/{admin_user.id}/disable")
        assert (status, body["error"]) == (409, "cannot_disable_self")
        status, _ = await admin.call("POST", "/api/v1/users/" + "0" * 32 + "/disable")
        assert status == 404


async def test_healthz_shows_counts_only_to_staff(tmp_path: Path) -> None:
    """Issue 12 item 9 (hub part): anonymous callers learn only that the hub is up."""
    async with running_hub(tmp_path) as hub:
        await hub.simulated_installation()
        anonymous = await hub.client().expect(200, "GET", "/healthz")
        assert anonymous == {"status": "ok"}
        officer = await hub.client(await hub.create_user(role="officer")).expect(
            200, "GET", "/healthz"
        )
        assert "installations_online" not in officer
        admin = await hub.client(await hub.create_user(role="admin")).expect(200, "GET", "/healthz")
        assert admin["installations_online"] == 1
