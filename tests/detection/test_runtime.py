"""The runtime lookup: LiteRT here, a clear reason where no runtime imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from custom_components.connect_share.detection import runtime
from custom_components.connect_share.detection.runtime import (
    DetectionUnavailable,
    load_interpreter_class,
    runtime_status,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_lookup():
    runtime._find.cache_clear()
    yield
    runtime._find.cache_clear()


def test_litert_is_found_in_the_dev_venv(fresh_lookup) -> None:
    status = runtime_status()
    assert status.available
    assert status.package == "ai-edge-litert"
    assert load_interpreter_class().__name__ == "Interpreter"


def test_no_runtime_gives_a_clear_reason(fresh_lookup, monkeypatch) -> None:
    # Stand-ins for a platform without wheels: module names that cannot import.
    monkeypatch.setattr(
        runtime,
        "_CANDIDATES",
        (
            ("no_such_litert_mod.interpreter", "ai-edge-litert"),
            ("no_such_tflite.x", "tflite-runtime"),
        ),
    )
    status = runtime_status()
    assert not status.available
    assert status.package is None
    with pytest.raises(DetectionUnavailable) as info:
        load_interpreter_class()
    reason = info.value.reason
    assert "unavailable" in reason
    assert "ai-edge-litert" in reason and "tflite-runtime" in reason
    assert "ModuleNotFoundError" in reason


def test_musl_platform_explains_home_assistant_os(fresh_lookup, monkeypatch) -> None:
    monkeypatch.setattr(runtime, "_CANDIDATES", (("no_such_litert_mod.x", "ai-edge-litert"),))
    monkeypatch.setattr(runtime.platform, "libc_ver", lambda: ("", ""))
    with pytest.raises(DetectionUnavailable, match="musl"):
        load_interpreter_class()


def test_importing_the_package_never_loads_a_runtime() -> None:
    # Lazy lookup: a platform without wheels must be able to import the package.
    code = (
        "import sys, custom_components.connect_share.detection as d; "
        "print('ai_edge_litert' in sys.modules, 'tflite_runtime' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]
