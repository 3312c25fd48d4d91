"""JPEG decode / mask / encode with hard limits checked on the header first.

Every frame that leaves the house goes through ``process_frame``. With masks it is always
decoded, masked and re-encoded; only a camera without masks may pass the camera's bytes
through, and even then the header is checked (real JPEG, size under the caps).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..protocol.messages import MAX_FRAME_BYTES
from .masks import DEFAULT_FILL, Fill, Masks, apply_masks

# 40 MP is above any security camera (8K is 33 MP) and caps a decoded frame at 120 MB.
MAX_PIXELS = 40_000_000
MAX_JPEG_BYTES = MAX_FRAME_BYTES
DEFAULT_QUALITY = 80


class FrameError(ValueError):
    """A frame that cannot be used: not a JPEG, truncated, too large. ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class FrameInfo:
    width: int
    height: int


def probe(data: bytes, *, max_pixels: int = MAX_PIXELS) -> FrameInfo:
    """Read only the header: refuse non-JPEG input and oversized images before decoding."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FrameError("bad_image", "frame is not bytes")
    if len(data) > MAX_JPEG_BYTES:
        raise FrameError("too_large", f"frame of {len(data)} bytes exceeds {MAX_JPEG_BYTES}")
    if len(data) < 4 or bytes(data[:3]) != b"\xff\xd8\xff":
        raise FrameError("bad_image", "not a JPEG (no SOI marker)")
    try:
        with warnings.catch_warnings():
            # Our own cap below is stricter and clearer than Pillow's bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as img:
                width, height = img.size
    except Image.DecompressionBombError as err:
        raise FrameError("too_large", f"image too large: {err}") from err
    except (OSError, ValueError, SyntaxError) as err:
        raise FrameError("bad_image", f"not a readable JPEG: {err}") from err
    if width <= 0 or height <= 0:
        raise FrameError("bad_image", "image has no pixels")
    if width * height > max_pixels:
        raise FrameError(
            "too_large", f"image of {width}x{height} exceeds the cap of {max_pixels} pixels"
        )
    return FrameInfo(width, height)


def decode(data: bytes, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode to a writable H x W x 3 uint8 RGB array, after the header checks."""
    probe(data, max_pixels=max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as img:
                img.load()  # raises on truncated data (LOAD_TRUNCATED_IMAGES stays False)
                rgb = img if img.mode == "RGB" else img.convert("RGB")
                return np.array(rgb, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as err:
        raise FrameError("bad_image", f"JPEG does not decode: {err}") from err


def encode(rgb: np.ndarray, *, quality: int = DEFAULT_QUALITY) -> bytes:
    if not 1 <= quality <= 95:
        raise ValueError("quality must be between 1 and 95")
    out = io.BytesIO()
    # No EXIF or other metadata is carried over: only pixels leave the house.
    Image.fromarray(rgb, "RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def process_frame(
    data: bytes,
    masks: Masks,
    *,
    quality: int = DEFAULT_QUALITY,
    fill: Fill = DEFAULT_FILL,
    max_pixels: int = MAX_PIXELS,
) -> bytes:
    """The one path from camera bytes to bytes that may leave the house.

    Masks present: decode, fill, re-encode (never the camera's own bytes). No masks: the
    camera's JPEG passes through after the header checks. CPU-bound: call it in an executor.
    """
    if not masks:
        probe(data, max_pixels=max_pixels)
        return bytes(data)
    rgb = decode(data, max_pixels=max_pixels)
    apply_masks(rgb, masks, fill)
    return encode(rgb, quality=quality)


def recode_frame(data: bytes, *, quality: int = DEFAULT_QUALITY) -> bytes:
    """Decode + encode without masks: the floor the mask benchmark compares against."""
    return encode(decode(data), quality=quality)
