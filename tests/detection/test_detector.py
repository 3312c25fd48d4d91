"""The detector with the real model on the real photos in ../shared/testdata/images."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import pytest
from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from custom_components.connect_share.detection.detector import (
    AsyncDetector,
    Detection,
    Detector,
    InvalidImage,
    ModelError,
    load_labels,
)
from tests.conftest import SHARED

from .conftest import MODEL_NAME


@pytest.fixture(scope="module")
def detector() -> Detector:
    # Loaded once for the module, as the integration does (a plain Detector starts no
    # Python threads, so the per-test cleanup check stays happy).
    models = SHARED / "models"
    return Detector(models / MODEL_NAME, models / "coco_labels.txt")


def photo(images_dir: Path, name: str) -> bytes:
    return (images_dir / name).read_bytes()


def labels_of(found: list[Detection]) -> set[str]:
    return {d.label for d in found}


def centre(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def test_grace_hopper_is_a_person_with_a_tie(detector, images_dir):
    found = detector.detect(photo(images_dir, "grace_hopper.bmp"))
    assert found[0].label == "person"
    assert found[0].score > 0.6
    assert "tie" in labels_of(found)
    # The portrait fills the frame: the person box covers most of it.
    ymin, xmin, ymax, xmax = found[0].box
    assert (ymax - ymin) > 0.8 and (xmax - xmin) > 0.8


def test_squat_is_one_person_in_the_middle(detector, images_dir):
    found = detector.detect(photo(images_dir, "squat.bmp"))
    assert [d.label for d in found] == ["person"]
    assert found[0].score > 0.7
    cy, cx = centre(found[0].box)
    assert 0.4 < cy < 0.8 and 0.3 < cx < 0.7


def test_cat_720p(detector, images_dir):
    found = detector.detect(photo(images_dir, "cat_720p.jpg"))
    assert found[0].label == "cat"
    assert found[0].score > 0.6
    assert "person" not in labels_of(found)


def test_kite_and_people(detector, images_dir):
    found = detector.detect(photo(images_dir, "kite_and_cold.jpg"))
    assert {"person", "kite"} <= labels_of(found)
    assert all(0.0 <= v <= 1.0 for d in found for v in d.box)
    assert all(d.box[0] < d.box[2] and d.box[1] < d.box[3] for d in found)


def test_checkerboard_has_nothing_above_threshold(detector, images_dir):
    assert detector.detect(photo(images_dir, "checker300X300.bmp")) == []


def test_results_are_best_first_and_serialisable(detector, images_dir):
    found = detector.detect(photo(images_dir, "kite_and_cold.jpg"))
    scores = [d.score for d in found]
    assert scores == sorted(scores, reverse=True)
    as_dict = found[0].to_dict()
    assert set(as_dict) == {"label", "score", "box"} and len(as_dict["box"]) == 4


def test_per_label_thresholds_and_label_filter(shared_dir, images_dir):
    models = shared_dir / "models"
    strict = Detector(
        models / "coco_ssd_mobilenet_v1_1.0_quant.tflite",
        models / "coco_labels.txt",
        thresholds={"person": 0.95, "tie": 0.3},
    )
    found = strict.detect(photo(images_dir, "grace_hopper.bmp"))
    assert "person" not in labels_of(found)
    assert "tie" in labels_of(found)
    only_people = Detector(
        models / "coco_ssd_mobilenet_v1_1.0_quant.tflite",
        models / "coco_labels.txt",
        labels={"person"},
        default_threshold=0.3,
    )
    assert labels_of(only_people.detect(photo(images_dir, "kite_and_cold.jpg"))) == {"person"}


def reencode(data: bytes, size: tuple[int, int], mode: str = "RGB", fmt: str = "JPEG") -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.convert(mode).resize(size).save(out, format=fmt, quality=90)
        return out.getvalue()


def test_1080p_jpeg_is_decoded_at_reduced_size(detector, images_dir, monkeypatch):
    frame = reencode(photo(images_dir, "cat_720p.jpg"), (1920, 1080))
    decoded_sizes: list[tuple[int, int]] = []
    real_draft = JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        decoded_sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    found = detector.detect(frame)
    assert found[0].label == "cat"
    # libjpeg decoded 1920x1080 at 1/4 scale (480x270: the height is within 10% of the
    # model's 300), a sixteenth of the full frame's pixels.
    assert decoded_sizes == [(480, 270)]


def test_greyscale_and_png_inputs(detector, images_dir):
    grey = reencode(photo(images_dir, "squat.bmp"), (500, 610), mode="L")
    assert detector.detect(grey)[0].label == "person"
    png = reencode(photo(images_dir, "squat.bmp"), (500, 610), mode="RGBA", fmt="PNG")
    assert detector.detect(png)[0].label == "person"


@pytest.mark.parametrize("data", [b"", b"not an image", b"\xff\xd8\xff\xe0" + b"\0" * 50])
def test_bad_bytes_are_invalid_image(detector, data):
    with pytest.raises(InvalidImage):
        detector.detect(data)


def test_bad_model_file_is_a_model_error(labels_path, tmp_path):
    bogus = tmp_path / "bogus.tflite"
    bogus.write_bytes(b"\0" * 1024)
    with pytest.raises(ModelError, match="cannot load"):
        Detector(bogus, labels_path)


def test_label_files(tmp_path, labels_path):
    coco = load_labels(labels_path)
    assert coco[0] == "person" and coco[2] == "car" and coco[16] == "cat"
    assert 11 not in coco  # "n/a" gaps are not labels
    numbered = tmp_path / "numbered.txt"
    numbered.write_text("0 person\n2 car\n\n17 cat\n")
    assert load_labels(numbered) == {0: "person", 2: "car", 17: "cat"}
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(ModelError):
        load_labels(empty)


async def test_async_detector_serialises_calls_off_the_loop(model_path, labels_path, images_dir):
    before = set(threading.enumerate())
    detector = await AsyncDetector.create(model_path, labels_path, num_threads=2)
    try:
        images = [photo(images_dir, n) for n in ("squat.bmp", "cat_720p.jpg")] * 3
        results = await asyncio.gather(*(detector.detect(img) for img in images))
        assert [r[0].label for r in results] == ["person", "cat"] * 3
        assert results[0] == results[2]  # same frame, same answer: no state leaks between calls
        workers = {t.name for t in set(threading.enumerate()) - before}
        assert all(name.startswith("connect_share_detect") for name in workers)
        assert len(workers) == 1
        with pytest.raises(InvalidImage):
            await detector.detect(b"junk")
    finally:
        await detector.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("connect_share_detect")]


async def test_async_create_with_a_bad_model_leaves_no_thread(labels_path, tmp_path):
    bogus = tmp_path / "bogus.tflite"
    bogus.write_bytes(b"nope")
    with pytest.raises(ModelError):
        await AsyncDetector.create(bogus, labels_path)
    await asyncio.sleep(0)
