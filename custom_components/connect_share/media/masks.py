"""Privacy masks: rasterised and filled into frames before anything leaves the house.

Parsing and validation live in ``protocol.masks`` (one parser for every caller); this module
adds what needs numpy and Pillow.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

import numpy as np
from PIL import Image, ImageDraw

from ..protocol.masks import (
    MAX_POINTS,
    MAX_POLYGONS,
    MaskError,
    Masks,
    Point,
    Polygon,
    masks_to_text,
    parse_masks,
    validate_masks,
)

__all__ = [
    "DEFAULT_FILL",
    "MAX_POINTS",
    "MAX_POLYGONS",
    "Fill",
    "MaskError",
    "Masks",
    "Point",
    "Polygon",
    "apply_masks",
    "mask_blocks",
    "masks_to_text",
    "parse_masks",
    "rasterize",
    "validate_masks",
]

Fill = tuple[int, int, int]
DEFAULT_FILL: Fill = (0, 0, 0)


# --- rasterisation and fill --------------------------------------------------------------


Block = tuple[int, int, int, int]  # y0, y1, x0, x1 (half-open)


@lru_cache(maxsize=64)
def rasterize(masks: Masks, width: int, height: int) -> np.ndarray:
    """Boolean mask (height x width), cached and read-only.

    The polygon outline is drawn as well as its inside, so edge pixels err on the side of
    hiding: a mask may cover a pixel more, never a pixel less.
    """
    if width <= 0 or height <= 0:
        raise ValueError("frame size must be positive")
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for poly in masks:
        draw.polygon([(x * width, y * height) for x, y in poly], fill=1, outline=1)
    mask = np.asarray(canvas, dtype=bool)
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=64)
def mask_blocks(masks: Masks, width: int, height: int) -> tuple[Block, ...]:
    """The mask as rectangles of identical row spans, cached per (masks, size).

    Filling a few hundred slices is several times faster than boolean indexing over the
    frame, and exactly the same pixels: the blocks tile the boolean mask.
    """
    mask = rasterize(masks, width, height)
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    sy, sx = np.nonzero(edges == 1)  # row-major order: spans pair up in order
    _, ex = np.nonzero(edges == -1)
    blocks: list[Block] = []
    open_: dict[tuple[int, int], list[int]] = {}  # (x0, x1) -> [y0, y_last]
    for y, x0, x1 in zip(sy.tolist(), sx.tolist(), ex.tolist(), strict=True):
        run = open_.get((x0, x1))
        if run is not None and run[1] == y - 1:
            run[1] = y
            continue
        if run is not None:
            blocks.append((run[0], run[1] + 1, x0, x1))
        open_[(x0, x1)] = [y, y]
    blocks.extend((y0, y1 + 1, x0, x1) for (x0, x1), (y0, y1) in open_.items())
    return tuple(blocks)


def _frozen(masks: Any) -> Masks:
    """Masks as nested tuples (the raster cache's key), whatever list form came in."""
    try:
        hash(masks)
        # Hashable: the nested tuples of parsed Masks (the list forms do not hash).
        return cast(Masks, masks)
    except TypeError:
        return tuple(tuple((float(x), float(y)) for x, y in poly) for poly in masks)


def apply_masks(rgb: np.ndarray, masks: Masks, fill: Fill = DEFAULT_FILL) -> np.ndarray:
    """Fill every masked pixel of ``rgb`` (H x W x 3 uint8, modified in place) and return it."""
    if not masks:
        return rgb
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 array, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    masks = _frozen(masks)
    value: int | np.ndarray = fill[0] if fill[0] == fill[1] == fill[2] else np.array(fill, np.uint8)
    for y0, y1, x0, x1 in mask_blocks(masks, width, height):
        rgb[y0:y1, x0:x1] = value
    return rgb
