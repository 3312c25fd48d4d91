"""The motion gate on synthetic frame sequences: noise is skipped, movement triggers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from custom_components.connect_share.detection.detector import InvalidImage
from custom_components.connect_share.detection.motion import (
    MotionGate,
    grey_from_array,
    small_grey,
)

W, H = 640, 360


def scene(rng: np.random.Generator) -> np.ndarray:
    """A textured static scene: smooth gradients plus random blobs, RGB uint8."""
    y, x = np.mgrid[0:H, 0:W]
    base = 80 + 60 * np.sin(x / 50.0) + 40 * np.cos(y / 30.0)
    blobs = Image.fromarray(rng.integers(0, 255, (H // 20, W // 20), dtype=np.uint8))
    texture = np.asarray(blobs.resize((W, H), Image.Resampling.BICUBIC), dtype=np.float64)
    grey = np.clip(base + 0.4 * (texture - 128), 0, 255)
    return np.stack([grey, grey * 0.9, grey * 0.8], axis=-1).astype(np.uint8)


def noisy(frame: np.ndarray, rng: np.random.Generator, sigma: float = 6.0) -> np.ndarray:
    noise = rng.normal(0.0, sigma, frame.shape)
    return np.clip(frame.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def jpeg(frame: np.ndarray, quality: int = 75) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frame).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def with_block(frame: np.ndarray, top: int, left: int, size: int = 60) -> np.ndarray:
    moved = frame.copy()
    moved[top : top + size, left : left + size] = (20, 20, 30)  # a dark coat
    return moved


def test_static_noisy_scene_is_skipped_after_the_first_frame():
    rng = np.random.default_rng(1)
    base = scene(rng)
    gate = MotionGate()
    results = [gate.check(jpeg(noisy(base, rng))) for _ in range(60)]
    assert results[0].motion  # nothing to compare the first frame with
    assert not any(r.motion for r in results[1:])
    assert max(r.changed_share for r in results[1:]) < gate.area_threshold
    assert gate.skipped == 59 and gate.skip_share == pytest.approx(59 / 60)


def test_moving_block_triggers_every_frame_it_moves():
    rng = np.random.default_rng(2)
    base = scene(rng)
    gate = MotionGate()
    for _ in range(5):
        gate.check(jpeg(noisy(base, rng)))
    moving = [gate.check(jpeg(noisy(with_block(base, 150, 40 + 50 * i), rng))) for i in range(8)]
    assert all(r.motion for r in moving)
    # After it leaves, the scene settles back to no motion once the background catches up.
    after = [gate.check(jpeg(noisy(base, rng))) for _ in range(60)]
    assert not any(r.motion for r in after[-20:])


def test_object_that_stops_becomes_background():
    rng = np.random.default_rng(3)
    base = scene(rng)
    parked = with_block(base, 100, 300, size=80)
    gate = MotionGate()
    gate.check(jpeg(base))
    results = [gate.check(jpeg(noisy(parked, rng))) for _ in range(80)]
    assert results[0].motion
    assert not any(r.motion for r in results[-20:])


def test_tiny_change_below_the_area_threshold_is_skipped():
    rng = np.random.default_rng(4)
    base = scene(rng)
    gate = MotionGate()
    gate.check(jpeg(base))
    # A 6x6 px speck in 640x360 is well under one small-image pixel's worth.
    assert not gate.check(jpeg(with_block(base, 200, 200, size=6))).motion


def test_slow_light_drift_is_followed():
    rng = np.random.default_rng(5)
    base = scene(rng).astype(np.int16)
    gate = MotionGate()
    results = []
    for step in range(80):  # +0.5 grey level per frame: dusk, a cloud
        frame = np.clip(base + step // 2, 0, 255).astype(np.uint8)
        results.append(gate.check(jpeg(noisy(frame, rng))))
    assert not any(r.motion for r in results[1:])


def test_array_path_matches_and_size_change_resets():
    rng = np.random.default_rng(6)
    base = scene(rng)
    grey = grey_from_array(base)
    assert grey.shape == (36, 64)
    # Draft-mode JPEG decode samples a slightly different grid; both show the same scene.
    from_jpeg = small_grey(jpeg(base, quality=95))
    assert np.corrcoef(grey.ravel(), from_jpeg.ravel())[0, 1] > 0.95
    gate = MotionGate()
    assert gate.update(grey).motion
    assert not gate.update(grey).motion
    assert gate.update(grey_from_array(base, size=(32, 18))).motion  # new shape: start again


def test_bad_input():
    with pytest.raises(InvalidImage):
        MotionGate().check(b"nope")
    with pytest.raises(ValueError):
        MotionGate(background_rate=0)
