"""Privacy masks: polygons in relative coordinates, validated, rasterised and filled.

A mask is a list of polygons; each polygon is a list of ``[x, y]`` points with x and y in
[0, 1] relative to the frame's width and height, so one mask fits every resolution a camera
may deliver. The resident types them as JSON in the options flow; ``parse_masks`` is the
single validator for that text and for anything loaded from storage.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

MAX_POLYGONS = 16
MAX_POINTS = 64
# A polygon smaller than this fraction of the frame is almost certainly a typo (or a line).
MIN_AREA = 1e-5

Point = tuple[float, float]
Polygon = tuple[Point, ...]
Masks = tuple[Polygon, ...]
Fill = tuple[int, int, int]

DEFAULT_FILL: Fill = (0, 0, 0)


class MaskError(ValueError):
    """An invalid mask; the message is meant for the resident."""


def parse_masks(text: str | None) -> Masks:
    """Parse and validate the resident's text form, e.g. ``[[[0.1,0.1],[0.4,0.1],[0.4,0.5]]]``.

    An empty string means "no masks". Raises ``MaskError`` (a ``ValueError``) with a message
    naming the polygon and point at fault.
    """
    if text is None or not text.strip():
        return ()
    try:
        data = json.loads(text)
    except ValueError as err:
        raise MaskError(f"masks are not valid JSON: {err}") from err
    return validate_masks(data)


def masks_to_text(masks: Masks) -> str:
    return json.dumps([[list(p) for p in poly] for poly in masks], separators=(",", ":"))


def validate_masks(data: Any) -> Masks:
    """Validate a decoded JSON value (list of polygons) and return it as nested tuples."""
    if not isinstance(data, list | tuple):
        raise MaskError("masks must be a list of polygons")
    if len(data) > MAX_POLYGONS:
        raise MaskError(f"at most {MAX_POLYGONS} polygons per camera, got {len(data)}")
    return tuple(_validate_polygon(poly, i + 1) for i, poly in enumerate(data))


def _validate_polygon(poly: Any, n: int) -> Polygon:
    if not isinstance(poly, list | tuple):
        raise MaskError(f"polygon {n} must be a list of [x, y] points")
    points = [_validate_point(p, n, j + 1) for j, p in enumerate(poly)]
    # A closing point equal to the first is common when people copy polygons: drop it.
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(points) < 3:
        raise MaskError(f"polygon {n} needs at least 3 distinct points, got {len(points)}")
    if len(points) > MAX_POINTS:
        raise MaskError(f"polygon {n} has {len(points)} points; at most {MAX_POINTS}")
    for j in range(len(points)):
        if points[j] == points[(j + 1) % len(points)]:
            raise MaskError(f"polygon {n} repeats point {j + 1}")
    if all(_orient(points[0], points[1], p) == 0 for p in points[2:]):
        raise MaskError(f"polygon {n} has zero area (all points on one line)")
    if _self_intersects(points):
        raise MaskError(f"polygon {n} crosses itself")
    if abs(_area(points)) < MIN_AREA:
        raise MaskError(f"polygon {n} has (almost) zero area")
    return tuple(points)


def _validate_point(p: Any, n: int, j: int) -> Point:
    if not isinstance(p, list | tuple) or len(p) != 2:
        raise MaskError(f"polygon {n} point {j} must be [x, y]")
    out = []
    for v in p:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise MaskError(f"polygon {n} point {j}: coordinates must be numbers")
        if not math.isfinite(v) or not 0.0 <= v <= 1.0:
            raise MaskError(f"polygon {n} point {j}: coordinates must be between 0 and 1")
        out.append(float(v))
    return (out[0], out[1])


def _area(points: list[Point]) -> float:
    s = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        s += x1 * y2 - x2 * y1
    return s / 2


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, c: Point) -> bool:
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])


def _segments_touch(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(q1, q2, p1))
        or (d2 == 0 and _on_segment(q1, q2, p2))
        or (d3 == 0 and _on_segment(p1, p2, q1))
        or (d4 == 0 and _on_segment(p1, p2, q2))
    )


def _self_intersects(points: list[Point]) -> bool:
    """True if any two non-adjacent edges touch, or adjacent edges fold back on each other."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            adjacent = j == i + 1 or (i == 0 and j == n - 1)
            if adjacent:
                # Adjacent edges share one vertex; they only overlap if collinear and folding.
                a, b = edges[i]
                c, d = edges[j]
                shared, p, q = (b, a, d) if j == i + 1 else (a, b, c)
                if _orient(p, shared, q) == 0 and (
                    (p[0] - shared[0]) * (q[0] - shared[0])
                    + (p[1] - shared[1]) * (q[1] - shared[1])
                    > 0
                ):
                    return True
                continue
            if _segments_touch(*edges[i], *edges[j]):
                return True
    return False


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
        return masks
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
