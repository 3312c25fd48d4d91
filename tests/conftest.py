"""Fixtures shared by the hub's and the integration's tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(__file__).parent / "vectors"
SHARED = Path(os.environ.get("CONNECT_SHARE_SHARED", ROOT.parent / "shared"))


def load_vectors(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


@pytest.fixture
def token_vectors() -> dict[str, Any]:
    return load_vectors("tokens.json")


@pytest.fixture
def message_vectors() -> dict[str, Any]:
    return load_vectors("messages.json")


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED}: set CONNECT_SHARE_SHARED")
    return SHARED
