"""Detection cost: JPEG bytes in -> detections out, against the bare ``invoke()`` floor.

- detect_ratio_720p / detect_ratio_1080p: median end-to-end time per frame (decode with
  draft mode, resize, set input, invoke, read outputs) over the median bare
  ``interpreter.invoke()`` of the same model, measured interleaved in the same run.
- detect_fps_1t / detect_fps_2t: end-to-end frames per second with 1 and 2 threads.
- motion_skip_share: share of frames the motion gate skips on a static scene with sensor
  noise (the first frame always goes through).

Usage: .venv/bin/python -m benchmarks.detection [--quick]
Needs ../shared (or $CONNECT_SHARE_SHARED) for the model and photos.
"""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from benchmarks.common import median, parse_args, report, time_calls
from custom_components.connect_share.detection.cli import (
    DEFAULT_LABELS,
    DEFAULT_MODEL,
    shared_dir,
)
from custom_components.connect_share.detection.detector import Detector
from custom_components.connect_share.detection.motion import MotionGate

PHOTOS = ("cat_720p.jpg", "kite_and_cold.jpg", "grace_hopper.bmp", "squat.bmp")


def frames(size: tuple[int, int]) -> list[bytes]:
    """The test photos as camera-like JPEG frames of ``size`` (quality 85)."""
    out = []
    for name in PHOTOS:
        with Image.open(shared_dir() / "testdata" / "images" / name) as img:
            buf = io.BytesIO()
            img.convert("RGB").resize(size, Image.Resampling.BILINEAR).save(
                buf, format="JPEG", quality=85
            )
            out.append(buf.getvalue())
    return out


def make_detector(threads: int) -> Detector:
    models = shared_dir() / "models"
    return Detector(models / DEFAULT_MODEL, models / DEFAULT_LABELS, num_threads=threads)


def ratio(detector: Detector, jpegs: list[bytes], repeats: int) -> tuple[float, float]:
    """Median ms end-to-end and bare invoke, interleaved so machine noise hits both."""
    detector.invoke(detector.prepare(jpegs[0]))  # input set: invoke() alone is the floor
    interpreter = detector.interpreter
    state = {"i": 0}

    def end_to_end() -> None:
        state["i"] += 1
        detector.detect(jpegs[state["i"] % len(jpegs)])

    full: list[float] = []
    floor: list[float] = []
    rounds = 5
    for _ in range(rounds):
        full += time_calls(end_to_end, repeats // rounds, warmup=3)
        floor += time_calls(interpreter.invoke, repeats // rounds, warmup=3)
    return median(full) * 1e3, median(floor) * 1e3


def fps(detector: Detector, jpegs: list[bytes], count: int) -> float:
    for jpeg in jpegs:
        detector.detect(jpeg)
    start = time.perf_counter()
    for i in range(count):
        detector.detect(jpegs[i % len(jpegs)])
    return count / (time.perf_counter() - start)


def motion_skip_share(count: int) -> float:
    rng = np.random.default_rng(7)
    with Image.open(shared_dir() / "testdata" / "images" / "kite_and_cold.jpg") as img:
        scene = np.asarray(img.convert("RGB").resize((1280, 720)), dtype=np.float32)
    gate = MotionGate()
    for _ in range(count):
        noisy = np.clip(scene + rng.normal(0, 6.0, scene.shape), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(noisy).save(buf, format="JPEG", quality=85)
        gate.check(buf.getvalue())
    return gate.skip_share


def main() -> None:
    args = parse_args(__doc__ or "")
    repeats = 50 if args.quick else 300
    fps_frames = 40 if args.quick else 300
    one = make_detector(1)
    for name, size in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
        full_ms, floor_ms = ratio(one, frames(size), repeats)
        report(f"detect_ms_{name}", full_ms)
        report(f"invoke_ms_{name}", floor_ms)
        report(f"detect_ratio_{name}", full_ms / floor_ms)
    hd = frames((1280, 720))
    report("detect_fps_1t", fps(one, hd, fps_frames))
    report("detect_fps_2t", fps(make_detector(2), hd, fps_frames))
    report("motion_skip_share", motion_skip_share(40 if args.quick else 200))


if __name__ == "__main__":
    main()
