"""On-device object detection: LiteRT runtime, model download, detector, motion gate, events.

Pure Python (numpy, Pillow, aiohttp, LiteRT when present) with no Home Assistant import, so
scripts, benchmarks and tests use it bare. Only relative imports inside
``custom_components/connect_share``. Importing this package never fails on a platform
without a LiteRT wheel: the runtime is looked up lazily (see ``runtime.py``).
"""

from .runtime import DetectionUnavailable, load_interpreter_class, runtime_status

__all__ = ["DetectionUnavailable", "load_interpreter_class", "runtime_status"]
