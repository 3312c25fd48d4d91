"""Fixtures for the Home Assistant side: a fake (or real) hub, a config dir, test cameras."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.camera import Camera
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
from pytest_homeassistant_custom_component.common import MockPlatform, mock_platform

from custom_components.connect_share import logbook
from custom_components.connect_share.const import DOMAIN

from .fake_hub import FakeHub

CAMERAS = ("camera.front", "camera.back")


def jpeg_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


class StillCamera(Camera):
    """A camera entity that returns one real JPEG (what any HA camera gives us)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"still_{name}"
        self.image = jpeg_bytes()

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes:
        return self.image


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    hass.config.config_dir = str(tmp_path)
    hass.config.latitude = 52.3731
    hass.config.longitude = 4.8922
    return tmp_path


@pytest.fixture
async def cameras(hass: HomeAssistant) -> dict[str, StillCamera]:
    cams = {"camera.front": StillCamera("Front"), "camera.back": StillCamera("Back")}

    async def setup_platform(hass, config, add_entities, discovery_info=None) -> None:
        add_entities(list(cams.values()))

    mock_platform(hass, "test.camera", MockPlatform(async_setup_platform=setup_platform))
    assert await async_setup_component(hass, "camera", {"camera": {"platform": "test"}})
    await hass.async_block_till_done()
    assert hass.states.get("camera.front") is not None
    return cams


@pytest.fixture
async def fake_hub(socket_enabled: None) -> AsyncIterator[FakeHub]:
    hub = FakeHub()
    await hub.start()
    yield hub
    await hub.stop()


async def until(pred: Callable[[], Any], what: str = "condition") -> None:
    """Wait (without asserting on time) until ``pred()`` holds; 10 s is only a safety net."""
    try:
        async with asyncio.timeout(10):
            while not pred():
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


def camera_options(mode: str = "on_request", **kw: Any) -> dict[str, Any]:
    base = {
        "mode": mode,
        "schedule": "",
        "auto_incident_types": [],
        "auto_max_distance_m": 200,
        "max_session_s": 900,
        "max_fps": 5,
        "masks": "",
    }
    base.update(kw)
    return base


async def enroll(hass: HomeAssistant, url: str, code: str) -> ConfigEntry:
    """Run the real config flow: URL + code, fingerprint confirmation, enrollment."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "code": code}
    )
    assert result["step_id"] == "confirm", result
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry", result
    await hass.async_block_till_done()
    return result["result"]


async def set_cameras(
    hass: HomeAssistant, entry: ConfigEntry, cams: dict[str, dict], **opts
) -> None:
    options = {"cameras": {c: {**o, "name": c.split(".")[1].title()} for c, o in cams.items()}}
    options["notify_target"] = opts.get("notify_target", "")
    await update_options(hass, entry, options)


async def update_options(hass: HomeAssistant, entry: ConfigEntry, options: dict) -> None:
    """Store new options and reload, as the options flow (OptionsFlowWithReload) does."""
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


def logbook_describer(hass: HomeAssistant, event_type: str) -> Callable[[Event], dict[str, Any]]:
    """The integration's logbook description function for one of its bus events."""
    described: dict[str, Callable[[Event], dict[str, Any]]] = {}

    def register(domain: str, event: str, fn: Callable[[Event], dict[str, Any]]) -> None:
        assert domain == DOMAIN
        described[event] = fn

    logbook.async_describe_events(hass, register)
    return described[event_type]
