"""TFLite SSD object detection: JPEG bytes in, labelled boxes in relative coordinates out.

One ``Detector`` holds one interpreter, loaded once. The interpreter is not thread-safe,
so ``AsyncDetector`` runs every call on its own single-worker executor: inference stays
off the event loop and calls never overlap.
"""

from __future__ import annotations

import asyncio
import io
import math
import re
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from .runtime import load_interpreter_class

DEFAULT_THRESHOLD = 0.5
_DRAFT_SLACK = 0.9
_T = TypeVar("_T")
_NUMBERED = re.compile(r"^(\d+)[\s:,]+(.+)$")
_PLACEHOLDERS = {"", "n/a", "???", "background"}


class InvalidImage(ValueError):
    """The bytes are not an image Pillow can decode."""


class ModelError(RuntimeError):
    """The model file is not an SSD detection model this detector understands."""


@dataclass(frozen=True, slots=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]  # ymin, xmin, ymax, xmax in 0..1 of the frame

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "box": [round(v, 4) for v in self.box],
        }


def load_labels(path: str | Path) -> dict[int, str]:
    """Class id -> label. Either one label per line (line index == id, as coco_labels.txt)
    or ``<id> <label>`` lines. Placeholders such as ``n/a`` are left out."""
    labels: dict[int, str] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    numbered = bool(lines) and all(_NUMBERED.match(line.strip()) for line in lines if line.strip())
    for index, raw in enumerate(lines):
        line = raw.strip()
        if numbered:
            match = _NUMBERED.match(line)
            if not match:
                continue
            class_id, label = int(match.group(1)), match.group(2).strip()
        else:
            class_id, label = index, line
        if label.lower() not in _PLACEHOLDERS:
            labels[class_id] = label
    if not labels:
        raise ModelError(f"no labels in {path}")
    return labels


