"""Camera sources behind one interface, with a timeout and a JPEG check on every call.

A source gives JPEG snapshots (``snapshot()``) and optionally a continuous MJPEG stream
(``mjpeg()``). Whatever goes wrong (a camera that hangs, answers HTML, or claims a
10,000 x 10,000 picture) surfaces as ``SourceError`` with a stable ``code``, never as a
hang or a stray exception type.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, runtime_checkable

from .jpeg import MAX_JPEG_BYTES, FrameError, probe

DEFAULT_TIMEOUT = 10.0


class SourceError(Exception):
    """A camera source failed. ``code``: timeout, bad_image, too_large, unavailable, auth,
    not_found, unsupported."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@runtime_checkable
class CameraSource(Protocol):
    name: str

    async def snapshot(self) -> bytes:
        """One JPEG frame, checked (a real JPEG under the size caps)."""

    def mjpeg(self) -> AsyncIterator[bytes] | None:
        """A continuous stream of checked JPEG frames, or None if the source has none."""

    async def close(self) -> None: ...


def check_jpeg(data: object, where: str) -> bytes:
    """Refuse anything that is not a JPEG under the caps, as a SourceError."""
    if not isinstance(data, bytes | bytearray):
        raise SourceError("bad_image", f"{where}: returned {type(data).__name__}, not bytes")
    try:
        probe(bytes(data))
    except FrameError as err:
        raise SourceError(err.code, f"{where}: {err}") from err
    return bytes(data)


async def with_timeout[T](awaitable: Awaitable[T], timeout: float, where: str) -> T:
    try:
        async with asyncio.timeout(timeout):
            return await awaitable
    except TimeoutError as err:
        raise SourceError("timeout", f"{where}: no answer within {timeout:g} s") from err


class CallableSource:
    """Wraps any coroutine function returning JPEG bytes (e.g. a Home Assistant camera's
    ``async_camera_image`` via ``homeassistant.components.camera.async_get_image``), adding
    the timeout and the JPEG check. ``stream`` optionally yields raw MJPEG chunks."""

    def __init__(
        self,
        name: str,
        fetch: Callable[[], Awaitable[bytes | None]],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        stream: Callable[[], AsyncIterator[bytes]] | None = None,
        boundary: str | None = None,
    ) -> None:
        self.name = name
        self._fetch = fetch
        self._timeout = timeout
        self._stream = stream
        self._boundary = boundary

    async def snapshot(self) -> bytes:
        try:
            data = await with_timeout(self._fetch(), self._timeout, self.name)
        except SourceError:
            raise
        except Exception as err:  # any camera integration's error becomes one type
            raise SourceError("unavailable", f"{self.name}: {err!r}") from err
        if data is None:
            raise SourceError("unavailable", f"{self.name}: no image")
        return check_jpeg(data, self.name)

    def mjpeg(self) -> AsyncIterator[bytes] | None:
        if self._stream is None:
            return None
        return read_mjpeg(self._stream(), self._boundary, timeout=self._timeout, where=self.name)

    async def close(self) -> None:
        return None


# --- MJPEG (multipart/x-mixed-replace) parsing ----------------------------------------------

_BOUNDARY_RE = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)


def boundary_from_content_type(content_type: str) -> str | None:
    match = _BOUNDARY_RE.search(content_type or "")
    if not match:
        return None
    value = match.group(1).strip()
    return value[2:] if value.startswith("--") else value


async def read_mjpeg(
    chunks: AsyncIterator[bytes],
    boundary: str | None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    where: str = "mjpeg",
    max_part: int = MAX_JPEG_BYTES,
) -> AsyncIterator[bytes]:
    """Split a multipart MJPEG byte stream into checked JPEG frames.

    Uses each part's Content-Length when present, else scans to the next boundary (cameras
    differ). Every wait for data has ``timeout``; a part over ``max_part`` is an error rather
    than a growing buffer.
    """
    buf = bytearray()
    it = chunks.__aiter__()
    delim = b"--" + boundary.encode() if boundary else None

    async def more() -> bool:
        try:
            chunk = await with_timeout(anext(it), timeout, where)
        except StopAsyncIteration:
            return False
        buf.extend(chunk)
        if len(buf) > max_part + 4096:
            raise SourceError("too_large", f"{where}: MJPEG part over {max_part} bytes")
        return True

    while True:
        if delim is None:
            # No boundary known: frame on JPEG markers (SOI ... EOI).
            start = buf.find(b"\xff\xd8")
            end = buf.find(b"\xff\xd9", start + 2) if start >= 0 else -1
            if start >= 0 and end >= 0:
                frame = bytes(buf[start : end + 2])
                del buf[: end + 2]
                yield check_jpeg(frame, where)
                continue
            if start < 0:
                buf.clear()
            if not await more():
                return
            continue
        head_at = buf.find(delim)
        header_end = buf.find(b"\r\n\r\n", head_at) if head_at >= 0 else -1
        if header_end < 0:
            if not await more():
                return
            continue
        headers = bytes(buf[head_at + len(delim) : header_end]).decode("latin-1")
        body_at = header_end + 4
        length = _content_length(headers)
        if length is not None:
            if length > max_part:
                raise SourceError("too_large", f"{where}: MJPEG part of {length} bytes")
            while len(buf) < body_at + length:
                if not await more():
                    return
            frame = bytes(buf[body_at : body_at + length])
            del buf[: body_at + length]
        else:
            marker = b"\r\n" + delim
            nxt = buf.find(marker, body_at)
            while nxt < 0:
                # Search only the new bytes (plus an overlap), not the whole part again.
                search_from = max(body_at, len(buf) - len(marker))
                if not await more():
                    # The stream ended: its last part runs to the end.
                    tail = bytes(buf[body_at:]).rstrip(b"\r\n")
                    if tail:
                        yield check_jpeg(tail, where)
                    return
                nxt = buf.find(marker, search_from)
            frame = bytes(buf[body_at:nxt])
            del buf[:nxt]
        yield check_jpeg(frame, where)


def _content_length(headers: str) -> int | None:
    for line in headers.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                return int(value.strip())
            except ValueError as err:
                raise SourceError("bad_image", f"bad Content-Length {value!r}") from err
    return None
