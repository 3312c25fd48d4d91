"""Single snapshots under a ``snapshot`` scope, through the same masked path as live frames,
and the guard for WebRTC (go2rtc) which is only allowed for cameras without masks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial

from .go2rtc import Go2rtcClient
from .jpeg import DEFAULT_QUALITY, FrameError, process_frame
from .masks import Masks
from .sources import CameraSource, SourceError


class NotAllowed(Exception):
    """The rule check refused; ``reason`` is what the audit log records."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check(allowed: Callable[[], bool | str]) -> None:
    verdict = allowed()
    if verdict is not True:
        raise NotAllowed(verdict if isinstance(verdict, str) and verdict else "rule_denied")


async def take_snapshot(
    source: CameraSource,
    masks: Masks,
    *,
    allowed: Callable[[], bool | str],
    quality: int = DEFAULT_QUALITY,
    executor: Executor | None = None,
) -> bytes:
    """One JPEG that may leave the house: rule check, grab, mask, rule check again.

    The second check catches a pause or revoke that came while the camera answered.
    Raises ``NotAllowed`` or ``SourceError`` (bad frames become ``SourceError`` too).
    """
    _check(allowed)
    jpeg = await source.snapshot()
    try:
        out = await asyncio.get_running_loop().run_in_executor(
            executor, partial(process_frame, jpeg, masks, quality=quality)
        )
    except FrameError as err:
        raise SourceError(err.code, f"{source.name}: {err}") from err
    _check(allowed)
    return out


async def webrtc_answer(client: Go2rtcClient, stream: str, masks: Masks, offer_sdp: str) -> str:
    """go2rtc's SDP answer for an officer's offer, only for a camera without masks: WebRTC
    media bypasses this process, so masks could not be applied."""
    if masks:
        raise NotAllowed("masked_camera")
    return await client.webrtc_answer(stream, offer_sdp)
