"""The live-session pump: masks, rule check before every frame, stop, back-pressure."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from custom_components.connect_share.media.go2rtc import Go2rtcClient, Go2rtcSource
from custom_components.connect_share.media.jpeg import decode
from custom_components.connect_share.media.masks import parse_masks
from custom_components.connect_share.media.pump import FramePump, PumpStats
from custom_components.connect_share.media.sources import CallableSource, SourceError
from custom_components.connect_share.protocol.messages import new_session_id, unpack_frame

from .frames import frame_sequence
from .go2rtc_standin import StandinState, serve

FRAMES = frame_sequence(320, 180, 4)
LEFT_HALF = parse_masks("[[[0,0],[0.5,0],[0.5,1],[0,1]]]")


async def wait_until(cond: Callable[[], bool], limit: float = 10.0) -> None:
    """Progress wait with a generous fail-safe (not a speed assertion)."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


def cycling_source(frames: list[bytes] = FRAMES, **kw: Any) -> CallableSource:
    state = {"i": 0}

    async def fetch() -> bytes:
        state["i"] += 1
        return frames[(state["i"] - 1) % len(frames)]

    return CallableSource("fake", fetch, **kw)


class Sink:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def __call__(self, data: bytes) -> None:
        self.frames.append(data)


def make_pump(source: Any, send: Any, **kw: Any) -> FramePump:
    args: dict[str, Any] = {
        "session_id": new_session_id(),
        "source": source,
        "masks": (),
        "fps": 50,
        "allowed": lambda: True,
        "send": send,
    }
    args.update(kw)
    return FramePump(**args)


async def test_frames_flow_and_stop_is_final() -> None:
    sink = Sink()
    closed: list[PumpStats] = []
    pump = make_pump(cycling_source(), sink, on_stop=closed.append)
    pump.start()
    await wait_until(lambda: len(sink.frames) >= 6)
    stats = pump.stop("paused")
    sent_at_stop = len(sink.frames)
    await pump.wait_closed()
    await asyncio.sleep(0.2)  # ten frame intervals: nothing more may arrive
    assert len(sink.frames) == sent_at_stop == stats.frames_sent
    assert closed == [stats] and stats.reason == "paused"
    headers = [unpack_frame(f)[0] for f in sink.frames]
    assert [h.seq for h in headers] == list(range(len(headers)))
    assert {h.session_id for h in headers} == {pump.session_id}
    assert unpack_frame(sink.frames[0])[1] == FRAMES[0]  # no masks: the camera's bytes
    msg = stats.close_message()
    assert (msg.reason, msg.frames_sent, msg.session_id) == (
        "paused",
        stats.frames_sent,
        pump.session_id,
    )
    assert pump.stop("again") is stats and stats.reason == "paused"


async def test_masks_are_applied_to_every_frame() -> None:
    sink = Sink()
    pump = make_pump(cycling_source(), sink, masks=LEFT_HALF, quality=90)
    pump.start()
    await wait_until(lambda: len(sink.frames) >= 4)
    pump.stop("done")
    await pump.wait_closed()
    for frame in sink.frames:
        payload = unpack_frame(frame)[1]
        assert payload not in FRAMES
        rgb = decode(payload).astype(int)
        assert rgb[:, : 160 - 16].max() <= 3  # uniformly filled
        assert rgb[:, 176:].std() > 10  # the rest is still a picture


async def test_rule_check_before_every_frame() -> None:
    sink = Sink()
    calls = []

    def allowed() -> bool | str:
        calls.append(len(sink.frames))
        return True if len(calls) <= 3 else "paused"

    pump = make_pump(cycling_source(), sink, allowed=allowed)
    await asyncio.wait_for(pump.run_until_stopped(), 10)
    assert pump.stats.reason == "paused"
    assert pump.stats.frames_sent == len(sink.frames) == 3
    assert len(calls) == 4


async def test_rule_check_false_and_exception() -> None:
    for allowed, reason in ((lambda: False, "rule_denied"), (lambda: 1 / 0, "rule_denied")):
        sink = Sink()
        pump = make_pump(cycling_source(), sink, allowed=allowed)
        await asyncio.wait_for(pump.run_until_stopped(), 10)
        assert (pump.stats.reason, sink.frames) == (reason, [])


class GatedExecutor(Executor):
    """Runs jobs on a thread but holds each one until ``release`` is set."""

    def __init__(self) -> None:
        self.inner = ThreadPoolExecutor(1)
        self.entered = threading.Event()
        self.release = threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def gated() -> Any:
            self.entered.set()
            self.release.wait(10)
            return fn(*args, **kwargs)

        return self.inner.submit(gated)


async def test_frame_in_encoding_at_stop_is_dropped() -> None:
    sink = Sink()
    executor = GatedExecutor()
    pump = make_pump(cycling_source(), sink, masks=LEFT_HALF, executor=executor)
    pump.start()
    await asyncio.get_running_loop().run_in_executor(None, executor.entered.wait, 10)
    pump.stop("revoked")
    executor.release.set()
    await pump.wait_closed()
    executor.inner.shutdown(wait=True)
    await asyncio.sleep(0.05)
    assert sink.frames == [] and pump.stats.frames_sent == 0


async def test_frame_being_grabbed_at_stop_is_dropped() -> None:
    sink = Sink()
    gate = asyncio.Event()
    grabbing = asyncio.Event()

    async def fetch() -> bytes:
        grabbing.set()
        await gate.wait()
        return FRAMES[0]

    pump = make_pump(CallableSource("slow", fetch), sink)
    pump.start()
    await grabbing.wait()
    pump.stop("hub_revoked")
    gate.set()
    await pump.wait_closed()
    assert sink.frames == []


