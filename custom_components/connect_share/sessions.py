"""One live view session: frames from a Home Assistant camera through the media pump.

A ``snapshot`` session sends exactly one masked frame (``media.snapshot.take_snapshot``:
rule check, grab, mask, rule check) and then closes itself with ``snapshot_sent``.

The pump (``media/pump.py``) asks ``allowed()`` (the access gate through
``LiveSessions.check_frame``: pause, revocation, token expiry, session length) right before
every frame, applies the privacy masks with ``process_frame`` and hands frames to ``send``,
which checks once more right before the write, so a revoke stops the very next frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from .protocol.messages import FrameHeader, pack_frame
from .protocol.tokens import AccessGrant

if TYPE_CHECKING:
    from .context import InstallationContext
    from .rules import Verdict


class SessionHost(Protocol):
    """What a session needs from its owner (``live.LiveSessions``), and nothing more."""

    @property
    def ctx(self) -> InstallationContext: ...

    def check_frame(self, session: LiveSession) -> Verdict: ...

    async def ended(self, session: LiveSession, reason: str) -> None: ...


_LOGGER = logging.getLogger(__name__)
SNAPSHOT_TIMEOUT_S = 10

try:  # The media package needs numpy and Pillow; without them nothing can be masked.
    from .camera_sources import build_source, camera_available, uses_stream
    from .media.masks import MaskError, parse_masks
    from .media.pump import FramePump, PumpStats
    from .media.snapshot import NotAllowed, take_snapshot
    from .media.sources import SourceError
except ImportError:  # pragma: no cover - depends on the environment
    FramePump = None  # type: ignore[assignment,misc]


class LiveSession:
    def __init__(
        self,
        host: SessionHost,
        *,
        session_id: str,
        camera_id: str,
        scope: str,
        grant: AccessGrant,
        requested_fps: float,
        fps: float,
        started_at: float,
        deadline: float,
        masks_text: str,
    ) -> None:
        self.host = host
        self.hass = host.ctx.hass
        self.session_id = session_id
        self.camera_id = camera_id
        self.scope = scope
        self.grant = grant
        self.requested_fps = requested_fps
        self.fps = max(0.1, fps)
        self.started_at = started_at
        self.deadline = deadline
        # Officers' players receiving frames, as the hub reports (SessionViewers).
        self.viewers = 0
        self.stopping = False
        self._masks_text = masks_text
        self._masks: Any = ()
        self._pump: Any = None
        self._source: Any = None
        self._frames_at_stop = 0
        self._snapshot: asyncio.Task[None] | None = None
        self._snapshot_frames = 0

    @property
    def frames_sent(self) -> int:
        return self._pump.stats.frames_sent if self._pump is not None else self._snapshot_frames

    def unavailable_reason(self) -> str | None:
        """Why this session cannot run at all (checked before it is logged as started)."""
        if FramePump is None:
            return "not_implemented"
        options = self.host.ctx.entry.options
        if not camera_available(self.hass, options, self.camera_id):
            return "camera_unavailable"
        try:
            self._source = build_source(
                self.hass, options, self.camera_id, timeout=SNAPSHOT_TIMEOUT_S
            )
        except SourceError:
            return "camera_unavailable"
        try:
            self._masks = parse_masks(self._masks_text)
        except MaskError:
            # Deny by default: a mask we cannot apply means nothing may leave.
            return "bad_masks"
        return None

    def start(self) -> None:
        if self.scope == "snapshot":
            self._snapshot = self.host.ctx.entry.async_create_background_task(
                self.hass,
                self._send_snapshot(),
                f"connect_share snapshot {self.session_id}",
            )
            return
        self._pump = FramePump(
            session_id=self.session_id,
            source=self._source,
            masks=self._masks,
            fps=self.fps,
            allowed=self._allowed,
            send=self._send,
            deadline=self.deadline,
            on_stop=self._on_pump_stop,
            # HA camera entities and ONVIF give snapshots; go2rtc streams MJPEG.
            use_mjpeg=uses_stream(self._source),
        )
        self._pump.start()

    async def _send_snapshot(self) -> None:
        """One masked frame, then the session ends (the hub closes its side too)."""
        reason = "snapshot_sent"
        try:
            jpeg = await take_snapshot(self._source, self._masks, allowed=self._allowed)
            header = FrameHeader(
                session_id=self.session_id, seq=0, captured_ms=int(time.time() * 1000)
            )
            # Counted once handed to the socket (as the pump does), even if a stop cancels
            # this task right after the write.
            self._snapshot_frames = 1
            try:
                await self._send(pack_frame(header, jpeg))
            except ConnectionError:
                self._snapshot_frames = 0
                raise
        except NotAllowed as err:
            reason = err.reason
        except SourceError:
            reason = "source_error"
        except ConnectionError:
            reason = "connection_lost"
        if self.stopping:
            return
        self.stopping = True
        await self._close_source()
        await self.host.ended(self, reason)

    async def _close_source(self) -> None:
        if self._source is not None:
            source, self._source = self._source, None
            try:
                await source.close()
            except Exception:  # a camera that fails to close must not keep the session
                _LOGGER.debug("session %s: closing the source failed", self.session_id)

    def _allowed(self) -> bool | str:
        verdict = self.host.check_frame(self)
        return True if verdict.allowed else (verdict.reason or "rule_denied")

    async def _send(self, frame: bytes) -> None:
        sent = await self.host.ctx.connection.send_bytes(
            frame, guard=lambda: not self.stopping and self.host.check_frame(self).allowed
        )
        if not sent:
            # Tells the pump the frame did not leave (it is not counted) and ends the session.
            raise ConnectionError("frame not sent")

    def _on_pump_stop(self, stats: PumpStats) -> None:
        """The pump stopped by itself (deadline, rule refusal, camera or socket error)."""
        if self.stopping:
            return
        self.stopping = True
        self.host.ctx.entry.async_create_background_task(
            self.hass,
            self._finish(stats.reason or "closed"),
            f"connect_share session end {self.session_id}",
        )

    async def _finish(self, reason: str) -> None:
        if self._pump is not None:
            await self._pump.wait_closed()
        await self._close_source()
        await self.host.ended(self, reason)

    async def stop(self, reason: str) -> None:
        if self.stopping:
            return
        # From here on check_frame refuses and the pump hands nothing more to send.
        self.stopping = True
        if self._pump is not None:
            self._pump.stop(reason)
            try:
                await self._pump.wait_closed()
            except asyncio.CancelledError:
                raise
        if self._snapshot is not None and not self._snapshot.done():
            self._snapshot.cancel()  # a frame being grabbed or masked now never leaves
            await asyncio.wait([self._snapshot])
        await self._close_source()
        await self.host.ended(self, reason)

    def as_dict(self) -> dict[str, Any]:
        c = self.grant.claims
        return {
            "session_id": self.session_id,
            "camera": self.camera_id,
            "officer": c.officer_name,
            "badge": c.badge,
            "incident_id": c.incident_id,
            "case_number": c.case_number,
            "started": self.started_at,
            "until": self.deadline,
            "scope": self.scope,
            "viewers": self.viewers,
            "frames_sent": self.frames_sent,
        }
