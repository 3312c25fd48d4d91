"""The core flow over a real hub, a real database and the real installation WebSocket.

Officer opens an incident -> cameras found in the radius -> live request fanned out ->
simulated installation approves -> token issued and verified with the protocol package ->
session opened, frames relayed over MJPEG -> revocation stops the relay -> audit verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from connect_share_protocol import TokenError, TokenRejection
from connect_share_protocol.messages import AuditEntries, AuditFetch, Decision
from tests.hub_harness import HubApiError, camera, running_hub, tiny_jpeg

HOME = (33.7490, -84.3880)  # Atlanta
NEAR = (33.7495, -84.3880)  # ~55 m north
MID = (33.7500, -84.3890)  # ~140 m
FAR = (33.7700, -84.3880)  # ~2.3 km


def sim_cameras() -> list:
    return [
        camera("cam-near", *NEAR, mode="on_request"),
        camera("cam-registered", *MID, mode="registered"),
        camera("cam-far", *FAR, mode="auto"),
        camera("cam-off", *NEAR, mode="off"),
        camera("cam-nowhere", None, None, mode="auto"),
    ]


async def test_incident_to_relay_to_revocation(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        sim = await hub.simulated_installation(sim_cameras(), name="Corner store")
        analyst = await hub.create_user(role="analyst", display_name="Dana Reyes", badge="4471")
        supervisor = await hub.create_user(role="supervisor")
        api = hub.client(analyst)

        incident = await api.open_incident(*HOME, radius_m=300, case_number="2026-0042")
        found = await api.cameras_in_incident(incident["incident_id"])
        assert [c["camera_id"] for c in found] == ["cam-near", "cam-registered"]
        near, registered = found
        assert near["participation"] == "integrated" and near["online"] is True
        assert registered["participation"] == "registered"
        assert 40 < near["distance_m"] < 70 and near["distance_m"] < registered["distance_m"]

        requests = await api.request_live(
            incident["incident_id"], [(sim.installation_id, "cam-near")]
        )
        assert [r["cameras"] for r in requests] == [
            [
                {
                    "camera_id": "cam-near",
                    "outcome": "pending",
                    "state": "waiting_for_resident",
                    "until": requests[0]["expires_at"],
                }
            ]
        ]
        asked = await sim.next_message("access_request")
        assert asked.scope == "live" and asked.camera_ids == ["cam-near"]
        assert asked.incident.case_number == "2026-0042"
        assert asked.incident.officer_name == "Dana Reyes" and asked.incident.badge == "4471"

        await sim.approve(asked)
        granted = await sim.next_message("grant")
        verified = sim.verify(granted.token)  # the protocol package, with the pinned JWKS
        claims = verified.claims
        assert claims.installation_id == sim.installation_id
        assert claims.cameras == ("cam-near",) and claims.scopes == ("live",)
        assert claims.incident_id == incident["incident_id"] and claims.case_number == "2026-0042"
        assert claims.officer_id == analyst.id and claims.badge == "4471"
        assert claims.expires_at - claims.issued_at <= 3600
        verified.require("cam-near", "live")
        try:
            verified.require("cam-registered", "live")
            raise AssertionError("a camera outside the grant passed")
        except TokenError as err:
            assert err.reason is TokenRejection.CAMERA_NOT_GRANTED

        grant = await api.wait_for_grant(incident["incident_id"], "cam-near", scope="live")
        assert grant["grant_id"] == claims.token_id and grant["token"] == granted.token
        assert (await api.outcomes(incident["incident_id"])) == {"cam-near": "approved"}

        opening = asyncio.ensure_future(api.open_session(grant["grant_id"], "cam-near", fps=4))
        session_open = await sim.next_message("session_open")
        assert session_open.camera_id == "cam-near" and session_open.token == granted.token
        await sim.accept_session(session_open)
        opened = await opening
        session_id = opened["session_id"]
        assert opened["state"] == "live" and session_id == session_open.session_id

        frames = [tiny_jpeg(i) for i in range(3)]
        async with api.mjpeg(session_id) as reader:
            assert reader.content_type.startswith("multipart/x-mixed-replace")
            got = []
            for i, frame in enumerate(frames):
                # One at a time: a bounded viewer queue may drop frames a reader lags behind.
                await sim.send_frame(session_id, frame, seq=i)
                got.append(await asyncio.wait_for(reader.next_frame(), 10))
            assert got == frames

            assert await api.revoke_grant(grant["grant_id"], "case solved") == [grant["grant_id"]]
            assert await asyncio.wait_for(reader.next_frame(), 10) is None  # relay ended
        revoke = await sim.next_message("revoke")
        assert revoke.token_ids == [grant["grant_id"]] and revoke.reason == "case solved"

        # Frames after the revocation go nowhere; the session is recorded as revoked.
        await sim.send_frame(session_id, tiny_jpeg(9), seq=9)
        await sim.roundtrip()
        state = await api.session(session_id)
        assert state["state"] == "ended" and state["end_reason"] == "revoked"
        assert state["frames_relayed"] == 3
        status, body = await api.call(
            "POST", "/api/v1/sessions", {"grant_id": grant["grant_id"], "camera_id": "cam-near"}
        )
        assert (status, body["error"]) == (403, "grant_revoked")

        report = await hub.verify_audit()
        assert report.ok, report
        actions = [e["action"] for e in await hub.client(supervisor).audit()]
        for action in (
            "incident.opened",
            "request.created",
            "request.answered",
            "token.issued",
            "session.start",
            "token.revoked",
            "session.stop",
        ):
            assert action in actions, action

        # The installation fetches the hub's entries about its cameras (and only those).
        await sim.send(AuditFetch(since_seq=0, limit=100))
        entries: AuditEntries = await sim.next_message("audit_entries")
        mine = {e["action"] for e in entries.entries}
        assert {"request.created", "token.issued", "token.revoked", "session.stop"} <= mine
        assert "incident.opened" not in mine  # not about this installation
        assert all(e["installation_id"] == sim.installation_id for e in entries.entries)
        assert all(len(e["hash"]) == 64 for e in entries.entries)


async def test_decline_and_silence_both_read_no_footage(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        cams = [camera("a", *NEAR, mode="registered"), camera("b", *MID, mode="registered")]
        declining = await hub.simulated_installation(cams, name="declines")
        silent = await hub.simulated_installation(
            [camera("c", *NEAR, mode="registered")], name="silent"
        )
        officer = await hub.create_user(role="officer")
        api = hub.client(officer)
        incident = await api.open_incident(*HOME, radius_m=500)
        window = (1_790_000_000.0, 1_790_003_600.0)
        await api.request_footage(
            incident["incident_id"],
            [
                (declining.installation_id, "a"),
                (declining.installation_id, "b"),
                (silent.installation_id, "c"),
            ],
            window,
        )
        asked = await declining.next_message("access_request")
        assert asked.scope == "clip" and (asked.window_start, asked.window_end) == window
        await silent.next_message("access_request")
        await declining.approve(asked, camera_ids=["a"])  # "b" declined
        granted = await declining.next_message("grant")
        claims = declining.verify(granted.token).claims
        assert claims.cameras == ("a",) and claims.scopes == ("clip",)
        assert (claims.window_start, claims.window_end) == (int(window[0]), int(window[1]))

        # Not approved and not answered read the same: waiting until the deadline...
        outcomes = await api.outcomes(incident["incident_id"])
        assert outcomes == {"a": "approved", "b": "pending", "c": "pending"}

        # ... then "no footage", both at once (the deadline is brought forward here).
        await hub.expire_requests()
        outcomes = await api.outcomes(incident["incident_id"])
        assert outcomes == {"a": "approved", "b": "no_footage", "c": "no_footage"}
        body = await api.incident(incident["incident_id"])
        assert {r["status"] for r in body["requests"]} == {"closed"}


async def test_resident_revoke_ends_the_relay(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)], auto_approve=True)
        analyst = await hub.create_user(role="analyst")
        api = hub.client(analyst)
        incident = await api.open_incident(*HOME)
        await api.request_live(incident["incident_id"], [(sim.installation_id, "cam")])
        grant = await api.wait_for_grant(incident["incident_id"], "cam")
        opened = await api.open_session(grant["grant_id"], "cam")
        async with api.mjpeg(opened["session_id"]) as reader:
            await sim.send_frame(opened["session_id"], tiny_jpeg(1))
            assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(1)
            await sim.revoke(all=True)
            assert await asyncio.wait_for(reader.next_frame(), 10) is None
        refreshed = await hub.client(analyst).expect(
            200, "GET", f"/api/v1/grants/{grant['grant_id']}"
        )
        assert refreshed["grant"]["state"] == "revoked"
        assert (await hub.verify_audit()).ok


async def test_officer_closes_session_and_installation_is_told(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)], auto_approve=True)
        analyst = await hub.create_user(role="analyst")
        api = hub.client(analyst)
        incident = await api.open_incident(*HOME)
        await api.request_live(incident["incident_id"], [(sim.installation_id, "cam")])
        grant = await api.wait_for_grant(incident["incident_id"], "cam")
        opened = await api.open_session(grant["grant_id"], "cam")
        await api.close_session(opened["session_id"])
        closed = await sim.next_message("session_close")
        assert closed.session_id == opened["session_id"] and closed.reason == "closed_by_officer"
        status, body = await api.call("GET", f"/api/v1/sessions/{opened['session_id']}/stream")
        assert (status, body["error"]) == (410, "session_ended")


async def test_installation_refusing_a_session_is_reported(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        analyst = await hub.create_user(role="analyst")
        api = hub.client(analyst)
        incident = await api.open_incident(*HOME)
        await api.request_live(incident["incident_id"], [(sim.installation_id, "cam")])
        await sim.approve(await sim.next_message("access_request"))
        grant = await api.wait_for_grant(incident["incident_id"], "cam")
        opening = asyncio.ensure_future(
            api.call(
                "POST", "/api/v1/sessions", {"grant_id": grant["grant_id"], "camera_id": "cam"}
            )
        )
        await sim.refuse_session(await sim.next_message("session_open"), "paused")
        status, body = await opening
        assert status == 409 and body["error"] == "session_refused"
        # The installation's own reason never reaches the officer: only the neutral one.
        assert "unavailable" in body["message"] and "paused" not in body["message"]


async def test_token_expiry_ends_the_session(tmp_path: Path) -> None:
    async with running_hub(tmp_path, min_token_lifetime_s=3) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        analyst = await hub.create_user(role="analyst")
        api = hub.client(analyst)
        incident = await api.open_incident(*HOME)
        await api.request_live(incident["incident_id"], [(sim.installation_id, "cam")])
        await sim.approve(await sim.next_message("access_request"), max_session_s=3)
        grant = await api.wait_for_grant(incident["incident_id"], "cam")
        opening = asyncio.ensure_future(api.open_session(grant["grant_id"], "cam"))
        await sim.accept_session(await sim.next_message("session_open"))
        opened = await opening
        async with api.mjpeg(opened["session_id"]) as reader:
            assert await asyncio.wait_for(reader.next_frame(), 15) is None
        closed = await sim.next_message("session_close")
        assert closed.reason == "token_expired"
        assert (await api.session(opened["session_id"]))["end_reason"] == "token_expired"


async def test_requests_made_while_offline_arrive_on_connect(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        await sim.close()
        analyst = await hub.create_user(role="analyst")
        api = hub.client(analyst)
        incident = await api.open_incident(*HOME)
        found = await api.cameras_in_incident(incident["incident_id"])
        assert found[0]["online"] is False
        await api.request_live(incident["incident_id"], [(sim.installation_id, "cam")])
        sim.ws = None
        await sim.connect(sync=False)
        asked = await sim.next_message("access_request")
        assert asked.camera_ids == ["cam"]


async def test_live_view_needs_a_live_role(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)], auto_approve=True)
        officer = await hub.create_user(role="officer")
        analyst = await hub.create_user(role="analyst")
        incident = await hub.client(officer).open_incident(*HOME)
        cams = [(sim.installation_id, "cam")]
        try:
            await hub.client(officer).request_live(incident["incident_id"], cams)
            raise AssertionError("an officer got live access")
        except HubApiError as err:
            assert err.status == 403 and err.body["error"] == "wrong_role"
        # The officer brings in an analyst (incidents are scoped to their officers).
        await hub.client(officer).expect(
            201,
            "POST",
            f"/api/v1/incidents/{incident['incident_id']}/officers",
            {"user_id": analyst.id},
        )
        await hub.client(analyst).request_live(incident["incident_id"], cams)
        grant = await hub.client(analyst).wait_for_grant(incident["incident_id"], "cam")
        status, body = await hub.client(officer).call(
            "POST", "/api/v1/sessions", {"grant_id": grant["grant_id"], "camera_id": "cam"}
        )
        assert (status, body["error"]) == (403, "wrong_role")
        other = await hub.create_user(role="analyst")
        status, body = await hub.client(other).call(
            "POST", "/api/v1/sessions", {"grant_id": grant["grant_id"], "camera_id": "cam"}
        )
        assert (status, body["error"]) == (403, "not_your_grant")


async def test_one_token_per_approved_camera(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        sim = await hub.simulated_installation(
            [camera("front", *NEAR), camera("back", *NEAR), camera("side", *NEAR)]
        )
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        inst = sim.installation_id
        await analyst.request_snapshot(
            inc["incident_id"], [(inst, "front"), (inst, "back"), (inst, "side")]
        )
        await sim.approve(await sim.next_message("access_request"), camera_ids=["front", "back"])
        tokens = [(await sim.next_message("grant")).token for _ in range(2)]
        claims = [sim.verify(t).claims for t in tokens]
        assert sorted(c.cameras for c in claims) == [("back",), ("front",)]
        assert claims[0].token_id != claims[1].token_id
        assert all(c.scopes == ("snapshot",) for c in claims)
        assert await analyst.outcomes(inc["incident_id"]) == {
            "front": "approved",
            "back": "approved",
            "side": "pending",  # until the deadline, as if the resident had not answered
        }
        front = await analyst.wait_for_grant(inc["incident_id"], "front")
        await analyst.revoke_grant(front["grant_id"])
        assert (await sim.next_message("revoke")).token_ids == [front["grant_id"]]
        back = await analyst.wait_for_grant(inc["incident_id"], "back")
        assert back["state"] == "active"
        # Naming an approved camera again issues nothing; the last camera completes it.
        await sim.send(Decision(request_id=front["request_id"], approved_camera_ids=["front"]))
        await sim.send(Decision(request_id=front["request_id"], approved_camera_ids=["side"]))
        assert sim.verify((await sim.next_message("grant")).token).claims.cameras == ("side",)
        await sim.roundtrip()
        assert [m.TYPE for m in sim.messages].count("grant") == 3
        # Answering a complete request is refused and changes nothing.
        await sim.send(Decision(request_id=front["request_id"], approved_camera_ids=["side"]))
        assert (await sim.next_message("error")).code == "already_answered"
        assert (await analyst.outcomes(inc["incident_id"]))["side"] == "approved"


async def test_silent_installations_are_dropped(tmp_path: Path) -> None:
    async with running_hub(tmp_path, heartbeat_s=0.2, stale_after_s=1.0) as hub:
        answering = await hub.simulated_installation([camera("a", *NEAR)], name="answers")
        silent = await hub.simulated_installation([camera("b", *NEAR)], name="silent")
        silent._reader.cancel()  # stops reading: never answers the hub's pings
        async with asyncio.timeout(15):
            while hub.state.connections.get(silent.installation_id) is not None:
                await asyncio.sleep(0.1)
        await answering.roundtrip()
        assert hub.state.connections.get(answering.installation_id) is not None
        assert any(m.TYPE == "ping" for m in answering.messages)


async def test_revocation_while_offline_arrives_on_reconnect(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)], auto_approve=True)
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        grant = await analyst.wait_for_grant(inc["incident_id"], "cam")
        await sim.close()
        await analyst.revoke_grant(grant["grant_id"], "wrong address")
        sim.ws = None
        await sim.connect(sync=False)
        revoke = await sim.next_message("revoke")
        assert revoke.token_ids == [grant["grant_id"]]


async def test_viewers_per_session_are_capped(tmp_path: Path) -> None:
    from hub_server.api_sessions import MAX_VIEWERS_PER_SESSION

    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)], auto_approve=True)
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        grant = await analyst.wait_for_grant(inc["incident_id"], "cam")
        opened = await analyst.open_session(grant["grant_id"], "cam")
        session_id = opened["session_id"]
        async with contextlib.AsyncExitStack() as stack:
            readers = [
                await stack.enter_async_context(analyst.mjpeg(session_id))
                for _ in range(MAX_VIEWERS_PER_SESSION)
            ]
            status, body = await analyst.call("GET", f"/api/v1/sessions/{session_id}/stream")
            assert (status, body["error"]) == (429, "too_many_viewers")
            await sim.send_frame(session_id, tiny_jpeg(5))
            for reader in readers:  # every viewer gets the frame
                assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(5)
            await analyst.close_session(session_id)


async def test_a_slow_viewer_loses_frames_not_memory(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)], auto_approve=True)
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        grant = await analyst.wait_for_grant(inc["incident_id"], "cam")
        opened = await analyst.open_session(grant["grant_id"], "cam")
        session_id = opened["session_id"]
        big = tiny_jpeg(1) + b"\x00" * 256 * 1024  # 256 KiB "frames"
        async with analyst.mjpeg(session_id) as reader:
            # The viewer reads nothing while 200 frames (50 MiB) arrive.
            for seq in range(200):
                await sim.send_frame(session_id, big, seq=seq)
            await sim.roundtrip()  # the installation's socket never stalled
            live = hub.state.relay.get(session_id)
            assert live is not None and live.frames == 200
            (viewer,) = live.viewers
            assert viewer.queue.qsize() <= hub.settings.viewer_queue_frames
            assert viewer.dropped > 100
            assert await asyncio.wait_for(reader.next_frame(), 10) == big  # still streaming


async def test_partial_decision_then_resident_answer(tmp_path: Path) -> None:
    """An auto camera is approved at once (final=False); the resident answers the rest later."""
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation(
            [camera("yard", *NEAR, mode="auto"), camera("door", *NEAR), camera("side", *NEAR)]
        )
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        inst = sim.installation_id
        await analyst.request_live(
            inc["incident_id"], [(inst, "yard"), (inst, "door"), (inst, "side")]
        )
        req = await sim.next_message("access_request")
        await sim.send(
            Decision(request_id=req.request_id, approved_camera_ids=["yard"], final=False)
        )
        assert sim.verify((await sim.next_message("grant")).token).claims.cameras == ("yard",)
        assert await analyst.outcomes(inc["incident_id"]) == {
            "yard": "approved",
            "door": "pending",
            "side": "pending",
        }
        # Naming the auto camera again issues no second token for it.
        await sim.send(Decision(request_id=req.request_id, approved_camera_ids=["yard", "door"]))
        assert sim.verify((await sim.next_message("grant")).token).claims.cameras == ("door",)
        assert await analyst.outcomes(inc["incident_id"]) == {
            "yard": "approved",
            "door": "approved",
            "side": "pending",  # "final" does not close it early: the deadline does
        }
        grants = [
            g for r in (await analyst.incident(inc["incident_id"]))["requests"] for g in r["grants"]
        ]
        assert sorted(g["camera_ids"][0] for g in grants) == ["door", "yard"]
        await hub.expire_requests()
        await sim.send(Decision(request_id=req.request_id, approved_camera_ids=["side"]))
        assert (await sim.next_message("error")).code == "request_expired"
        assert (await analyst.outcomes(inc["incident_id"]))["side"] == "no_footage"
        assert await hub.verify_audit()