async def test_stuck_send_stalls_only_its_own_session() -> None:
    forever = asyncio.Event()
    stuck_calls = 0

    async def stuck(_data: bytes) -> None:
        nonlocal stuck_calls
        stuck_calls += 1
        await forever.wait()

    fast = Sink()
    slow_pump = make_pump(cycling_source(), stuck, send_timeout=0.2, max_send_timeouts=2)
    fast_pump = make_pump(cycling_source(), fast)
    slow_pump.start()
    fast_pump.start()
    await wait_until(lambda: slow_pump.stopped)
    await wait_until(lambda: len(fast.frames) >= 20)
    assert not fast_pump.stopped
    fast_pump.stop("done")
    await asyncio.gather(slow_pump.wait_closed(), fast_pump.wait_closed())
    assert slow_pump.stats.reason == "send_stalled"
    assert slow_pump.stats.send_timeouts == 2 == stuck_calls
    # Frames made while the send was stuck replaced each other in the one-slot outbox.
    assert slow_pump.stats.frames_dropped > 0
    assert slow_pump.stats.frames_sent == 2  # handed over, on their way when cut


async def test_slow_send_drops_frames_never_queues() -> None:
    received: list[bytes] = []

    async def slow(data: bytes) -> None:
        await asyncio.sleep(0.1)  # five frame intervals at 50 fps
        received.append(data)

    pump = make_pump(cycling_source(), slow)
    pump.start()
    await wait_until(lambda: len(received) >= 4)
    pump.stop("done")
    await pump.wait_closed()
    assert pump.stats.frames_dropped > 0
    seqs = [unpack_frame(f)[0].seq for f in received]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seqs[-1] >= len(seqs)  # some were skipped, the newest one went


async def test_send_error_ends_session() -> None:
    async def broken(_data: bytes) -> None:
        raise ConnectionResetError("hub socket closed")

    pump = make_pump(cycling_source(), broken)
    await asyncio.wait_for(pump.run_until_stopped(), 10)
    assert pump.stats.reason == "connection_lost"
    assert pump.stats.frames_sent == 0


async def test_deadline_stops_even_a_hanging_source() -> None:
    async def hang() -> bytes:
        await asyncio.Event().wait()
        return b""  # pragma: no cover

    sink = Sink()
    pump = make_pump(CallableSource("hang", hang, timeout=30), sink, deadline=time.time() + 0.2)
    await asyncio.wait_for(pump.run_until_stopped(), 10)
    assert pump.stats.reason == "expired" and sink.frames == []


async def test_past_deadline_sends_nothing() -> None:
    sink = Sink()
    pump = make_pump(cycling_source(), sink, deadline=time.time() - 1)
    await asyncio.wait_for(pump.run_until_stopped(), 10)
    assert pump.stats.reason == "expired" and sink.frames == []


async def test_failing_source_ends_session_after_retries() -> None:
    async def garbage() -> bytes:
        return b"<html>nope</html>"

    sink = Sink()
    pump = make_pump(CallableSource("bad", garbage), sink, max_source_errors=3)
    await asyncio.wait_for(pump.run_until_stopped(), 10)
    assert pump.stats.reason == "source_error"
    assert pump.stats.source_errors == 3 and "not a JPEG" in (pump.stats.last_error or "")
    assert sink.frames == []


def test_fps_is_bounded() -> None:
    for fps in (0, -1, 61):
        with pytest.raises(ValueError, match="fps"):
            make_pump(cycling_source(), Sink(), fps=fps)


@pytest.fixture
async def go2rtc() -> AsyncIterator[tuple[StandinState, Go2rtcClient]]:
    state = StandinState(frames=frame_sequence(640, 360, 3), streams={"front": "rtsp://x"})
    state.mjpeg_fps = 40
    async with serve(state) as url:
        client = Go2rtcClient(url, timeout=5)
        yield state, client
        await client.close()


@pytest.mark.parametrize("use_mjpeg", [True, False])
async def test_go2rtc_source_through_the_pump(
    go2rtc: tuple[StandinState, Go2rtcClient], use_mjpeg: bool
) -> None:
    state, client = go2rtc
    sink = Sink()
    pump = make_pump(
        Go2rtcSource(client, "front"), sink, masks=LEFT_HALF, fps=20, use_mjpeg=use_mjpeg
    )
    pump.start()
    await wait_until(lambda: len(sink.frames) >= 5)
    if use_mjpeg:
        assert state.mjpeg_clients == 1 and state.frame_requests >= 5
    pump.stop("officer_left")
    await pump.wait_closed()
    await wait_until(lambda: state.mjpeg_clients == 0)  # the stream was closed
    for frame in sink.frames:
        rgb = decode(unpack_frame(frame)[1])
        assert rgb.shape == (360, 640, 3)
        assert int(np.max(rgb[:, : 320 - 16])) <= 3


async def test_mjpeg_failure_falls_back_to_snapshots(
    go2rtc: tuple[StandinState, Go2rtcClient],
) -> None:
    state, client = go2rtc
    sink = Sink()
    source = Go2rtcSource(client, "front")
    real_mjpeg = source.mjpeg

    def broken_stream() -> AsyncIterator[bytes]:
        async def gen() -> AsyncIterator[bytes]:
            async for frame in real_mjpeg():  # type: ignore[misc]
                yield frame
                raise SourceError("bad_image", "stream: not a JPEG (no SOI marker)")

        return gen()

    source.mjpeg = broken_stream  # type: ignore[method-assign]
    pump = make_pump(source, sink, fps=20)
    pump.start()
    await wait_until(lambda: len(sink.frames) >= 4)
    pump.stop("done")
    await pump.wait_closed()
    assert "not a JPEG" in (pump.stats.last_error or "")
    assert state.frame_requests >= 4  # went on with /api/frame.jpeg snapshots
