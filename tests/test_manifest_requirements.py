"""manifest.json's requirements install beside current Home Assistant.

Home Assistant refuses an integration whose requirements conflict with its own pins, so the
ranges in manifest.json must resolve together with ``homeassistant==<newest release>`` for the
Python that release needs. ``uv pip compile`` answers that from the package registry alone (no
Home Assistant install); this is the one test that reads the registry, as a resident's HA does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((ROOT / "custom_components/connect_share/manifest.json").read_text())
NEWEST_HA = "2026.11.0"
ITS_PYTHON = "3.14.2"


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        pytest.fail("uv is not installed in the test venv (scripts/test installs it)")
    return found


def test_requirements_are_ranges_not_pins() -> None:
    for requirement in MANIFEST["requirements"]:
        assert "==" not in requirement, f"{requirement}: HA refuses pins that differ from its own"
        assert re.match(r"^[A-Za-z0-9._-]+(\[[a-z,]+\])?\s*(>=|~=|<|>|!=)", requirement), (
            requirement
        )


@pytest.mark.usefixtures("socket_enabled")
def test_requirements_resolve_with_newest_home_assistant(tmp_path: Path) -> None:
    wanted = tmp_path / "requirements.in"
    wanted.write_text("\n".join([f"homeassistant=={NEWEST_HA}", *MANIFEST["requirements"]]) + "\n")
    result = subprocess.run(
        [_uv(), "pip", "compile", "--quiet", "--no-header", "--python-version", ITS_PYTHON,
         "--python-platform", "x86_64-manylinux_2_28", str(wanted)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "UV_NO_PROGRESS": "1"},
    )  # fmt: skip
    if result.returncode != 0 and "Failed to fetch" in result.stderr and not os.environ.get("CI"):
        pytest.skip(f"package registry unreachable: {result.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = {
        m.group(1).lower().replace("_", "-"): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", result.stdout, re.MULTILINE)
    }
    assert resolved["homeassistant"] == NEWEST_HA
    for requirement in MANIFEST["requirements"]:
        name = re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in resolved, f"{name} missing from the resolution"
