"""One live view session: frames from a Home Assistant camera, masked, checked, sent.

Before every frame the manager's rule check runs again (pause, revocation, token expiry,
session length), and once more under the socket's send lock, so a revoke stops the very
next frame. Masks are applied by the media package before bytes leave the house.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from homeassistant.components.camera import async_get_image
from homeassistant.exceptions import HomeAssistantError

from .protocol.messages import FrameHeader, pack_frame
from .protocol.tokens import AccessGrant

if TYPE_CHECKING:
    from .manager import ConnectShareManager

_LOGGER = logging.getLogger(__name__)
SNAPSHOT_TIMEOUT_S = 10.0

try:  # The media package needs numpy and Pillow; without them nothing can be masked.
    from .media.jpeg import FrameError, process_frame
except ImportError:  # pragma: no cover - depends on the environment
    process_frame = None  # type: ignore[assignment]
    FrameError = ValueError  # type: ignore[assignment,misc]


class LiveSession:
    def __init__(
        self,
        manager: ConnectShareManager,
        *,
        session_id: str,
        camera_id: str,
        scope: str,
        grant: AccessGrant,
        requested_fps: float,
        fps: float,
        masks: Any,
    ) -> None:
        self.manager = manager
        self.session_id = session_id
        self.camera_id = camera_id
        self.scope = scope
        self.grant = grant
        self.requested_fps = requested_fps
        self.fps = max(0.1, fps)
        self.masks = masks
        self.started_at = time.time()
        self.frames_sent = 0
        self.stopping = False
        self._task: asyncio.Task[None] | None = None

    def unavailable_reason(self) -> str | None:
        """Why this session cannot run at all (checked before it is logged as started)."""
        if process_frame is None:
            return "not_implemented"
        if self.manager.hass.states.get(self.camera_id) is None:
            return "camera_unavailable"
        return None

    def start(self) -> None:
        self._task = self.manager.entry.async_create_background_task(
            self.manager.hass, self._run(), f"connect_share session {self.session_id}"
        )

    async def stop(self, reason: str) -> None:
        if self.stopping:
            return
        # From here on check_frame refuses, so nothing more is sent even before the cancel.
        self.stopping = True
        task = self._task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.manager.session_ended(self, reason)

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
            "frames_sent": self.frames_sent,
        }

    async def _run(self) -> None:
        reason = "ended"
        hass = self.manager.hass
        interval = 1.0 / self.fps
        try:
            while True:
                started = time.monotonic()
                verdict = self.manager.check_frame(self)
                if not verdict.allowed:
                    reason = verdict.reason
                    break
                try:
                    image = await async_get_image(
                        hass, self.camera_id, timeout=int(SNAPSHOT_TIMEOUT_S)
                    )
                    assert process_frame is not None
                    payload = await hass.async_add_executor_job(
                        process_frame, image.content, self.masks
                    )
                except (HomeAssistantError, FrameError, TimeoutError) as err:
                    _LOGGER.warning("Session %s: camera frame failed: %s", self.session_id, err)
                    reason = "camera_error"
                    break
                frame = pack_frame(
                    FrameHeader(self.session_id, self.frames_sent, int(time.time() * 1000)),
                    payload,
                )
                sent = await self.manager.connection.send_bytes(
                    frame, guard=lambda: self.manager.check_frame(self).allowed
                )
                if not sent:
                    verdict = self.manager.check_frame(self)
                    reason = verdict.reason if not verdict.allowed else "send_failed"
                    break
                self.frames_sent += 1
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("Session %s failed", self.session_id)
            reason = "error"
        if not self.stopping:
            self.stopping = True
            await self.manager.session_ended(self, reason)
