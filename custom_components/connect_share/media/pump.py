"""The live-session frame pump: source -> masks -> rule check -> hub socket.

One pump per live session. It takes frames at the allowed fps (from the source's MJPEG
stream when it has one, else by snapshots), runs every frame through ``process_frame``
(masks; pass-through only without masks) in an executor, asks the integration's rule check
``allowed()`` right before each frame goes out, and hands the packed frame to ``send``.

Guarantees:
- ``stop(reason)`` is synchronous: once it returns no further frame is handed to ``send``.
  A frame being grabbed, masked or encoded at that moment is dropped.
- Back-pressure: a one-slot outbox between the pump and a sender task. If ``send`` is
  slower than the frame rate the older unsent frame is replaced (counted as dropped), so
  nothing buffers without bound and a slow socket never delays the pump or other sessions.
  A ``send`` that takes longer than ``send_timeout`` is abandoned; several in a row stop
  the session (``send_stalled``).
- ``frames_sent`` counts frames handed to ``send`` (minus sends that raised), the figure
  both audit logs record. ``send`` must write at once (aiohttp ``ws.send_bytes`` does);
  a wrapper that queues or waits for a lock first would make that count optimistic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial

from ..protocol.messages import FrameHeader, SessionClose, pack_frame
from .jpeg import DEFAULT_QUALITY, FrameError, process_frame
from .masks import Masks
from .sources import CameraSource, SourceError

_LOGGER = logging.getLogger(__name__)

MAX_FPS = 60.0
# Stop reasons the pump itself produces (the integration passes its own to ``stop``:
# paused, revoked, schedule_end, hub_revoked, officer_left, ...).
REASON_EXPIRED = "expired"
REASON_DENIED = "rule_denied"
REASON_SOURCE = "source_error"
REASON_SEND_STALLED = "send_stalled"
REASON_CONNECTION = "connection_lost"


@dataclass
class PumpStats:
    session_id: str
    frames_sent: int = 0
    frames_dropped: int = 0  # replaced in the outbox, or unsent at stop
    send_timeouts: int = 0
    source_errors: int = 0
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    reason: str | None = None
    last_error: str | None = None

    @property
    def duration_s(self) -> float:
        end = self.ended_at if self.ended_at is not None else time.time()
        return max(0.0, end - self.started_at)

    def close_message(self) -> SessionClose:
        """The ``session_close`` the installation sends the hub (and logs itself)."""
        return SessionClose(
            session_id=self.session_id,
            reason=self.reason or "closed",
            frames_sent=self.frames_sent,
            duration_s=round(self.duration_s, 3),
        )


class FramePump:
    """Run with ``start()``; end with ``stop(reason)`` then ``await wait_closed()``."""

    def __init__(
        self,
        *,
        session_id: str,
        source: CameraSource,
        masks: Masks,
        fps: float,
        allowed: Callable[[], bool | str],
        send: Callable[[bytes], Awaitable[object]],
        deadline: float | None = None,
        on_stop: Callable[[PumpStats], object] | None = None,
        quality: int = DEFAULT_QUALITY,
        send_timeout: float = 2.0,
        max_send_timeouts: int = 3,
        max_source_errors: int = 5,
        use_mjpeg: bool = True,
        executor: Executor | None = None,
    ) -> None:
        """``allowed()`` is the integration's token + rule check, called before every frame:
        ``True`` lets the frame go; ``False`` or a reason string stops the session.
        ``deadline`` (epoch seconds: token expiry, schedule end, max session length) stops
        the session by itself. ``on_stop`` gets the final stats exactly once."""
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"fps must be in (0, {MAX_FPS}]")
        self.session_id = session_id
        self.source = source
        self.masks = masks
        self.fps = fps
        self._allowed = allowed
        self._send = send
        self._deadline = deadline
        self._on_stop = on_stop
        self._quality = quality
        self._send_timeout = send_timeout
        self._max_send_timeouts = max_send_timeouts
        self._max_source_errors = max_source_errors
        self._use_mjpeg = use_mjpeg
        self._executor = executor
        self.stats = PumpStats(session_id)
        self._stopped = False
        self._tasks: list[asyncio.Task[None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._outbox: bytes | None = None
        self._outbox_ready = asyncio.Event()
        self._latest: tuple[bytes, int] | None = None  # from the MJPEG reader
        self._fresh = asyncio.Event()
        self._streaming = False
        self._stream_failed = False
        self._seq = 0

    @property
    def stopped(self) -> bool:
        return self._stopped

    def start(self) -> None:
        if self._tasks or self._stopped:
            raise RuntimeError("a pump starts once")
        loop = asyncio.get_running_loop()
        self.stats.started_at = time.time()
        if self._deadline is not None:
            self._timer = loop.call_later(
                max(0.0, self._deadline - time.time()), self.stop, REASON_EXPIRED
            )
        stream = self.source.mjpeg() if self._use_mjpeg else None
        self._streaming = stream is not None
        name = f"connect_share pump {self.session_id[:8]}"
        if stream is not None:
            self._tasks.append(loop.create_task(self._read_stream(stream), name=name + " reader"))
        self._tasks.append(loop.create_task(self._run(), name=name))
        self._tasks.append(loop.create_task(self._sender(), name=name + " sender"))

    def stop(self, reason: str) -> PumpStats:
        """Stop now. Synchronous on purpose: no frame is handed to ``send`` after this."""
        if self._stopped:
            return self.stats
        self._stopped = True
        self.stats.reason = reason
        self.stats.ended_at = time.time()
        if self._outbox is not None:
            self._outbox = None
            self.stats.frames_dropped += 1
        if self._timer is not None:
            self._timer.cancel()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if self._on_stop is not None:
            try:
                self._on_stop(self.stats)
            except Exception:
                _LOGGER.exception("on_stop callback failed for session %s", self.session_id)
        return self.stats

    async def wait_closed(self) -> PumpStats:
        """Wait until every task of this pump has ended (after ``stop``)."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.stats

    async def run_until_stopped(self) -> PumpStats:
        if not self._tasks:
            self.start()
        await self.wait_closed()
        return self.stats

    # --- frames in ----------------------------------------------------------------------

    async def _read_stream(self, stream: AsyncIterator[bytes]) -> None:
        """Keep only the newest frame of the MJPEG stream: older ones are never queued."""
        try:
            async for frame in stream:
                self._latest = (frame, int(time.time() * 1000))
                self._fresh.set()
        except SourceError as err:
            self.stats.last_error = str(err)
            _LOGGER.debug("session %s: stream failed, polling snapshots: %s", self.session_id, err)
        finally:
            self._stream_failed = True
            self._fresh.set()
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]

    async def _grab(self) -> tuple[bytes, int]:
        if self._streaming and not self._stream_failed:
            await self._fresh.wait()
            self._fresh.clear()
            if self._latest is not None:
                latest, self._latest = self._latest, None
                return latest
        # No stream, or it failed: poll snapshots (each with the source's timeout).
        return await self.source.snapshot(), int(time.time() * 1000)

    # --- the pump -------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.fps
        next_at = loop.time()
        errors = 0
        try:
            while not self._stopped:
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                # Never burst to catch up after a slow frame: the rate is a ceiling.
                next_at = max(next_at + interval, loop.time())
                try:
                    jpeg, captured_ms = await self._grab()
                    payload = await loop.run_in_executor(
                        self._executor,
                        partial(process_frame, jpeg, self.masks, quality=self._quality),
                    )
                except (SourceError, FrameError) as err:
                    errors += 1
                    self.stats.source_errors += 1
                    self.stats.last_error = str(err)
                    if errors >= self._max_source_errors:
                        self.stop(REASON_SOURCE)
                    continue
                errors = 0
                if self.stopped:
                    return  # stopped while this frame was being prepared: drop it
                if not self._check():
                    return
                header = FrameHeader(self.session_id, self._seq, captured_ms)
                self._seq += 1
                if self._outbox is not None:
                    self.stats.frames_dropped += 1  # the sender has not caught up
                self._outbox = pack_frame(header, payload)
                self._outbox_ready.set()
        except Exception as err:  # keep the session's end recorded, whatever happened
            _LOGGER.exception("session %s: pump failed", self.session_id)
            self.stats.last_error = repr(err)
            self.stop(REASON_SOURCE)

    def _check(self) -> bool:
        if self._deadline is not None and time.time() >= self._deadline:
            self.stop(REASON_EXPIRED)
            return False
        try:
            verdict = self._allowed()
        except Exception:
            _LOGGER.exception("session %s: rule check failed; stopping", self.session_id)
            verdict = False
        if verdict is True:
            return True
        self.stop(verdict if isinstance(verdict, str) and verdict else REASON_DENIED)
        return False

    async def _sender(self) -> None:
        timeouts = 0
        while not self._stopped:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            frame, self._outbox = self._outbox, None
            if frame is None or self._stopped:
                continue
            # Counted when handed over: aiohttp's ``send_bytes`` writes the whole frame to
            # the transport before it awaits the drain, so a frame whose send is cut by a
            # timeout or by ``stop`` is on its way and must be in the audit count.
            self.stats.frames_sent += 1
            try:
                async with asyncio.timeout(self._send_timeout):
                    await self._send(frame)
            except TimeoutError:
                timeouts += 1
                self.stats.send_timeouts += 1
                if timeouts >= self._max_send_timeouts:
                    self.stop(REASON_SEND_STALLED)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.stats.frames_sent -= 1  # the socket refused it: it did not leave
                self.stats.last_error = repr(err)
                self.stop(REASON_CONNECTION)
                return
            timeouts = 0
