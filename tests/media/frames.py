"""Real JPEG frames for the media tests and benchmarks (from ../shared/testdata/images)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image

from tests.conftest import SHARED

IMAGES = SHARED / "testdata" / "images"
PHOTOS = ("cat_720p.jpg", "kite_and_cold.jpg", "grace_hopper.bmp", "squat.bmp")


@lru_cache(maxsize=32)
def photo_jpeg(name: str, width: int, height: int, quality: int = 85) -> bytes:
    """A real photograph scaled to width x height, as JPEG."""
    path = Path(IMAGES / name)
    with Image.open(path) as img:
        rgb = img.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality)
    return out.getvalue()


def frame_sequence(width: int, height: int, count: int = 4) -> list[bytes]:
    """Distinct real frames (different photos) so a stream visibly changes."""
    return [photo_jpeg(PHOTOS[i % len(PHOTOS)], width, height) for i in range(count)]


def huge_header_jpeg(width: int = 10_000, height: int = 10_000) -> bytes:
    """A small valid JPEG whose SOF header claims width x height (a decompression bomb)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 20, 30)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    data[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(data)
