"""Decode / mask / encode: caps on the header, garbage refused, masks always applied."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from custom_components.connect_share.media.jpeg import (
    FrameError,
    decode,
    encode,
    probe,
    process_frame,
)
from custom_components.connect_share.media.masks import parse_masks, rasterize

from .frames import huge_header_jpeg, photo_jpeg

QUARTER = parse_masks("[[[0,0],[0.5,0],[0.5,0.5],[0,0.5]]]")


def test_probe_reads_size() -> None:
    info = probe(photo_jpeg("cat_720p.jpg", 1280, 720))
    assert (info.width, info.height) == (1280, 720)


def test_10000x10000_is_refused_before_decoding() -> None:
    data = huge_header_jpeg()
    assert len(data) < 2000
    with pytest.raises(FrameError, match="10000x10000") as err:
        decode(data)
    assert err.value.code == "too_large"
    with pytest.raises(FrameError):
        process_frame(data, ())  # the pass-through path checks the header too


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00" * 100, b"<html>502 Bad Gateway</html>", b"\xff\xd8\xff" + b"\x00" * 50],
)
def test_garbage_is_a_clear_error(garbage: bytes) -> None:
    with pytest.raises(FrameError) as err:
        process_frame(garbage, QUARTER)
    assert err.value.code == "bad_image"


def test_png_is_not_a_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    with pytest.raises(FrameError, match="not a JPEG"):
        probe(out.getvalue())


def test_truncated_jpeg_is_refused() -> None:
    data = photo_jpeg("cat_720p.jpg", 640, 360)
    with pytest.raises(FrameError):
        decode(data[: len(data) // 2])


def test_no_masks_passes_bytes_through() -> None:
    data = photo_jpeg("cat_720p.jpg", 640, 360)
    assert process_frame(data, ()) == data


def test_masks_are_applied_and_the_rest_kept() -> None:
    data = photo_jpeg("kite_and_cold.jpg", 1280, 720)
    out = process_frame(data, QUARTER, fill=(0, 0, 0), quality=90)
    assert out != data
    rgb = decode(out).astype(int)
    original = decode(data).astype(int)
    # The masked quarter is uniform black, away from the JPEG block at its border.
    inner = rgb[: 360 - 16, : 640 - 16]
    assert inner.max() <= 3
    assert original[: 360 - 16, : 640 - 16].std() > 20  # it was real picture content
    # Outside the mask the picture survives re-encoding.
    assert np.abs(rgb[400:, 700:] - original[400:, 700:]).mean() < 6


def test_grey_and_cmyk_jpegs_become_rgb() -> None:
    for mode in ("L", "CMYK"):
        out = io.BytesIO()
        Image.new(mode, (32, 16)).save(out, "JPEG")
        rgb = decode(out.getvalue())
        assert rgb.shape == (16, 32, 3)


def test_encode_refuses_bad_quality() -> None:
    with pytest.raises(ValueError, match="quality"):
        encode(np.zeros((8, 8, 3), dtype=np.uint8), quality=0)


def test_mask_applies_at_any_resolution() -> None:
    for w, h in ((320, 180), (1920, 1080)):
        out = decode(process_frame(photo_jpeg("cat_720p.jpg", w, h), QUARTER))
        mask = rasterize(QUARTER, w, h)
        assert out[: h // 2 - 16, : w // 2 - 16].max() <= 3
        assert mask.shape == (h, w)
