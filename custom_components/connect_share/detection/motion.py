"""A cheap motion gate: run the detector only on frames that differ from the scene.

Each frame becomes a small grey image (64x36 by default). JPEG draft mode lets libjpeg
decode at 1/8 scale, so even 1080p costs little, and the downscale averages away most
sensor noise. The frame is compared with a slowly updated background; motion is a share of
pixels that changed by more than a grey-level threshold.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from .detector import InvalidImage

DEFAULT_SIZE = (64, 36)  # width, height: 16:9 like most cameras


@dataclass(frozen=True, slots=True)
class MotionResult:
    motion: bool
    changed_share: float  # 0..1 of the small image's pixels that changed


def small_grey(image: bytes, size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """Decode to a [h, w] float32 grey image of ``size`` (width, height)."""
    try:
        with Image.open(io.BytesIO(image)) as img:
            img.draft("L", size)
            grey = img.convert("L") if img.mode != "L" else img
            # BOX averages every source pixel: the cheapest noise filter there is.
            grey = grey.resize(size, Image.Resampling.BOX)
            return np.asarray(grey, dtype=np.float32)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise InvalidImage(f"not a decodable image: {err}") from err


def grey_from_array(pixels: np.ndarray, size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """The same small grey image from an RGB or grey uint8 array (for decoded frames)."""
    img = Image.fromarray(pixels.astype(np.uint8, copy=False))
    return np.asarray(img.convert("L").resize(size, Image.Resampling.BOX), dtype=np.float32)


class MotionGate:
    """Per camera. ``check(jpeg)`` or ``update(grey)`` says whether to run detection.

    - ``pixel_threshold``: grey levels (0..255) a small-image pixel must change by;
    - ``area_threshold``: share of pixels that must change for motion;
    - ``background_rate``: how fast the background follows the scene (light drift, a
      parked car), 0..1 per frame.
    The first frame, and a frame of another size, always counts as motion: there is
    nothing to compare it with, and detecting once is the safe choice.
    """

    def __init__(
        self,
        *,
        size: tuple[int, int] = DEFAULT_SIZE,
        pixel_threshold: float = 18.0,
        area_threshold: float = 0.004,
        background_rate: float = 0.1,
    ) -> None:
        if not 0.0 < background_rate <= 1.0:
            raise ValueError("background_rate must be in (0, 1]")
        self.size = size
        self.pixel_threshold = pixel_threshold
        self.area_threshold = area_threshold
        self.background_rate = background_rate
        self._background: np.ndarray | None = None
        self.frames = 0
        self.skipped = 0

    def reset(self) -> None:
        self._background = None

    def check(self, image: bytes) -> MotionResult:
        return self.update(small_grey(image, self.size))

    def update(self, grey: np.ndarray) -> MotionResult:
        self.frames += 1
        background = self._background
        if background is None or background.shape != grey.shape:
            self._background = grey.astype(np.float32, copy=True)
            return MotionResult(True, 1.0)
        changed = np.abs(grey - background) > self.pixel_threshold
        share = float(np.count_nonzero(changed)) / changed.size
        # Follow the scene slowly, so a moving object does not become background at once.
        background += self.background_rate * (grey - background)
        motion = share >= self.area_threshold
        if not motion:
            self.skipped += 1
        return MotionResult(motion, share)

    @property
    def skip_share(self) -> float:
        return self.skipped / self.frames if self.frames else 0.0
