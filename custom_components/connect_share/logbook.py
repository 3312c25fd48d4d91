"""Logbook entries for every access (session start and end)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_ACCESS


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    @callback
    def describe(event: Event) -> dict[str, Any]:
        d = event.data
        verb = "started watching" if d.get("action") == "session_started" else "stopped watching"
        message = (
            f"{verb} {d.get('camera')}: {d.get('officer')} (badge {d.get('badge')}), "
            f"case {d.get('case_number')}"
        )
        if d.get("action") != "session_started":
            message += f", {d.get('frames_sent', 0)} frames ({d.get('reason', '')})"
        return {"name": "Connect Share", "message": message, "entity_id": d.get("entity_id")}

    async_describe_event(DOMAIN, EVENT_ACCESS, describe)
