"""The sidebar panel and the dashboard card, registered with Home Assistant's real frontend
component: the panel is there once however many installations are set up, only
administrators get it, its module and the card are served from the integration's folder, and
it goes away when the last installation is deleted (a sidebar entry for nothing would stay
otherwise), never on a reload (saving a camera reloads the entry; the open page must stay)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.connect_share import hub_client
from custom_components.connect_share.panel import CARD_FILE, PANEL_FILE, PANEL_URL_PATH, WWW

from .conftest import camera_options, enroll, set_cameras, until
from .fake_hub import FakeHub

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


@pytest.fixture
async def frontend(hass: HomeAssistant, tmp_path: Path) -> None:
    """The real frontend component; its own built files (hass_frontend) are not installed in
    the test venv, so it serves an empty development folder instead."""
    (tmp_path / "frontend" / "hass_frontend").mkdir(parents=True)
    config = {"frontend": {"development_repo": str(tmp_path / "frontend")}}
    assert await async_setup_component(hass, "frontend", config)
    await hass.async_block_till_done()


async def _panels(client: Any) -> dict[str, Any]:
    await client.send_json_auto_id({"type": "get_panels"})
    msg = await client.receive_json()
    assert msg["success"], msg
    panels: dict[str, Any] = msg["result"]
    return panels


def _card_urls(hass: HomeAssistant) -> list[str]:
    return [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if CARD_FILE in u]


async def test_panel_once_admin_only_served_kept_on_reload_gone_with_the_last_entry(
    hass: HomeAssistant,
    frontend: None,
    fake_hub: FakeHub,
    config_dir: Path,
    hass_ws_client: Any,
    hass_read_only_access_token: str,
    hass_client: Any,
) -> None:
    first = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await set_cameras(hass, first, {"camera.front": camera_options()})
    admin = await hass_ws_client(hass)
    resident = await hass_ws_client(hass, hass_read_only_access_token)

    panel = (await _panels(admin))[PANEL_URL_PATH]
    assert panel["component_name"] == "custom" and panel["require_admin"] is True
    assert panel["title"] == "Connect Share"
    custom = panel["config"]["_panel_custom"]
    assert custom["name"] == "connect-share-panel"
    # A non-admin user of the house does not get the panel (it changes sharing).
    assert PANEL_URL_PATH not in await _panels(resident)

    # The module and the card are the shipped files, versioned by content.
    http = await hass_client()
    (card_url,) = _card_urls(hass)
    for url, name in ((custom["module_url"], PANEL_FILE), (card_url, CARD_FILE)):
        resp = await http.get(url)
        assert resp.status == 200, url
        assert await resp.read() == (WWW / name).read_bytes()

    # A second installation (another hub): still one panel, one card.
    other_hub = FakeHub()
    await other_hub.start()
    try:
        second = await enroll(hass, other_hub.url, other_hub.new_code())
        await until(lambda: second.runtime_data.connection.is_connected, "second connected")
        assert list(await _panels(admin)).count(PANEL_URL_PATH) == 1
        assert len(_card_urls(hass)) == 1

        # Reloading (a camera saved in the panel reloads the entry) and unloading keep the
        # panel without a panels_updated event, which makes the frontend drop the open page.
        updates = async_capture_events(hass, "panels_updated")
        await hass.config_entries.async_reload(first.entry_id)
        await hass.async_block_till_done()
        assert await hass.config_entries.async_unload(first.entry_id)
        assert await hass.config_entries.async_unload(second.entry_id)
        await hass.async_block_till_done()
        assert PANEL_URL_PATH in await _panels(admin)
        assert updates == []

        # Deleting one keeps it while another exists; deleting the last takes panel and card.
        await hass.config_entries.async_remove(first.entry_id)
        await hass.async_block_till_done()
        assert PANEL_URL_PATH in await _panels(admin)
        await hass.config_entries.async_remove(second.entry_id)
        await hass.async_block_till_done()
        assert PANEL_URL_PATH not in await _panels(admin)
        assert _card_urls(hass) == []

        # A new installation: back, once.
        third = await enroll(hass, fake_hub.url, fake_hub.new_code())
        await hass.async_block_till_done()
        assert list(await _panels(admin)).count(PANEL_URL_PATH) == 1
        assert len(_card_urls(hass)) == 1
        assert await hass.config_entries.async_unload(third.entry_id)
    finally:
        await other_hub.stop()


async def test_without_the_frontend_the_files_are_served_and_the_api_works(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    config_dir: Path,
    hass_ws_client: Any,
    hass_client: Any,
) -> None:
    """A headless instance (no frontend component): no panel to register, the built files
    and the websocket commands still work."""
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await set_cameras(hass, entry, {"camera.front": camera_options()})
    assert "frontend" not in hass.config.components
    http = await hass_client()
    resp = await http.get(f"/connect_share_static/{PANEL_FILE}")
    assert resp.status == 200 and await resp.read() == (WWW / PANEL_FILE).read_bytes()
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "connect_share/cameras"})
    msg = await ws.receive_json()
    assert msg["success"] and [c["camera"] for c in msg["result"]["cameras"]] == ["camera.front"]
    assert await hass.config_entries.async_unload(entry.entry_id)
