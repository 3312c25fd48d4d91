"""End to end: incident -> approval -> live session through the real hub -> officer's MJPEG.

The installation side is the hub harness's protocol-level installation on a real WebSocket,
with this package's ``FramePump`` pulling masked frames from the go2rtc stand-in. The
officer reads the hub's MJPEG stream over HTTP. Checked: frames arrive, the masked region
is uniformly filled in what arrives, the pause switch stops the stream before the next
frame, and the installation's count, the hub's audit entry and the client's count agree.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from custom_components.connect_share.media.go2rtc import Go2rtcClient, Go2rtcSource
from custom_components.connect_share.media.jpeg import decode
from custom_components.connect_share.media.masks import parse_masks
from custom_components.connect_share.media.pump import FramePump, PumpStats
from custom_components.connect_share.protocol.messages import AuditFetch, SessionOpen
from tests.hub_harness import HubHarness, SimulatedInstallation, camera, running_hub

from .frames import frame_sequence
from .go2rtc_standin import StandinState, serve

LEFT_THIRD = parse_masks("[[[0,0],[0.33,0],[0.33,1],[0,1]]]")
W, H = 640, 360


async def wait_until(cond: Any, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


@pytest.fixture
async def go2rtc() -> AsyncIterator[Go2rtcClient]:
    state = StandinState(frames=frame_sequence(W, H, 4), streams={"front": "rtsp://cam/1"})
    state.mjpeg_fps = 15
    async with serve(state) as url:
        client = Go2rtcClient(url, timeout=5)
        yield client
        await client.close()


async def _approved_session(
    hub: HubHarness, sim: SimulatedInstallation, api: Any
) -> tuple[SessionOpen, asyncio.Task[Any]]:
    """Officer opens an incident and asks; the resident approves; the officer opens live."""
    inc = await api.open_incident(lat=33.7490, lon=-84.3880, radius_m=300)
    await api.request_access(inc["incident_id"], [(sim.installation_id, "cam-1")], scope="live")
    request = await sim.next_message("access_request")
    await sim.approve(request)  # the resident taps "approve"
    grant = await api.wait_for_grant(inc["incident_id"], "cam-1", scope="live")
    opening = asyncio.get_running_loop().create_task(
        api.open_session(grant["grant_id"], "cam-1", fps=5.0)
    )
    open_msg = await sim.next_message("session_open")
    return open_msg, opening


async def test_live_session_masked_paused_and_counted(tmp_path: Path, go2rtc: Go2rtcClient) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation(
            cameras=[camera("cam-1", 33.7491, -84.3881, masked=True, scopes=["live"])]
        )
        officer = await hub.create_user(role="analyst")
        api = hub.client(officer)
        open_msg, opening = await _approved_session(hub, sim, api)

        # The integration's check: token valid for this camera and scope, rules allow it.
        sim.verify(open_msg.token).require(open_msg.camera_id, open_msg.scope)
        paused = False
        resident_log: list[PumpStats] = []  # the installation's own audit record
        pump = FramePump(
            session_id=open_msg.session_id,
            source=Go2rtcSource(go2rtc, "front"),
            masks=LEFT_THIRD,
            fps=open_msg.fps,
            allowed=lambda: "paused" if paused else True,
            send=sim.ws.send_bytes,  # type: ignore[union-attr]
            on_stop=resident_log.append,
        )
        await sim.accept_session(open_msg)
        session = await opening
        assert session["session_id"] == open_msg.session_id

        received: list[bytes] = []
        async with api.mjpeg(session["session_id"]) as reader:
            live = hub.state.relay.get(session["session_id"])
            await wait_until(lambda: live is not None and len(live.viewers) == 1)
            pump.start()

            async def read() -> None:
                while (frame := await reader.next_frame()) is not None:
                    received.append(frame)

            reading = asyncio.get_running_loop().create_task(read())
            await wait_until(lambda: len(received) >= 5)

            paused = True  # the pause switch: the rule check now refuses
            sent_when_paused = pump.stats.frames_sent
            await wait_until(lambda: pump.stopped)
            await pump.wait_closed()
            # Not one frame after the switch: the next frame was refused before sending.
            assert pump.stats.frames_sent == sent_when_paused
            assert pump.stats.reason == "paused"
            await sim.send(pump.stats.close_message())
            await asyncio.wait_for(reading, 15)  # the hub ends the stream

        # Every frame that left the house reached the officer, and nothing else did.
        assert len(received) == pump.stats.frames_sent == resident_log[0].frames_sent
        for frame in received:
            rgb = decode(frame).astype(int)
            masked = rgb[:, : int(W * 0.33) - 16]
            assert masked.max() - masked.min() <= 3  # uniformly filled
            assert rgb[:, int(W * 0.33) + 16 :].std() > 10  # the rest is a picture

        # The hub's audit log says the same, and the chain holds.
        await sim.send(AuditFetch(since_seq=0))
        entries = (await sim.next_message("audit_entries")).entries
        stops = [
            e
            for e in entries
            if e["action"] == "session.stop"
            and e["detail"].get("session_id") == session["session_id"]
        ]
        assert len(stops) == 1
        assert stops[0]["detail"]["frames_relayed"] == len(received)
        # The hub keeps only the neutral reason, whatever the installation said.
        assert stops[0]["detail"]["reason"] == "installation:ended"
        assert (await api.session(session["session_id"]))["frames_relayed"] == len(received)
        assert (await hub.verify_audit()).ok


async def test_hub_side_revoke_stops_the_pump(tmp_path: Path, go2rtc: Go2rtcClient) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation(
            cameras=[camera("cam-1", 33.7491, -84.3881, masked=True, scopes=["live"])]
        )
        officer = await hub.create_user(role="analyst")
        api = hub.client(officer)
        open_msg, opening = await _approved_session(hub, sim, api)
        sent: list[bytes] = []

        async def send(data: bytes) -> None:
            sent.append(data)
            await sim.ws.send_bytes(data)  # type: ignore[union-attr]

        pump = FramePump(
            session_id=open_msg.session_id,
            source=Go2rtcSource(go2rtc, "front"),
            masks=LEFT_THIRD,
            fps=10,
            allowed=lambda: True,
            send=send,
        )
        await sim.accept_session(open_msg)
        session = await opening
        pump.start()
        await wait_until(lambda: len(sent) >= 3)

        # A supervisor revokes the grant at the hub: the hub stops relaying at once and tells
        # the house, whose pump stops before its next frame.
        supervisor = hub.client(await hub.create_user(role="supervisor"))
        grant_id = (await api.session(session["session_id"]))["grant_id"]
        await supervisor.revoke_grant(grant_id, reason="case closed")
        revoke = await sim.next_message("revoke")
        assert sim.verify(open_msg.token).claims.token_id in revoke.token_ids
        stats = pump.stop("hub_revoked")  # what the integration does for a revoked token
        count = len(sent)
        await pump.wait_closed()
        await asyncio.sleep(0.3)  # three frame intervals: nothing more leaves
        assert len(sent) == count == stats.frames_sent
        assert stats.reason == "hub_revoked"
        assert (await api.session(session["session_id"]))["end_reason"] == "revoked"


async def test_officer_disconnecting_mid_frame_stalls_nothing(
    tmp_path: Path, go2rtc: Go2rtcClient
) -> None:
    # A long no-viewer grace: the officer comes back before the session would end.
    async with running_hub(tmp_path, no_viewer_grace_s=60) as hub:
        sim = await hub.simulated_installation(
            cameras=[camera("cam-1", 33.7491, -84.3881, masked=True, scopes=["live"])]
        )
        officer = await hub.create_user(role="analyst")
        api = hub.client(officer)
        open_msg, opening = await _approved_session(hub, sim, api)
        pump = FramePump(
            session_id=open_msg.session_id,
            source=Go2rtcSource(go2rtc, "front"),
            masks=LEFT_THIRD,
            fps=10,
            allowed=lambda: True,
            send=sim.ws.send_bytes,  # type: ignore[union-attr]
        )
        await sim.accept_session(open_msg)
        session = await opening
        pump.start()
        stream_url = hub.url + session["stream_path"]

        # The officer's browser reads part of a frame and goes away.
        resp = await hub.http.get(stream_url, headers=api.headers)
        assert resp.status == 200
        head = await resp.content.readexactly(200)
        assert b"Content-Type: image/jpeg" in head
        resp.close()

        # The installation keeps streaming, the hub keeps the session, the officer can
        # come back and gets whole frames again.
        before = pump.stats.frames_sent
        await wait_until(lambda: pump.stats.frames_sent >= before + 3)
        assert not pump.stopped
        assert (await api.session(session["session_id"]))["state"] == "live"
        frames = await api.read_mjpeg(session["session_id"], count=2)
        assert len(frames) == 2
        assert decode(frames[0]).shape == (H, W, 3)
        pump.stop("officer_left")
        await pump.wait_closed()
        await sim.send(pump.stats.close_message())
        await sim.roundtrip()
        assert (await api.session(session["session_id"]))["state"] == "ended"
