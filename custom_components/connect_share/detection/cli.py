"""``scripts/detect IMAGE...``: one JSON line per image, through the integration's detector.

A resident runs it to check a model (and its thresholds) on their own pictures before
turning detection on. Defaults to the COCO SSD model in ``../shared/models`` (or
``$CONNECT_SHARE_SHARED/models``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .detector import DEFAULT_THRESHOLD, Detector, InvalidImage, ModelError
from .model_store import file_sha256
from .runtime import DetectionUnavailable

DEFAULT_MODEL = "coco_ssd_mobilenet_v1_1.0_quant.tflite"
DEFAULT_LABELS = "coco_labels.txt"


def shared_dir() -> Path:
    env = os.environ.get("CONNECT_SHARE_SHARED")
    if env:
        return Path(env)
    # custom_components/connect_share/detection/cli.py -> repo root -> ../shared
    return Path(__file__).resolve().parents[3].parent / "shared"


def parse_threshold(text: str) -> tuple[str, float]:
    label, sep, value = text.rpartition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"expected LABEL=SCORE, got {text!r}")
    return label, float(value)


def build_parser() -> argparse.ArgumentParser:
    models = shared_dir() / "models"
    parser = argparse.ArgumentParser(prog="scripts/detect", description=__doc__)
    parser.add_argument("images", nargs="+", type=Path, help="image files (JPEG, BMP, PNG)")
    parser.add_argument("--model", type=Path, default=models / DEFAULT_MODEL)
    parser.add_argument("--labels", type=Path, default=models / DEFAULT_LABELS)
    parser.add_argument("--sha256", help="refuse a model file whose sha256 differs")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument(
        "--label-threshold",
        type=parse_threshold,
        action="append",
        default=[],
        metavar="LABEL=SCORE",
        help="per-label minimum score, e.g. person=0.6 (repeatable)",
    )
    parser.add_argument("--threads", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.sha256:
        if not args.model.is_file():
            print(f"error: model file not found: {args.model}", file=sys.stderr)
            return 2
        actual = file_sha256(args.model)
        if actual != args.sha256.strip().lower():
            print(
                f"error: {args.model} has sha256 {actual}, expected {args.sha256}", file=sys.stderr
            )
            return 2
    try:
        detector = Detector(
            args.model,
            args.labels,
            num_threads=args.threads,
            default_threshold=args.threshold,
            thresholds=dict(args.label_threshold),
        )
    except (DetectionUnavailable, ModelError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = False
    for image in args.images:
        line: dict[str, object] = {"image": str(image)}
        try:
            line["detections"] = [d.to_dict() for d in detector.detect(image.read_bytes())]
        except (OSError, InvalidImage) as err:
            line["error"] = str(err)
            failed = True
        print(json.dumps(line), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
