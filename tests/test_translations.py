"""The UI texts: every form field explains itself, and the English translation is the source.

HA's quality scale (``config-flow``) asks for a ``data_description`` for every field of every
config, options and repair step; residents see it under the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).parents[1] / "custom_components" / "connect_share"


def _strings() -> dict[str, Any]:
    return json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8"))


def _steps(strings: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for flow in ("config", "options"):
        for name, step in strings.get(flow, {}).get("step", {}).items():
            yield f"{flow}.{name}", step
            for section, inner in step.get("sections", {}).items():
                yield f"{flow}.{name}.{section}", inner
    for issue, body in strings.get("issues", {}).items():
        for name, step in body.get("fix_flow", {}).get("step", {}).items():
            yield f"issues.{issue}.{name}", step


def test_every_field_has_a_description() -> None:
    missing = [
        f"{where}.{field}"
        for where, step in _steps(_strings())
        for field in step.get("data", {})
        if field not in step.get("data_description", {})
    ]
    assert not missing, missing


def test_descriptions_describe_fields_that_exist() -> None:
    stray = [
        f"{where}.{field}"
        for where, step in _steps(_strings())
        for field in step.get("data_description", {})
        if field not in step.get("data", {})
    ]
    assert not stray, stray


def test_english_translation_is_strings_json() -> None:
    english = json.loads((PACKAGE / "translations" / "en.json").read_text(encoding="utf-8"))
    assert english == _strings()
