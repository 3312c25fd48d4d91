"""Issue 12 item 5: an officer sees and acts only on incidents that are theirs or assigned.

Supervisors and admins see every incident; grant and session records follow the incident.
"""

from __future__ import annotations

from pathlib import Path

from tests.hub_harness import camera, running_hub

HOME = (33.7490, -84.3880)


async def test_officers_are_scoped_to_their_incidents(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation(
            [camera("cam-1", *HOME)], auto_approve=True, name="House"
        )
        owner_user = await hub.create_user(role="analyst")
        owner = hub.client(owner_user)
        stranger_user = await hub.create_user(role="officer")
        stranger = hub.client(stranger_user)
        other_analyst = hub.client(await hub.create_user(role="analyst"))
        supervisor = hub.client(await hub.create_user(role="supervisor"))

        inc = await owner.open_incident(*HOME, radius_m=200)
        iid = inc["incident_id"]
        await owner.request_live(iid, [(sim.installation_id, "cam-1")])
        grant = await owner.wait_for_grant(iid, "cam-1", scope="live")
        session = await owner.open_session(grant["grant_id"], "cam-1")
        sid = session["session_id"]

        # Another officer: no list entry, no reads, no new requests on this incident.
        assert (await stranger.expect(200, "GET", "/api/v1/incidents"))["incidents"] == []
        for path in (
            f"/api/v1/incidents/{iid}",
            f"/api/v1/incidents/{iid}/cameras",
            f"/api/v1/incidents/{iid}/summaries?start=0&end=3600",
            f"/api/v1/grants/{grant['grant_id']}",
        ):
            status, body = await stranger.call("GET", path)
            assert status == 403, (path, body)
        status, body = await other_analyst.call("GET", f"/api/v1/sessions/{sid}")
        assert status == 403, body
        status, body = await stranger.call(
            "POST",
            f"/api/v1/incidents/{iid}/requests",
            {
                "scope": "clip",
                "cameras": [{"installation_id": sim.installation_id, "camera_id": "cam-1"}],
                "window_start": 1000,
                "window_end": 2000,
            },
        )
        assert status == 403, body
        status, _ = await stranger.call(
            "POST", f"/api/v1/incidents/{iid}/officers", {"user_id": stranger_user.id}
        )
        assert status == 403

        # The supervisor sees everything.
        listed = (await supervisor.expect(200, "GET", "/api/v1/incidents"))["incidents"]
        assert [i["incident_id"] for i in listed] == [iid]
        await supervisor.expect(200, "GET", f"/api/v1/incidents/{iid}")
        await supervisor.expect(200, "GET", f"/api/v1/sessions/{sid}")
        await supervisor.expect(200, "GET", f"/api/v1/grants/{grant['grant_id']}")

        # Once assigned, the officer reads the incident (without the owner's token).
        await owner.expect(
            201, "POST", f"/api/v1/incidents/{iid}/officers", {"user_id": stranger_user.id}
        )
        listed = (await stranger.expect(200, "GET", "/api/v1/incidents"))["incidents"]
        assert [i["incident_id"] for i in listed] == [iid]
        body = await stranger.expect(200, "GET", f"/api/v1/incidents/{iid}")
        assert all("token" not in g for r in body["requests"] for g in r["grants"])
        await stranger.expect(200, "GET", f"/api/v1/incidents/{iid}/cameras")
        await owner.close_session(sid)
