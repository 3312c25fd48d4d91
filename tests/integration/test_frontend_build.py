"""The shipped panel and card are exactly what the build produces, and Home Assistant serves
them from the integration's folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.panel import CARD_FILE, PANEL_FILE, STATIC_URL, WWW

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"


def _need_node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is required in CI (scripts/debian-packages.txt: nodejs, npm)")
        pytest.skip("node is not installed here")
    if not (FRONTEND / "node_modules" / "esbuild").is_dir():
        # Installed by the setup step (scripts/test runs `npm ci`), never during a test.
        pytest.fail("frontend/node_modules is missing: run scripts/test (it runs npm ci)")
    return node


def test_shipped_bundle_is_what_the_build_produces(tmp_path: Path) -> None:
    node = _need_node()
    subprocess.run(
        [node, str(FRONTEND / "build.mjs"), str(tmp_path)], check=True, cwd=FRONTEND, timeout=120
    )
    for name in (PANEL_FILE, CARD_FILE):
        built = (tmp_path / name).read_bytes()
        shipped = (WWW / name).read_bytes()
        assert built == shipped, f"{name} is stale: run `npm run build` in frontend/"


def test_lockfile_pins_the_build_tools() -> None:
    lock = (FRONTEND / "package-lock.json").read_text()
    package = (FRONTEND / "package.json").read_text()
    for dep in ('"esbuild": "0.25.5"', '"lit": "3.3.0"'):
        assert dep in package
    assert '"node_modules/esbuild"' in lock and '"lockfileVersion": 3' in lock


@pytest.mark.usefixtures("enable_custom_integrations")
async def test_home_assistant_serves_the_files(hass: HomeAssistant, hass_client) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client()
    for name in (PANEL_FILE, CARD_FILE):
        response = await client.get(f"{STATIC_URL}/{name}")
        assert response.status == 200
        assert await response.read() == (WWW / name).read_bytes()
    assert (await client.get(f"{STATIC_URL}/../manifest.json")).status == 404
