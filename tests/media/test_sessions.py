"""Every revocation path cuts exactly the sessions it names, at once, with stats recorded."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.connect_share.media.pump import PumpStats
from custom_components.connect_share.media.sessions import LiveSession, LiveSessions
from custom_components.connect_share.protocol.messages import new_session_id

from .test_pump import Sink, cycling_source, wait_until


def start(reg: LiveSessions, sink: Sink, camera: str, token: str, incident: str = "inc-1") -> str:
    sid = new_session_id()
    reg.start(
        session_id=sid,
        camera_id=camera,
        token_id=token,
        incident_id=incident,
        source=cycling_source(),
        masks=(),
        fps=40,
        allowed=lambda: True,
        send=sink,
    )
    return sid


async def test_revocation_paths() -> None:
    closed: list[tuple[str, str, int]] = []

    def on_closed(live: LiveSession, stats: PumpStats) -> None:
        closed.append((live.session_id, stats.reason or "", stats.frames_sent))

    reg = LiveSessions(on_closed)
    sinks = [Sink() for _ in range(5)]
    a = start(reg, sinks[0], "front", "tok-1")
    b = start(reg, sinks[1], "front", "tok-2", "inc-2")
    c = start(reg, sinks[2], "garden", "tok-3")
    d = start(reg, sinks[3], "garden", "tok-4", "inc-3")
    e = start(reg, sinks[4], "drive", "tok-5")
    await wait_until(lambda: all(len(s.frames) >= 2 for s in sinks))

    def frozen(*idx: int) -> list[int]:
        return [len(sinks[i].frames) for i in idx]

    stopped = reg.stop_camera("front", "paused")  # pause switch
    counts = frozen(0, 1)
    assert [s.reason for s in stopped] == ["paused", "paused"]
    assert reg.stop_tokens(["tok-3", "unknown"], "revoked")[0].session_id == c  # grant revoke
    assert [s.session_id for s in reg.stop_incident("inc-3", "incident_closed")] == [d]
    assert {s.session_id for s in reg.active()} == {e}
    before_e = len(sinks[4].frames)
    await wait_until(lambda: len(sinks[4].frames) >= before_e + 3)  # the others run on
    assert reg.stop_all("revoke_all")[0].session_id == e
    assert reg.active() == []
    assert reg.stop(a, "again") is None
    await reg.close()
    await asyncio.sleep(0.1)  # four frame intervals: nothing more leaves
    assert frozen(0, 1) == counts
    assert {sid: reason for sid, reason, _ in closed} == {
        a: "paused",
        b: "paused",
        c: "revoked",
        d: "incident_closed",
        e: "revoke_all",
    }
    for sid, _, n in closed:
        idx = [a, b, c, d, e].index(sid)
        assert n == len(sinks[idx].frames)


async def test_async_on_closed_and_close() -> None:
    seen: list[str] = []

    async def on_closed(live: LiveSession, stats: PumpStats) -> None:
        await asyncio.sleep(0)
        seen.append(stats.reason or "")

    reg = LiveSessions(on_closed)
    sink = Sink()
    start(reg, sink, "front", "tok-1")
    await wait_until(lambda: len(sink.frames) >= 1)
    await reg.close()
    assert seen == ["shutdown"]


async def test_duplicate_session_refused() -> None:
    reg = LiveSessions()
    sink = Sink()
    sid = start(reg, sink, "front", "tok-1")
    with pytest.raises(ValueError, match="already running"):
        reg.start(
            session_id=sid,
            camera_id="front",
            token_id="t",
            incident_id="i",
            source=cycling_source(),
            masks=(),
            fps=1,
            allowed=lambda: True,
            send=sink,
        )
    await reg.close()
