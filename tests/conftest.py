"""Fixtures shared by the hub's and the integration's tests."""

from __future__ import annotations

import json
import logging
import os
import platform
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(__file__).parent / "vectors"
SHARED = Path(os.environ.get("CONNECT_SHARE_SHARED", ROOT.parent / "shared"))


def pytest_report_header() -> str:
    try:
        ha = metadata.version("homeassistant")
    except metadata.PackageNotFoundError:
        ha = "not installed"
    return f"Home Assistant {ha}, Python {platform.python_version()}"


class _DeprecationReports(logging.Handler):
    """Collects Home Assistant's reports of usage that "will stop working" in a later release
    (helpers.frame.report_usage and deprecated constants log them instead of raising)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "will stop working" in message or "is deprecated" in message:
            self.reports.append(f"{record.name}: {message.splitlines()[0][:400]}")


@pytest.fixture(autouse=True)
def fail_on_home_assistant_deprecations() -> Iterator[None]:
    """Every deprecation Home Assistant reports during a test fails that test."""
    handler = _DeprecationReports()
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
    if handler.reports:
        pytest.fail("Home Assistant reported deprecated usage:\n" + "\n".join(handler.reports))


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
