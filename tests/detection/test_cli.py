"""scripts/detect's Python module on real photos: one JSON line per image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from custom_components.connect_share.detection import cli

from .conftest import MODEL_SHA256

ROOT = Path(__file__).resolve().parents[2]


def test_module_prints_one_json_line_per_image(shared_dir, images_dir):
    env = dict(os.environ, CONNECT_SHARE_SHARED=str(shared_dir))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "custom_components.connect_share.detection.cli",
            str(images_dir / "squat.bmp"),
            str(images_dir / "cat_720p.jpg"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(line["image"]).name for line in lines] == ["squat.bmp", "cat_720p.jpg"]
    assert lines[0]["detections"][0]["label"] == "person"
    assert lines[1]["detections"][0]["label"] == "cat"
    first = lines[0]["detections"][0]
    assert set(first) == {"label", "score", "box"}
    assert 0.5 <= first["score"] <= 1.0 and len(first["box"]) == 4


def test_errors_per_image_and_thresholds(images_dir, tmp_path, capsys):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a jpeg")
    code = cli.main(
        [
            "--label-threshold",
            "person=0.99",
            "--sha256",
            MODEL_SHA256,
            str(images_dir / "squat.bmp"),
            str(junk),
        ]
    )
    assert code == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["detections"] == []  # the person is there, but below 0.99
    assert "not a decodable image" in lines[1]["error"]


def test_wrong_sha256_and_missing_model_are_refused(images_dir, tmp_path, capsys):
    assert cli.main(["--sha256", "0" * 64, str(images_dir / "squat.bmp")]) == 2
    assert "expected 0000" in capsys.readouterr().err
    missing = tmp_path / "none.tflite"
    assert cli.main(["--model", str(missing), str(images_dir / "squat.bmp")]) == 2
    assert "cannot load the model" in capsys.readouterr().err
