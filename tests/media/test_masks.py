"""Mask validation (the options flow's parser), rasterisation and fill."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.connect_share.media.masks import (
    MAX_POINTS,
    MAX_POLYGONS,
    MaskError,
    apply_masks,
    mask_blocks,
    masks_to_text,
    parse_masks,
    rasterize,
)


def coord_strategy() -> st.SearchStrategy[float]:
    return st.floats(min_value=0, max_value=1, allow_nan=False)


TRIANGLE = "[[[0.1,0.1],[0.4,0.1],[0.4,0.5]]]"


def test_parse_valid_and_round_trip() -> None:
    masks = parse_masks(TRIANGLE)
    assert masks == (((0.1, 0.1), (0.4, 0.1), (0.4, 0.5)),)
    assert parse_masks(masks_to_text(masks)) == masks


def test_empty_means_no_masks() -> None:
    assert parse_masks("") == ()
    assert parse_masks("   ") == ()
    assert parse_masks(None) == ()
    assert parse_masks("[]") == ()


def test_closing_point_is_dropped() -> None:
    masks = parse_masks("[[[0,0],[1,0],[1,1],[0,0]]]")
    assert len(masks[0]) == 3


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not valid JSON"),
        ('{"a": 1}', "list of polygons"),
        ("[[[0.1,0.1],[0.4,0.1]]]", "at least 3"),
        ("[[[0.1,0.1],[0.4,0.1],[0.1,0.1]]]", "at least 3"),
        ("[[[0.1,0.1],[1.4,0.1],[0.4,0.5]]]", "between 0 and 1"),
        ("[[[-0.1,0.1],[0.4,0.1],[0.4,0.5]]]", "between 0 and 1"),
        ('[[[0.1,0.1],[0.4,"x"],[0.4,0.5]]]', "numbers"),
        ("[[[0.1,0.1],[0.4,true],[0.4,0.5]]]", "numbers"),
        ("[[[0.1,0.1,0.3],[0.4,0.1],[0.4,0.5]]]", "[x, y]"),
        ("[[[0.1,0.1],[0.2,0.2],[0.3,0.3]]]", "zero area"),
        ("[[[0,0],[1,1],[1,0],[0,1]]]", "crosses itself"),  # bow tie
        ("[[[0.1,0.1],[0.5,0.1],[0.5,0.5],[0.5,0.5],[0.1,0.5]]]", "repeats point"),
        ("[[[0,0],[0.5,0],[1,0],[0.7,0],[0.5,0.5]]]", "crosses itself"),  # folds back
        ("[[0.1,0.1]]", "must be [x, y]"),
    ],
)
def test_invalid_polygons_are_rejected_clearly(text: str, fragment: str) -> None:
    with pytest.raises(MaskError, match=r".") as err:
        parse_masks(text)
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)  # the options flow catches ValueError


def test_nan_and_infinity_are_rejected() -> None:
    with pytest.raises(MaskError, match="between 0 and 1"):
        parse_masks("[[[NaN,0.1],[0.4,0.1],[0.4,0.5]]]")
    with pytest.raises(MaskError, match="between 0 and 1"):
        parse_masks("[[[Infinity,0.1],[0.4,0.1],[0.4,0.5]]]")


def test_limits() -> None:
    tri = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.5]]
    with pytest.raises(MaskError, match="at most"):
        parse_masks(json.dumps([tri] * (MAX_POLYGONS + 1)))
    circle = [
        [
            0.5 + 0.4 * np.cos(2 * np.pi * k / (MAX_POINTS + 1)),
            0.5 + 0.4 * np.sin(2 * np.pi * k / (MAX_POINTS + 1)),
        ]
        for k in range(MAX_POINTS + 1)
    ]
    with pytest.raises(MaskError, match="at most"):
        parse_masks(json.dumps([circle]))
    assert len(parse_masks(json.dumps([circle[:MAX_POINTS]]))[0]) == MAX_POINTS


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (640, 480), (7, 5)])
def test_rasterize_scales_with_resolution(width: int, height: int) -> None:
    masks = parse_masks("[[[0,0],[0.5,0],[0.5,0.5],[0,0.5]]]")
    mask = rasterize(masks, width, height)
    assert mask.shape == (height, width)
    # The whole top-left quarter is covered (the outline may add one row/column, not less).
    assert mask[: height // 2, : width // 2].all()
    assert not mask[height // 2 + 2 :, :].any()
    assert not mask[:, width // 2 + 2 :].any()


def test_rasterize_is_cached_and_read_only() -> None:
    masks = parse_masks(TRIANGLE)
    first = rasterize(masks, 320, 240)
    assert rasterize(masks, 320, 240) is first
    assert not first.flags.writeable


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(coord_strategy(), coord_strategy()), min_size=3, max_size=7),
        min_size=1,
        max_size=3,
    ),
    st.integers(1, 90),
    st.integers(1, 60),
)
def test_blocks_tile_the_mask_exactly(polys: list, width: int, height: int) -> None:
    try:
        masks = parse_masks(json.dumps(polys))
    except MaskError:
        return
    covered = np.zeros((height, width), dtype=np.int32)
    for y0, y1, x0, x1 in mask_blocks(masks, width, height):
        covered[y0:y1, x0:x1] += 1
    assert covered.max() <= 1  # no overlaps
    assert (covered.astype(bool) == rasterize(masks, width, height)).all()


def test_apply_masks_fills_only_the_mask() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(1, 255, size=(90, 160, 3), dtype=np.uint8)
    before = rgb.copy()
    masks = parse_masks("[[[0.25,0.25],[0.75,0.25],[0.75,0.75],[0.25,0.75]]]")
    apply_masks(rgb, masks, (255, 0, 0))
    mask = rasterize(masks, 160, 90)
    assert (rgb[mask] == (255, 0, 0)).all()
    assert (rgb[~mask] == before[~mask]).all()


def test_apply_no_masks_is_identity() -> None:
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    assert apply_masks(rgb, ()) is rgb


def test_apply_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        apply_masks(np.zeros((4, 4), dtype=np.uint8), parse_masks(TRIANGLE))


coord = st.floats(min_value=0, max_value=1, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(coord, coord), min_size=0, max_size=8), max_size=3))
def test_parser_never_raises_anything_but_mask_error(
    polys: list[list[tuple[float, float]]],
) -> None:
    try:
        masks = parse_masks(json.dumps(polys))
    except MaskError:
        return
    # Whatever is accepted rasterises at any size.
    mask = rasterize(masks, 64, 36)
    assert mask.shape == (36, 64)


def test_apply_accepts_lists() -> None:
    rgb = np.full((10, 10, 3), 200, dtype=np.uint8)
    apply_masks(rgb, [[[0, 0], [1, 0], [1, 1], [0, 1]]])  # type: ignore[arg-type]
    assert rgb.max() == 0
