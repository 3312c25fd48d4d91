"""Short MP4 clips from go2rtc (``GET /api/stream.mp4?src=<stream>&duration=<s>``).

go2rtc remuxes the camera's stream into fragmented MP4 and ends the response after
``duration`` seconds. The body is streamed to a temp file beside the target and renamed
into place only when complete and MP4-shaped, so a failed recording leaves nothing behind.
Clips are not masked (polygon masks need re-encoding): the integration records them only
for cameras without masks, or keeps them local.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import aiohttp

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_CHUNK = 64 * 1024


class ClipError(Exception):
    """The clip could not be recorded (message says why)."""


def _is_mp4_start(head: bytes) -> bool:
    # An MP4 starts with a box: 4-byte size, then its type; go2rtc sends ftyp first.
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"styp")


async def record_clip(
    session: aiohttp.ClientSession,
    go2rtc_url: str,
    stream: str,
    duration_s: int,
    dest: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float | None = None,
) -> Path:
    """Record ``duration_s`` seconds of ``stream`` to ``dest``; ClipError on any failure."""
    if not 1 <= duration_s <= 600:
        raise ClipError("a clip lasts 1 to 600 seconds")
    url = go2rtc_url.rstrip("/") + "/api/stream.mp4"
    params = {"src": stream, "duration": str(duration_s)}
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: dest.parent.mkdir(parents=True, exist_ok=True))
    fd, name = await loop.run_in_executor(
        None, lambda: tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    )
    tmp = Path(name)
    handle = os.fdopen(fd, "wb")
    received = 0
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s or duration_s + 30, sock_connect=10)
        try:
            async with session.get(url, params=params, timeout=timeout) as resp:
                if resp.status != 200:
                    text = (await resp.text(errors="replace"))[:200]
                    raise ClipError(f"go2rtc answered HTTP {resp.status} for {stream!r}: {text}")
                head = b""
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    if received < 8:
                        head += chunk[:8]
                    received += len(chunk)
                    if received > max_bytes:
                        raise ClipError(f"the clip is larger than {max_bytes} bytes")
                    await loop.run_in_executor(None, handle.write, chunk)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ClipError(f"recording {stream!r} from go2rtc failed: {err!r}") from err
        if received == 0 or not _is_mp4_start(head):
            raise ClipError(f"go2rtc sent no MP4 for {stream!r} ({received} bytes)")
        await loop.run_in_executor(None, handle.close)
        await loop.run_in_executor(None, os.replace, tmp, dest)
    except BaseException:
        handle.close()
        tmp.unlink(missing_ok=True)
        raise
    return dest
