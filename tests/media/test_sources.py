"""CallableSource (what an HA camera entity becomes) and the MJPEG parser, with bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from custom_components.connect_share.media.sources import (
    CallableSource,
    CameraSource,
    SourceError,
    boundary_from_content_type,
    read_mjpeg,
)

from .frames import frame_sequence, huge_header_jpeg

FRAMES = frame_sequence(320, 180, 3)


async def _chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _multipart(frames: list[bytes], *, lengths: bool) -> bytes:
    out = b""
    for f in frames:
        head = b"--myboundary\r\nContent-Type: image/jpeg\r\n"
        if lengths:
            head += f"Content-Length: {len(f)}\r\n".encode()
        out += head + b"\r\n" + f + b"\r\n"
    return out


async def _collect(it: AsyncIterator[bytes]) -> list[bytes]:
    return [f async for f in it]


@pytest.mark.parametrize("lengths", [True, False])
@pytest.mark.parametrize("chunk", [7, 1000, 1_000_000])
async def test_mjpeg_parts(lengths: bool, chunk: int) -> None:
    data = _multipart(FRAMES, lengths=lengths)
    assert await _collect(read_mjpeg(_chunks(data, chunk), "myboundary")) == FRAMES


async def test_mjpeg_without_boundary_uses_jpeg_markers() -> None:
    data = b"junk" + b"".join(FRAMES)
    assert await _collect(read_mjpeg(_chunks(data, 333), None)) == FRAMES


def test_boundary_parsing() -> None:
    assert boundary_from_content_type("multipart/x-mixed-replace; boundary=frame") == "frame"
    assert boundary_from_content_type('multipart/x-mixed-replace;boundary="--ab c"') == "ab c"
    assert boundary_from_content_type("image/jpeg") is None


async def test_mjpeg_oversize_part_is_refused() -> None:
    head = b"--b\r\nContent-Length: 999999999\r\n\r\n"
    with pytest.raises(SourceError) as err:
        await _collect(read_mjpeg(_chunks(head + b"x" * 100), "b"))
    assert err.value.code == "too_large"


async def test_mjpeg_endless_part_without_length_is_bounded() -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b"--b\r\n\r\n\xff\xd8\xff"
        while True:
            yield b"\x00" * 65536

    with pytest.raises(SourceError) as err:
        await _collect(read_mjpeg(endless(), "b", max_part=1_000_000))
    assert err.value.code == "too_large"


async def test_mjpeg_garbage_part() -> None:
    data = _multipart([b"<html>oops</html>"], lengths=True)
    with pytest.raises(SourceError) as err:
        await _collect(read_mjpeg(_chunks(data), "myboundary"))
    assert err.value.code == "bad_image"


async def test_mjpeg_stalled_stream_times_out() -> None:
    async def stalls() -> AsyncIterator[bytes]:
        yield _multipart(FRAMES[:1], lengths=True)
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    it = read_mjpeg(stalls(), "myboundary", timeout=0.2)
    assert await anext(it) == FRAMES[0]
    with pytest.raises(SourceError) as err:
        await anext(it)
    assert err.value.code == "timeout"
    await it.aclose()


async def test_callable_source_ok_and_protocol() -> None:
    async def fetch() -> bytes:
        return FRAMES[0]

    source = CallableSource("camera.front", fetch)
    assert isinstance(source, CameraSource)
    assert await source.snapshot() == FRAMES[0]
    assert source.mjpeg() is None
    await source.close()


async def test_callable_source_hangs() -> None:
    async def fetch() -> bytes:
        await asyncio.Event().wait()
        return b""  # pragma: no cover

    with pytest.raises(SourceError) as err:
        await CallableSource("camera.front", fetch, timeout=0.2).snapshot()
    assert err.value.code == "timeout"


@pytest.mark.parametrize(
    ("result", "code"),
    [
        (None, "unavailable"),
        (b"garbage", "bad_image"),
        (huge_header_jpeg(), "too_large"),
        ("str", "bad_image"),
    ],
)
async def test_callable_source_bad_results(result: object, code: str) -> None:
    async def fetch() -> object:
        return result

    with pytest.raises(SourceError) as err:
        await CallableSource("camera.front", fetch).snapshot()  # type: ignore[arg-type]
    assert err.value.code == code


async def test_callable_source_wraps_exceptions() -> None:
    async def fetch() -> bytes:
        raise RuntimeError("camera offline")

    with pytest.raises(SourceError, match="camera offline") as err:
        await CallableSource("camera.front", fetch).snapshot()
    assert err.value.code == "unavailable"


async def test_callable_source_stream() -> None:
    def stream() -> AsyncIterator[bytes]:
        return _chunks(_multipart(FRAMES, lengths=True), 512)

    source = CallableSource("camera.front", lambda: None, stream=stream, boundary="myboundary")  # type: ignore[arg-type,return-value]
    it = source.mjpeg()
    assert it is not None
    assert await _collect(it) == FRAMES
