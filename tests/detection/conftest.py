"""Fixtures for the detection tests: the real model and photos in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

MODEL_NAME = "coco_ssd_mobilenet_v1_1.0_quant.tflite"
MODEL_SHA256 = "e4b118e5e4531945de2e659742c7c590f7536f8d0ed26d135abcfe83b4779d13"


@pytest.fixture
def model_path(shared_dir: Path) -> Path:
    return shared_dir / "models" / MODEL_NAME


@pytest.fixture
def labels_path(shared_dir: Path) -> Path:
    return shared_dir / "models" / "coco_labels.txt"


@pytest.fixture
def images_dir(shared_dir: Path) -> Path:
    return shared_dir / "testdata" / "images"
