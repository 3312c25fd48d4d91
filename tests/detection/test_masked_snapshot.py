"""Snapshots go through the media helper's own masking before they reach the disk."""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image

from custom_components.connect_share.detection.detector import Detector
from custom_components.connect_share.detection.event_store import EventStore
from custom_components.connect_share.detection.events import EventTracker
from custom_components.connect_share.media.jpeg import process_frame
from custom_components.connect_share.media.masks import parse_masks

from .conftest import MODEL_NAME


def test_person_snapshot_is_stored_with_the_residents_mask(shared_dir, tmp_path):
    models = shared_dir / "models"
    detector = Detector(models / MODEL_NAME, models / "coco_labels.txt")
    with Image.open(shared_dir / "testdata" / "images" / "squat.bmp") as img:
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="JPEG", quality=90)
        frame = buf.getvalue()
    # The right third of the frame is the neighbour's yard.
    masks = parse_masks("[[[0.66,0.0],[1.0,0.0],[1.0,1.0],[0.66,1.0]]]")
    mask = functools.partial(process_frame, masks=masks)

    tracker = EventTracker("camera.yard")
    [start] = tracker.observe(1000.0, detector.detect(frame), frame)
    assert start.event.best_label == "person"
    stored = EventStore(tmp_path).save(start.event, mask=mask)

    assert stored.snapshot_masked
    with Image.open(stored.snapshot_path) as snap:
        pixels = np.asarray(snap.convert("RGB"), dtype=np.int16)
    width = pixels.shape[1]
    yard = pixels[:, int(width * 0.70) :]
    rest = pixels[:, : int(width * 0.60)]
    assert yard.max() < 20  # filled (JPEG noise aside)
    assert rest.mean() > 40  # the resident's own view is untouched
    # The unmasked frame is nowhere on disk.
    assert all(p.read_bytes() != frame for p in tmp_path.rglob("*.jpg"))
