"""Find a TFLite interpreter: LiteRT (``ai-edge-litert``) first, ``tflite-runtime`` second.

Neither has wheels for every platform Home Assistant runs on (no musl wheels, so none on
Home Assistant OS), so nothing here runs at import time: callers ask for the interpreter
class when detection is enabled and get ``DetectionUnavailable`` with a reason a resident
can act on. Everything else in the integration keeps working without it.
"""

from __future__ import annotations

import importlib
import platform
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

# (module, human package name) in order of preference.
_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("ai_edge_litert.interpreter", "ai-edge-litert"),
    ("tflite_runtime.interpreter", "tflite-runtime"),
)


class DetectionUnavailable(RuntimeError):
    """Detection cannot run here; ``reason`` says why in words a resident can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    available: bool
    package: str | None  # "ai-edge-litert" or "tflite-runtime" when available
    reason: str  # why it is unavailable, or which package is used


def _platform_text() -> str:
    libc, _ = platform.libc_ver()
    libc_text = libc or "musl or unknown libc"
    return (
        f"{platform.system()} {platform.machine()}, Python "
        f"{sys.version_info.major}.{sys.version_info.minor}, {libc_text}"
    )


def _unavailable_reason(errors: list[str]) -> str:
    libc, _ = platform.libc_ver()
    hint = (
        "Install 'ai-edge-litert' (Python 3.12+) or 'tflite-runtime' into Home Assistant's "
        "Python environment."
    )
    if not libc:
        # Home Assistant OS and the official container use Alpine (musl); neither project
        # publishes musl wheels, so pip cannot install them there.
        hint = (
            "No LiteRT or tflite-runtime wheel exists for this platform (Home Assistant OS "
            "and the official container use musl libc). Run Home Assistant on a glibc system "
            "(e.g. a Debian-based Python venv) to use detection."
        )
    return f"Object detection is unavailable on {_platform_text()}: {hint} ({'; '.join(errors)})"


@cache
def _find() -> tuple[type[Any] | None, str | None, str]:
    errors: list[str] = []
    for module_name, package in _CANDIDATES:
        try:
            module = importlib.import_module(module_name)
        except Exception as err:  # ImportError, or OSError from a broken .so
            errors.append(f"{package}: {type(err).__name__}: {err}")
            continue
        interpreter = getattr(module, "Interpreter", None)
        if interpreter is None:
            errors.append(f"{package}: has no Interpreter")
            continue
        return interpreter, package, f"using {package}"
    return None, None, _unavailable_reason(errors)


def load_interpreter_class() -> type[Any]:
    """The ``Interpreter`` class of the first runtime that imports, or DetectionUnavailable."""
    interpreter, _, reason = _find()
    if interpreter is None:
        raise DetectionUnavailable(reason)
    return interpreter


def runtime_status() -> RuntimeStatus:
    """Whether detection can run here, for diagnostics and the options flow."""
    interpreter, package, reason = _find()
    return RuntimeStatus(available=interpreter is not None, package=package, reason=reason)
