"""A camera's detection loop with the real model: empty scene, a person walks in, leaves."""

from __future__ import annotations

import asyncio
import functools
import io

import numpy as np
import pytest
from PIL import Image

from custom_components.connect_share.detection.detector import AsyncDetector
from custom_components.connect_share.detection.event_store import EventStore
from custom_components.connect_share.detection.events import EventTracker
from custom_components.connect_share.detection.mask_filter import MaskedArea
from custom_components.connect_share.detection.pipeline import CameraDetection
from custom_components.connect_share.media.jpeg import process_frame
from custom_components.connect_share.media.masks import parse_masks

from .test_motion import jpeg, noisy, scene

T0 = 1_800_000_000.0


@pytest.fixture
async def detector(model_path, labels_path):
    det = await AsyncDetector.create(model_path, labels_path)
    yield det
    await det.close()


@pytest.fixture
def frames(images_dir):
    rng = np.random.default_rng(11)
    base = scene(rng)
    person = Image.open(images_dir / "squat.bmp").convert("RGB").resize((250, 305))

    def with_person(left: int) -> bytes:
        img = Image.fromarray(noisy(base, rng))
        img.paste(person, (left, 40))
        return jpeg(np.asarray(img))

    return {"empty": lambda: jpeg(noisy(base, rng)), "person": with_person}


def grey_mask(data: bytes) -> bytes:
    """Stand-in for the media helper's mask: blanks the whole frame."""
    with Image.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        Image.new("RGB", img.size, (128, 128, 128)).save(out, format="JPEG")
        return out.getvalue()


async def test_person_walks_in_and_out(detector, frames, tmp_path):
    store = EventStore(tmp_path)
    seen: list[tuple[str, str]] = []
    cam = CameraDetection(
        "camera.front",
        detector,
        store,
        tracker=EventTracker("camera.front", quiet_s=5),
        mask=grey_mask,
        mask_before_detect=False,  # detect on the full frame, mask only what is stored
        on_change=lambda c: seen.append((c.kind.value, c.event.best_label)),
    )
    t = T0
    for _ in range(5):
        assert await cam.process(frames["empty"](), t) == []
        t += 1
    for left in (60, 160, 260, 360):
        await cam.process(frames["person"](left), t)
        t += 1
    assert cam.tracker.active("person", t)
    for _ in range(8):
        await cam.process(frames["empty"](), t)
        t += 1
    assert seen[0] == ("start", "person")
    assert seen[-1] == ("end", "person")
    # Frames without motion never reached the detector.
    assert cam.detected_frames < cam.frames
    stored = store.query(T0, t)
    assert len(stored) == 1
    event = stored[0]
    assert event.event.start == T0 + 5 and event.event.end is not None
    assert event.snapshot_masked
    with Image.open(event.snapshot_path) as snap:
        assert snap.getpixel((10, 10)) == pytest.approx((128, 128, 128), abs=3)
    assert event.event.best_snapshot is None  # freed once stored


async def test_bad_frames_are_counted_not_raised(detector, frames):
    cam = CameraDetection("cam", detector)
    await cam.process(b"garbage", T0)
    await cam.process(frames["empty"](), T0 + 1)
    assert cam.errors == 1 and cam.frames == 2


async def test_run_loop_survives_fetch_errors_and_closes_on_cancel(detector, frames):
    ends: list[str] = []
    calls = {"n": 0}
    got_person = asyncio.Event()

    async def fetch() -> bytes:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("camera offline")
        if calls["n"] >= 4:
            got_person.set()
        return frames["person"](200) if calls["n"] >= 3 else frames["empty"]()

    cam = CameraDetection(
        "cam",
        detector,
        on_change=lambda c: ends.append(c.kind.value),
    )
    task = asyncio.create_task(cam.run(fetch, 0.0))
    await asyncio.wait_for(got_person.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cam.errors == 1
    assert ends[0] == "start" and ends[-1] == "end"


async def test_masked_area_makes_no_event(detector, frames, tmp_path):
    """A person only inside the neighbour's (masked) half: no event, no snapshot, no count."""
    masks = parse_masks("[[[0.5,0.0],[1.0,0.0],[1.0,1.0],[0.5,1.0]]]")
    store = EventStore(tmp_path)
    cam = CameraDetection(
        "camera.front",
        detector,
        store,
        tracker=EventTracker("camera.front", quiet_s=5),
        mask=functools.partial(process_frame, masks=masks),
        masked_area=MaskedArea(masks),
    )
    t = T0
    await cam.process(frames["empty"](), t)
    for left in (360, 370, 380):  # x from 0.56 to 0.95 of 640: inside the mask
        t += 1
        assert await cam.process(frames["person"](left), t) == []
    assert cam.detected_frames >= 3  # motion was seen; the masked frames had nobody
    assert store.query(0, 2e10) == []
    # The same person on the resident's own side is an event, its snapshot masked.
    for left in (20, 30):
        t += 1
        await cam.process(frames["person"](left), t)
    await cam.close(t + 1)
    [event] = store.query(0, 2e10)
    assert event.event.best_label == "person" and event.snapshot_masked
    with Image.open(event.snapshot_path) as snap:
        right = np.asarray(snap.convert("RGB"))[:, 340:]
    assert right.max() < 20


async def test_mask_refusing_a_frame_skips_it(detector, frames):
    def refuse(data: bytes) -> bytes:
        raise ValueError("frame too large for the mask")

    cam = CameraDetection("cam", detector, mask=refuse)
    assert await cam.process(frames["person"](100), T0) == []
    assert cam.errors == 1 and cam.detected_frames == 0
