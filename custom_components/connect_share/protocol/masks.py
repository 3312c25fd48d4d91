"""Privacy masks: the one parser and validator (used by the options flow, the rules, the
media pipeline and the resident's panel). Pure Python, no Home Assistant import.

A mask is a list of polygons; each polygon is a list of ``[x, y]`` points with x and y in
[0, 1] relative to the frame's width and height, so one mask fits every resolution a camera
may deliver. ``parse_masks`` takes the resident's JSON text (or ``None``/"" for no masks);
errors are ``MaskError`` (a ``ValueError``) with a message naming the polygon and point.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_POLYGONS = 16
MAX_POINTS = 64
# A polygon smaller than this fraction of the frame is almost certainly a typo (or a line).
MIN_AREA = 1e-5

Point = tuple[float, float]
Polygon = tuple[Point, ...]
Masks = tuple[Polygon, ...]


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
