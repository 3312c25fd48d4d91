"""Diagnostics: state and settings, with keys and tokens redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_CODE, CONF_PRIVATE_KEY
from .manager import ConnectShareConfigEntry

# "password": go2rtc server and ONVIF camera credentials in the options (camera_sources.py).
TO_REDACT = {CONF_PRIVATE_KEY, CONF_CODE, "token", "signature", "nonce", "password"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConnectShareConfigEntry
) -> dict[str, Any]:
    manager = entry.runtime_data
    conn = manager.connection
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "connection": {
                "connected": conn.is_connected,
                "connected_since": conn.connected_since,
                "failures": conn.failures,
                "last_error": conn.last_error,
            },
            "paused": manager.is_paused(),
            "sharing_disabled": sorted(manager.state.sharing_disabled),
            "pending_requests": [p.as_dict() for p in manager.pending.values()],
            "grants": [
                {"token_id": g.token_id, "incident_id": g.incident_id, "cameras": list(g.cameras)}
                for g in manager.grants.values()
            ],
            "sessions": [s.as_dict() for s in manager.sessions.values()],
            "detection": manager.detection.diagnostics() if manager.detection else None,
            "audit": {
                "path": str(manager.audit.path),
                "entries": len(manager.audit.entries),
                "verification_ok": manager.audit.verification.ok,
                "problems": manager.audit.verification.problems,
                "head": manager.audit.head,
                "cross_check": manager.audit_check,
                "recent": [
                    {"seq": e.seq, "ts": e.ts, "action": e.action, "detail": e.detail}
                    for e in manager.audit.tail(20)
                ],
            },
        },
        TO_REDACT,
    )
