"""No viewer, no session (issue 10, defect 9): through the real MJPEG stream.

The installation learns every change of a live session's viewer count
(``session_viewers``); when the officer's player goes away and none is attached for
``no_viewer_grace_s``, or no player ever attaches within ``first_viewer_grace_s``, the hub
ends the session on both sides with reason ``no_viewer``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.hub_harness import HubHarness, SimulatedInstallation, camera, running_hub, tiny_jpeg

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)


async def live_session(hub: HubHarness) -> tuple[SimulatedInstallation, Any, str]:
    """An installation that approves and starts sessions by itself, and a live session."""
    sim = await hub.simulated_installation([camera("cam", *NEAR)], auto_approve=True)
    api = hub.client(await hub.create_user(role="analyst"))
    inc = await api.open_incident(*HOME)
    await api.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
    grant = await api.wait_for_grant(inc["incident_id"], "cam")
    opened = await api.open_session(grant["grant_id"], "cam")
    assert opened["state"] == "live"
    return sim, api, opened["session_id"]


async def viewer_counts(sim: SimulatedInstallation, session_id: str, n: int) -> list[int]:
    counts = []
    for _ in range(n):
        msg = await sim.next_message("session_viewers")
        assert msg.session_id == session_id
        counts.append(msg.viewers)
    return counts


async def test_player_gone_ends_the_session_on_both_sides(tmp_path: Path) -> None:
    async with running_hub(tmp_path, no_viewer_grace_s=0.5, first_viewer_grace_s=60) as hub:
        sim, api, session_id = await live_session(hub)
        async with api.mjpeg(session_id) as reader:
            assert await viewer_counts(sim, session_id, 1) == [1]
            await sim.send_frame(session_id, tiny_jpeg(1))
            assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(1)
        # The player disconnected; no frame is sent after it, so nothing is written that
        # would fail: the hub must notice by itself.
        assert await viewer_counts(sim, session_id, 1) == [0]
        closed = await sim.next_message("session_close")
        assert (closed.session_id, closed.reason) == (session_id, "no_viewer")
        # Told in that order: viewers=0, then the close.
        kinds = [m.TYPE for m in sim.messages if getattr(m, "session_id", None) == session_id]
        assert kinds[-2:] == ["session_viewers", "session_close"]

        state = await api.session(session_id)
        assert state["state"] == "ended" and state["end_reason"] == "no_viewer"
        assert hub.state.relay.get(session_id) is None  # nothing relayed any more
        await sim.send_frame(session_id, tiny_jpeg(2))
        await sim.roundtrip()
        assert (await api.session(session_id))["frames_relayed"] == 1
        (stop,) = [
            e
            for e in await hub.wait_for_audit("session.stop")
            if e["detail"]["session_id"] == session_id
        ]
        assert stop["detail"]["reason"] == "no_viewer" and stop["actor"] == "hub"
        assert (await hub.verify_audit()).ok


async def test_a_session_nobody_ever_watches_ends(tmp_path: Path) -> None:
    async with running_hub(tmp_path, first_viewer_grace_s=0.5) as hub:
        sim, api, session_id = await live_session(hub)
        closed = await sim.next_message("session_close")
        assert (closed.session_id, closed.reason) == (session_id, "no_viewer")
        assert not [m for m in sim.messages if m.TYPE == "session_viewers"]  # never changed
        assert (await api.session(session_id))["end_reason"] == "no_viewer"
        status, body = await api.call("GET", f"/api/v1/sessions/{session_id}/stream")
        assert (status, body["error"]) == (410, "session_ended")


async def test_every_change_of_the_viewer_count_is_sent(tmp_path: Path) -> None:
    # A long grace: reconnecting players keep the session (nothing here depends on timing).
    async with running_hub(tmp_path, no_viewer_grace_s=60, first_viewer_grace_s=60) as hub:
        sim, api, session_id = await live_session(hub)
        async with api.mjpeg(session_id) as first:
            assert await viewer_counts(sim, session_id, 1) == [1]
            async with api.mjpeg(session_id):
                assert await viewer_counts(sim, session_id, 1) == [2]
            assert await viewer_counts(sim, session_id, 1) == [1]
            await sim.send_frame(session_id, tiny_jpeg(3))
            assert await asyncio.wait_for(first.next_frame(), 10) == tiny_jpeg(3)
        assert await viewer_counts(sim, session_id, 1) == [0]
        async with api.mjpeg(session_id) as again:  # back within the grace: still live
            assert await viewer_counts(sim, session_id, 1) == [1]
            await sim.send_frame(session_id, tiny_jpeg(4))
            assert await asyncio.wait_for(again.next_frame(), 10) == tiny_jpeg(4)
            assert (await api.session(session_id))["state"] == "live"
            await api.close_session(session_id)
            assert await asyncio.wait_for(again.next_frame(), 10) is None
        closed = await sim.next_message("session_close")
        assert closed.reason == "closed_by_officer"
        # An ended session's viewers leaving is not news for the installation.
        await sim.roundtrip()
        assert [m.viewers for m in sim.messages if m.TYPE == "session_viewers"] == [1, 2, 1, 0, 1]


async def test_snapshots_are_not_watched_sessions(tmp_path: Path) -> None:
    async with running_hub(tmp_path, first_viewer_grace_s=0.2, no_viewer_grace_s=0.2) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        api = hub.client(await hub.create_user(role="analyst"))
        inc = await api.open_incident(*HOME)
        await api.request_snapshot(inc["incident_id"], [(sim.installation_id, "cam")])
        await sim.approve(await sim.next_message("access_request"))
        grant = await api.wait_for_grant(inc["incident_id"], "cam")
        taking = asyncio.ensure_future(api.snapshot(grant["grant_id"]))
        opened = await sim.next_message("session_open")
        await sim.accept_session(opened)
        await sim.roundtrip()
        await sim.send_frame(opened.session_id, tiny_jpeg(5))
        assert await taking == tiny_jpeg(5)
        closed = await sim.next_message("session_close")
        assert closed.reason == "snapshot_taken"
        assert not [m for m in sim.messages if m.TYPE == "session_viewers"]
