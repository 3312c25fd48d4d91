"""Diagnostics: state and settings, with keys and tokens redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_CODE, CONF_PRIVATE_KEY
from .installation import ConnectShareConfigEntry

# Secrets: keys, codes, tokens; "password"/"username": go2rtc and ONVIF credentials in the
# options (camera_sources.py). Personal data: camera coordinates (the home's location),
# officers' names, ids and badges, case numbers and free-text reasons. Diagnostics get
# pasted into public bug reports.
TO_REDACT = {
    CONF_PRIVATE_KEY,
    CONF_CODE,
    "token",
    "signature",
    "nonce",
    "password",
    "username",
    "lat",
    "lon",
    "latitude",
    "longitude",
    "officer",
    "officer_id",
    "officer_name",
    "badge",
    "case_number",
    "reason",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConnectShareConfigEntry
) -> dict[str, Any]:
    installation = entry.runtime_data
    conn = installation.connection
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "connection": {
                "connected": conn.is_connected,
                "connected_since": conn.connected_since,
                "failures": conn.failures,
                "last_error": conn.last_error,
            },
            "paused": installation.is_paused(),
            "sharing_disabled": sorted(installation.state.sharing_disabled),
            "pending_requests": [p.as_dict() for p in installation.pending.values()],
            "grants": [
                {"token_id": g.token_id, "incident_id": g.incident_id, "cameras": list(g.cameras)}
                for g in installation.grants.values()
            ],
            "sessions": [s.as_dict() for s in installation.sessions.values()],
            "detection": installation.detection.diagnostics(),
            "outbox_pending": len(installation.ctx.outbox.pending),
            "audit": {
                "path": str(installation.audit.path),
                "entries": len(installation.audit.entries),
                "verification_ok": installation.audit.verification.ok,
                "problems": installation.audit.verification.problems,
                "head": installation.audit.head,
                "cross_check": installation.audit_check,
                "recent": [
                    {"seq": e.seq, "ts": e.ts, "action": e.action, "detail": e.detail}
                    for e in installation.audit.tail(20)
                ],
            },
        },
        TO_REDACT,
    )