class Detector:
    """One loaded model. Not thread-safe: call from one thread at a time."""

    def __init__(
        self,
        model_path: str | Path,
        labels_path: str | Path,
        *,
        num_threads: int = 1,
        default_threshold: float = DEFAULT_THRESHOLD,
        thresholds: Mapping[str, float] | None = None,
        labels: Collection[str] | None = None,
    ) -> None:
        """``thresholds``: per-label minimum score; ``labels``: report only these (None = all).

        Raises DetectionUnavailable when no runtime imports, ModelError for a bad model.
        """
        interpreter_class = load_interpreter_class()
        self.labels = load_labels(labels_path)
        self.default_threshold = default_threshold
        self.thresholds = dict(thresholds or {})
        self.wanted = frozenset(labels) if labels is not None else None
        try:
            self._interpreter = interpreter_class(
                model_path=str(model_path), num_threads=max(1, int(num_threads))
            )
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ModelError(f"cannot load the model {model_path}: {err}") from err
        self._setup_tensors()

    def _setup_tensors(self) -> None:
        inputs = self._interpreter.get_input_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4 or inputs[0]["shape"][3] != 3:
            raise ModelError("expected one [1, height, width, 3] image input")
        self._input = inputs[0]
        self.input_height = int(inputs[0]["shape"][1])
        self.input_width = int(inputs[0]["shape"][2])
        self._input_dtype = inputs[0]["dtype"]
        if self._input_dtype not in (np.uint8, np.float32):
            raise ModelError(f"unsupported input type {self._input_dtype}")
        outputs = self._interpreter.get_output_details()
        if len(outputs) != 4:
            raise ModelError("expected an SSD post-processed model with 4 outputs")
        # TFLite_Detection_PostProcess, :1, :2, :3 = boxes, classes, scores, count. Some
        # converters list them in another order, so go by the name suffix when present.
        by_suffix: dict[int, int] = {}
        for detail in outputs:
            name = detail["name"]
            suffix = int(name.rsplit(":", 1)[1]) if re.search(r":\d+$", name) else 0
            by_suffix[suffix] = detail["index"]
        if sorted(by_suffix) != [0, 1, 2, 3]:
            by_suffix = {i: d["index"] for i, d in enumerate(outputs)}
        self._boxes, self._classes, self._scores, self._count = (by_suffix[i] for i in range(4))

    # -- preprocessing -----------------------------------------------------------------

    def prepare(self, image: bytes) -> np.ndarray:
        """Decode to the model's input size as RGB uint8 [h, w, 3].

        JPEG draft mode lets libjpeg decode at 1/2, 1/4 or 1/8 scale (about the input
        size or more), so a 1080p frame is never decoded at full size. The image is
        stretched, not letterboxed, as the SSD models were trained; relative boxes then map
        straight back onto the original frame.
        """
        size = (self.input_width, self.input_height)
        # Accept a decode up to ~10% below the input size: 1080p then decodes at 1/4 scale
        # (480x270) instead of 1/2 (960x540), a third less decode time for the same scores
        # on the test photos.
        draft = (math.ceil(size[0] * _DRAFT_SLACK), math.ceil(size[1] * _DRAFT_SLACK))
        try:
            with Image.open(io.BytesIO(image)) as img:
                img.draft("RGB", draft)
                rgb = img.convert("RGB") if img.mode != "RGB" else img
                if rgb.size != size:
                    rgb = rgb.resize(size, Image.Resampling.BILINEAR)
                return np.asarray(rgb, dtype=np.uint8)
        except (UnidentifiedImageError, OSError, SyntaxError) as err:
            raise InvalidImage(f"not a decodable image: {err}") from err

    # -- inference ---------------------------------------------------------------------

    def invoke(self, pixels: np.ndarray) -> None:
        """Run the model on prepared pixels (for benchmarks: the bare floor is ``invoke``)."""
        if self._input_dtype == np.float32:
            tensor = (pixels.astype(np.float32) - 127.5) / 127.5
        else:
            tensor = pixels
        self._interpreter.set_tensor(self._input["index"], tensor[np.newaxis, ...])
        self._interpreter.invoke()

    def detect_pixels(self, pixels: np.ndarray) -> list[Detection]:
        self.invoke(pixels)
        get = self._interpreter.get_tensor
        boxes = get(self._boxes)[0]
        classes = get(self._classes)[0]
        scores = get(self._scores)[0]
        count = min(int(get(self._count)[0]), len(scores))
        found: list[Detection] = []
        for i in range(count):
            label = self.labels.get(int(classes[i]))
            if label is None or (self.wanted is not None and label not in self.wanted):
                continue
            score = float(scores[i])
            if score < self.thresholds.get(label, self.default_threshold):
                continue
            ymin, xmin, ymax, xmax = (min(1.0, max(0.0, float(v))) for v in boxes[i])
            found.append(Detection(label, score, (ymin, xmin, ymax, xmax)))
        found.sort(key=lambda d: d.score, reverse=True)
        return found

    def detect(self, image: bytes) -> list[Detection]:
        """Detections above their label's threshold, best first. InvalidImage on bad bytes."""
        return self.detect_pixels(self.prepare(image))

    @property
    def interpreter(self) -> Any:
        return self._interpreter


class AsyncDetector:
    """A Detector used from asyncio: loading and every call run on one worker thread."""

    def __init__(self, detector: Detector, executor: ThreadPoolExecutor) -> None:
        self.detector = detector
        self._executor = executor

    @classmethod
    async def create(
        cls, model_path: str | Path, labels_path: str | Path, **options: Any
    ) -> AsyncDetector:
        """Loads the model off the loop. Same errors as ``Detector``; nothing left running."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connect_share_detect")
        loop = asyncio.get_running_loop()
        try:
            detector = await loop.run_in_executor(
                executor, lambda: Detector(model_path, labels_path, **options)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(detector, executor)

    async def detect(self, image: bytes) -> list[Detection]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.detector.detect, image)

    async def run(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run other per-frame work (the motion gate) on the same worker, in order."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, func, *args)

    async def close(self) -> None:
        """Wait for a running call to end and stop the worker thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._executor.shutdown, True)
