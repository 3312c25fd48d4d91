"""Drop detections that lie mostly inside the resident's masked areas.

Masking pixels before detection keeps people in a neighbour's yard out of events, but a
filled polygon is a flat rectangle-ish shape the model likes to call "tv", "refrigerator"
or "cell phone" (seen with the COCO SSD model on the test scenes). So the pipeline also
drops every detection whose box is mostly covered by the masks. Polygons use the media
helper's format: lists of ``(x, y)`` points in 0..1 of the frame's width and height.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from .detector import Detection

GRID = (160, 90)  # width, height of the coverage raster: 16:9, fine enough for boxes
DEFAULT_MAX_COVERED = 0.5

Polygon = Sequence[Sequence[float]]


class MaskedArea:
    def __init__(self, polygons: Iterable[Polygon], grid: tuple[int, int] = GRID) -> None:
        width, height = grid
        img = Image.new("L", grid, 0)
        draw = ImageDraw.Draw(img)
        self.empty = True
        for polygon in polygons:
            points = [(float(x) * width, float(y) * height) for x, y in polygon]
            if len(points) >= 3:
                draw.polygon(points, fill=1)
                self.empty = False
        self._grid = np.asarray(img, dtype=np.float32)

    def covered_share(self, box: tuple[float, float, float, float]) -> float:
        """Share of the box (ymin, xmin, ymax, xmax, relative) inside the masks."""
        height, width = self._grid.shape
        ymin, xmin, ymax, xmax = box
        top, bottom = int(ymin * height), max(int(ymin * height) + 1, round(ymax * height))
        left, right = int(xmin * width), max(int(xmin * width) + 1, round(xmax * width))
        cells = self._grid[top:bottom, left:right]
        return float(cells.mean()) if cells.size else 0.0

    def keep(
        self, detections: Iterable[Detection], max_covered: float = DEFAULT_MAX_COVERED
    ) -> list[Detection]:
        if self.empty:
            return list(detections)
        return [d for d in detections if self.covered_share(d.box) < max_covered]
