"""The resident's panel and dashboard card: registered with Home Assistant's frontend.

The built JavaScript ships in ``www/`` (HACS installs no build tools; the source and the build
are in the repository's ``frontend/`` folder and a test checks the shipped files are what the
build produces). The files are served from the integration's folder; the panel is admin
only, is added with the first loaded entry and taken away when the last one is deleted, and gets
its data through the ``connect_share/*`` websocket commands (``panel_api/``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

WWW = Path(__file__).parent / "www"
STATIC_URL = f"/{DOMAIN}_static"
PANEL_URL_PATH = "connect-share"
PANEL_ELEMENT = "connect-share-panel"
PANEL_FILE = "connect-share-panel.js"
CARD_FILE = "connect-share-card.js"
_CARD_URL: HassKey[str] = HassKey(f"{DOMAIN}_card_url")


def request_url(request_id: str) -> str:
    """Where a notification about a request links to: the panel, that request in focus."""
    return f"/{PANEL_URL_PATH}?request={request_id}"


def _versioned(name: str) -> str:
    digest = hashlib.sha256((WWW / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_URL}/{name}?v={digest}"


async def async_setup_frontend(hass: HomeAssistant) -> None:
    """Serve the files (once, with the integration; the websocket API works without them)."""
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(WWW), cache_headers=False)]
    )


async def async_add_panel(hass: HomeAssistant) -> None:
    """With the frontend loaded, add the sidebar panel and the card (once, whatever the
    number of entries)."""
    if "frontend" not in hass.config.components:
        return  # e.g. a headless test instance: the websocket API still works
    from homeassistant.components import panel_custom
    from homeassistant.components.frontend import add_extra_js_url, async_panel_exists

    if async_panel_exists(hass, PANEL_URL_PATH):
        return
    panel_url, card_url = await hass.async_add_executor_job(
        lambda: (_versioned(PANEL_FILE), _versioned(CARD_FILE))
    )
    if async_panel_exists(hass, PANEL_URL_PATH):  # another entry added it meanwhile
        return
    add_extra_js_url(hass, card_url)
    hass.data[_CARD_URL] = card_url
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=PANEL_ELEMENT,
        sidebar_title="Connect Share",
        sidebar_icon="mdi:cctv",
        module_url=panel_url,
        require_admin=True,
        config={},
    )


def async_remove_panel_if_last(hass: HomeAssistant, leaving_entry_id: str) -> None:
    """Take the panel and the card away when the last installation is deleted.

    Not on unload: saving a camera reloads the entry, and a panel removed and added again
    makes the frontend drop the resident's open page. A disabled (unloaded) installation
    keeps the panel, which then says Connect Share is not set up."""
    if any(e.entry_id != leaving_entry_id for e in hass.config_entries.async_entries(DOMAIN)):
        return
    if "frontend" not in hass.config.components:
        return
    from homeassistant.components.frontend import async_remove_panel, remove_extra_js_url

    async_remove_panel(hass, PANEL_URL_PATH, warn_if_unknown=False)
    if (card_url := hass.data.pop(_CARD_URL, None)) is not None:
        remove_extra_js_url(hass, card_url)
