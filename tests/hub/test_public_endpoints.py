"""JWKS and key rotation, transparency counts, health, installation list and removal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from hub_server.database import Database
from hub_server.signing import create_key
from tests.hub_harness import camera, running_hub, tiny_jpeg

HOME = (33.7490, -84.3880)


async def test_jwks_and_rotation(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *HOME)], auto_approve=True)
        anon = hub.client()
        jwks = await anon.expect(200, "GET", "/.well-known/jwks.json")
        assert len(jwks["keys"]) == 1 and jwks["keys"][0]["crv"] == "Ed25519"
        assert "d" not in jwks["keys"][0]  # never the private part
        old_kid = jwks["keys"][0]["kid"]

        # rotate-key as another process would do it; the running hub picks it up on reload.
        db = Database(hub.settings.database_url)
        try:
            async with db.write() as session:
                new_kid = await create_key(session, hub.state.kek)
        finally:
            await db.close()
        hub.state.keys._loaded_at = 0.0  # skip the 30 s reload interval
        jwks = await anon.expect(200, "GET", "/.well-known/jwks.json")
        assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}

        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        await analyst.request_snapshot(inc["incident_id"], [(sim.installation_id, "cam")])
        grant = await analyst.wait_for_grant(inc["incident_id"], "cam")
        assert grant["kid"] == new_kid
        sim.jwks = jwks
        assert sim.verify(grant["token"]).kid == new_kid


async def test_transparency_counts_without_personal_data(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *HOME)], auto_approve=True)
        analyst = hub.client(await hub.create_user(role="analyst", display_name="Dana Reyes"))
        inc = await analyst.open_incident(*HOME, case_number="CASE-SECRET-1")
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        grant = await analyst.wait_for_grant(inc["incident_id"], "cam")
        opened = await analyst.open_session(grant["grant_id"], "cam")
        async with analyst.mjpeg(opened["session_id"]) as reader:
            await sim.send_frame(opened["session_id"], tiny_jpeg(1))
            assert await asyncio.wait_for(reader.next_frame(), 10)
            await analyst.close_session(opened["session_id"])

        body = await hub.client().expect(200, "GET", "/api/v1/transparency")
        (month,) = body["months"]
        assert month["incidents"] == 1 and month["requests"] == 1 and month["approvals"] == 1
        assert month["tokens_issued"] == 1 and month["live_sessions"] == 1
        assert month["declines_or_unanswered"] == 0 and month["minutes_watched"] >= 0
        text = json.dumps(body)
        for secret in ("CASE-SECRET-1", "Dana", sim.installation_id, inc["incident_id"], "cam"):
            assert secret not in text


async def test_health_and_hub_identity(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url, hub_name="Atlanta PD") as hub:
        assert await hub.client().expect(200, "GET", "/healthz") == {"status": "ok"}
        admin = hub.client(await hub.create_user(role="admin"))
        health = await admin.expect(200, "GET", "/healthz")
        assert health["database"] == ("sqlite" if "sqlite" in database_url else "postgresql")
        info = await hub.client().expect(200, "GET", "/api/v1/hub")
        assert info["name"] == "Atlanta PD" and len(info["hub_id"]) == 32


async def test_installation_list_and_removal(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *HOME)], auto_approve=True)
        admin = hub.client(await hub.create_user(role="admin"))
        listed = (await admin.expect(200, "GET", "/api/v1/installations"))["installations"]
        assert [(i["installation_id"], i["online"], i["cameras"]) for i in listed] == [
            (sim.installation_id, True, 1)
        ]
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        grant = await analyst.wait_for_grant(inc["incident_id"], "cam")

        await admin.expect(200, "DELETE", f"/api/v1/installations/{sim.installation_id}")
        assert (await sim.next_message("revoke")).token_ids == [grant["grant_id"]]
        assert (await sim.next_message("error")).code == "installation_removed"
        assert (await analyst.cameras_in_incident(inc["incident_id"])) == []
        assert (await admin.expect(200, "GET", "/api/v1/installations"))["installations"] == []
        status, body = await admin.call("DELETE", f"/api/v1/installations/{sim.installation_id}")
        assert (status, body["error"]) == (404, "not_found")
        # A removed installation can no longer authenticate.
        sim.ws = None
        try:
            await sim.connect()
            raise AssertionError("a removed installation connected")
        except AssertionError as err:
            assert "unknown_installation" in str(err)


async def test_newest_socket_replaces_the_old_one(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *HOME)])
        old_ws = sim.ws
        old_reader = sim._reader
        await sim.connect(sync=False)
        assert old_ws is not None and old_reader is not None
        await asyncio.wait_for(old_reader, 10)  # the hub closed the old socket
        assert old_ws.closed
        await sim.roundtrip()
        assert hub.state.connections.get(sim.installation_id) is not None
