"""Detections mostly inside masked polygons are dropped."""

from __future__ import annotations

import pytest

from custom_components.connect_share.detection.detector import Detection
from custom_components.connect_share.detection.mask_filter import MaskedArea

RIGHT_HALF = [[(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]]


def det(box) -> Detection:
    return Detection("person", 0.9, box)


@pytest.mark.parametrize(
    ("box", "share"),
    [
        ((0.0, 0.6, 1.0, 0.9), 1.0),  # inside
        ((0.0, 0.0, 1.0, 0.4), 0.0),  # outside
        ((0.0, 0.25, 1.0, 0.75), 0.5),  # half in
    ],
)
def test_covered_share(box, share):
    assert MaskedArea(RIGHT_HALF).covered_share(box) == pytest.approx(share, abs=0.03)


def test_keep_drops_mostly_masked_boxes():
    area = MaskedArea(RIGHT_HALF)
    inside, outside, straddling = (
        det((0.1, 0.6, 0.9, 0.95)),
        det((0.1, 0.05, 0.9, 0.3)),
        det((0.1, 0.35, 0.9, 0.6)),  # 40 % masked: a person half behind the mask stays
    )
    assert area.keep([inside, outside, straddling]) == [outside, straddling]
    assert area.keep([straddling], max_covered=0.3) == []


def test_no_polygons_keeps_everything():
    found = [det((0.0, 0.0, 1.0, 1.0))]
    assert MaskedArea([]).keep(found) == found
    assert MaskedArea([[(0.1, 0.1), (0.2, 0.2)]]).keep(found) == found  # degenerate
