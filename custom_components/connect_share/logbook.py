"""Logbook entries for every access and every request: who, for which case, and why."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_ACCESS, EVENT_REQUEST
from .protocol.purpose import Purpose


def _why(d: Mapping[str, Any]) -> str:
    """Agency, offense type, legal basis and the officer's reason, as the notifications say it."""
    return f"{Purpose.from_detail(d).describe()} Reason: {d.get('reason') or '-'}"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    @callback
    def describe_access(event: Event) -> dict[str, Any]:
        d = event.data
        verb = "started watching" if d.get("action") == "session_started" else "stopped watching"
        message = (
            f"{verb} {d.get('camera')}: {d.get('officer')} (badge {d.get('badge')}), "
            f"case {d.get('case_number')}"
        )
        if d.get("action") != "session_started":
            message += f", {d.get('frames_sent', 0)} frames ({d.get('end_reason', '')})"
        message += f". {_why(d)}"
        return {"name": "Connect Share", "message": message, "entity_id": d.get("entity_id")}

    @callback
    def describe_request(event: Event) -> dict[str, Any]:
        d = event.data
        cameras = ", ".join(str(c) for c in d.get("cameras") or []) or "-"
        message = (
            f"request from {d.get('officer')} (badge {d.get('badge')}), "
            f"case {d.get('case_number')}, {d.get('scope')} of {cameras}. {_why(d)}"
        )
        return {"name": "Connect Share", "message": message}

    async_describe_event(DOMAIN, EVENT_ACCESS, describe_access)
    async_describe_event(DOMAIN, EVENT_REQUEST, describe_request)
