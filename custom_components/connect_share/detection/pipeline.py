"""One camera's detection loop: frame -> motion gate -> detector -> events -> store.

The integration creates one ``CameraDetection`` per camera with detection enabled, all
sharing one ``AsyncDetector`` (one interpreter, one worker thread) and one ``EventStore``.
It either calls ``process(jpeg)`` itself or hands ``run()`` a coroutine that fetches a
frame (go2rtc ``/api/frame.jpeg``, a camera entity's image) and runs it as a background task.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from .detector import AsyncDetector, InvalidImage
from .event_store import EventStore, MaskFn
from .events import Change, DetectionEvent, EventChange, EventTracker
from .mask_filter import MaskedArea
from .motion import MotionGate

_LOGGER = logging.getLogger(__name__)

ChangeCallback = Callable[[EventChange], None]


class BlockingRunner(Protocol):
    """Runs ``func(*args)`` off the event loop (e.g. ``hass.async_add_executor_job``)."""

    def __call__[*Ts, R](self, func: Callable[[*Ts], R], /, *args: *Ts) -> Awaitable[R]: ...


# Records a clip for a new event into the given path (e.g. clips.record_clip bound to a
# go2rtc stream); the path exists when it returns.
ClipRecorder = Callable[[DetectionEvent, Path], Awaitable[Path]]


async def _default_runner[*Ts, R](func: Callable[[*Ts], R], /, *args: *Ts) -> R:
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


class CameraDetection:
    """Per-camera state. Not re-entrant: one frame at a time (``run`` guarantees it).

    - ``mask``: applied to snapshots before the store writes them (resident's choice);
      with ``mask_before_detect`` (default) it is applied to every frame that passed the
      motion gate before detection, so nobody in a masked area (a neighbour's yard) makes
      an event, a snapshot or a count in the summaries the hub may see;
    - ``masked_area``: the same polygons as geometry; detections mostly inside them are
      dropped (a filled polygon can look like a "tv" to the model);
    - ``on_change``: called on the event loop for every start/update/end, after the store
      saved it; the integration updates entities and fires HA events from it;
    - ``run_blocking``: how to run the store's file I/O (``hass.async_add_executor_job``);
    - ``record_clip``: when set (go2rtc configured, camera without masks), a clip is recorded
      from each event's start and attached to the event in the store.
    """

    def __init__(
        self,
        camera_id: str,
        detector: AsyncDetector,
        store: EventStore | None = None,
        *,
        motion: MotionGate | None = None,
        tracker: EventTracker | None = None,
        mask: MaskFn | None = None,
        on_change: ChangeCallback | None = None,
        run_blocking: BlockingRunner | None = None,
        record_clip: ClipRecorder | None = None,
        mask_before_detect: bool = True,
        masked_area: MaskedArea | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.detector = detector
        self.store = store
        self.motion = motion or MotionGate()
        self.tracker = tracker or EventTracker(camera_id)
        self.mask = mask
        self.on_change = on_change
        self._run_blocking = run_blocking or _default_runner
        self._record_clip = record_clip
        self.mask_before_detect = mask_before_detect and mask is not None
        self.masked_area = masked_area
        self._clip_tasks: set[asyncio.Task[None]] = set()
        self.frames = 0
        self.detected_frames = 0
        self.errors = 0

    async def process(self, jpeg: bytes, now: float | None = None) -> list[EventChange]:
        """Feed one frame. Bad frames are counted and skipped, never raised."""
        now = time.time() if now is None else now
        self.frames += 1
        try:
            result = await self.detector.run(self.motion.check, jpeg)
            if result.motion:
                frame = jpeg
                if self.mask_before_detect:
                    assert self.mask is not None
                    frame = await self.detector.run(self.mask, jpeg)
                self.detected_frames += 1
                found = await self.detector.detect(frame)
                if self.masked_area is not None:
                    found = self.masked_area.keep(found)
                changes = self.tracker.observe(now, found, frame)
            else:
                changes = self.tracker.tick(now)
        except (InvalidImage, ValueError) as err:
            # InvalidImage, or the mask refusing the frame (it is a ValueError too): the
            # frame is skipped, never detected or stored unmasked.
            self.errors += 1
            _LOGGER.debug("%s: skipping a bad frame: %s", self.camera_id, err)
            changes = self.tracker.tick(now)
        await self._publish(changes)
        return changes

    async def tick(self, now: float | None = None) -> list[EventChange]:
        """End a quiet event when no frames arrive (camera offline)."""
        changes = self.tracker.tick(time.time() if now is None else now)
        await self._publish(changes)
        return changes

    async def close(self, now: float | None = None) -> list[EventChange]:
        """End the running event and stop clip recordings (detection off, unloading)."""
        changes = self.tracker.close(time.time() if now is None else now)
        await self._publish(changes)
        for task in list(self._clip_tasks):
            task.cancel()
        await self.wait_for_clips()
        return changes

    async def _publish(self, changes: list[EventChange]) -> None:
        for change in changes:
            if self.store is not None:
                try:
                    if self.mask_before_detect:  # the snapshot is a masked frame already
                        await self._run_blocking(
                            functools.partial(self.store.save, change.event, masked=True)
                        )
                    else:
                        await self._run_blocking(self.store.save, change.event, self.mask)
                except OSError:
                    _LOGGER.exception("%s: could not store event", self.camera_id)
            if change.kind is Change.START and self._record_clip and self.store is not None:
                task = asyncio.get_running_loop().create_task(self._clip(change.event))
                self._clip_tasks.add(task)
                task.add_done_callback(self._clip_tasks.discard)
            if change.kind is Change.END:
                change.event.best_snapshot = None  # stored (masked) or dropped: free it
            if self.on_change is not None:
                self.on_change(change)

    async def _clip(self, event: DetectionEvent) -> None:
        assert self._record_clip is not None and self.store is not None
        dest = self.store.root / ".clips" / f"{event.event_id}.mp4"
        try:
            path = await self._record_clip(event, dest)
            await self._run_blocking(self.store.attach_clip, self.camera_id, event.event_id, path)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a clip is a bonus: the event stands without it
            _LOGGER.warning("%s: no clip for event %s: %s", self.camera_id, event.event_id, err)

    async def wait_for_clips(self) -> None:
        """Wait for clips being recorded (tests, and unloading without losing them)."""
        if self._clip_tasks:
            await asyncio.gather(*self._clip_tasks, return_exceptions=True)

    async def run(
        self,
        fetch: Callable[[], Awaitable[bytes]],
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Fetch and process a frame every ``interval_s`` until cancelled.

        A failing fetch (camera offline) is logged and retried at the same rate; it never
        ends the loop. On cancellation the running event is closed.
        """
        try:
            while True:
                started = clock()
                try:
                    frame = await fetch()
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # any camera error: keep the loop alive
                    self.errors += 1
                    _LOGGER.debug("%s: frame fetch failed: %s", self.camera_id, err)
                    await self.tick()
                else:
                    await self.process(frame)
                await asyncio.sleep(max(0.0, interval_s - (clock() - started)))
        finally:
            await asyncio.shield(self.close())
