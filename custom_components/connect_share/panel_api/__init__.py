"""Websocket commands for the resident's panel and card (``connect_share/...``).

The panel and the card get their data only through these commands (HA's authenticated
websocket; no new HTTP view). Reading is open to any logged-in user (the card sits on
residents' dashboards); everything that changes sharing (answers, stops, pause, revokes,
camera settings, footage) and the camera images are admin only. Bad input (unknown entry,
camera, request or session; a malformed polygon) is refused with a clear error before anything
changes. Camera settings are validated by the options flow's own schema and the one mask
parser (``protocol/masks.py``), stored in the same entry options, and the entry is reloaded.
"""

from __future__ import annotations

from homeassistant.components.websocket_api import async_register_command
from homeassistant.core import HomeAssistant, callback

from . import cameras, footage, history, now, requests

COMMANDS = (
    now.ws_overview,
    now.ws_subscribe,
    now.ws_stop_session,
    now.ws_stop_all,
    now.ws_revoke,
    now.ws_pause,
    now.ws_resume,
    requests.ws_requests,
    requests.ws_approve,
    requests.ws_decline,
    footage.ws_footage_events,
    footage.ws_footage_preview,
    footage.ws_footage_share,
    history.ws_history,
    history.ws_history_csv,
    cameras.ws_cameras,
    cameras.ws_camera_save,
    cameras.ws_camera_sharing,
    cameras.ws_camera_snapshot,
)


@callback
def async_register_commands(hass: HomeAssistant) -> None:
    for command in COMMANDS:
        async_register_command(hass, command)
