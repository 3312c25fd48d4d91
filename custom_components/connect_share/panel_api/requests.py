"""The panel's Requests section: open requests and the resident's answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_INVALID_FORMAT,
    ERR_NOT_FOUND,
)
from homeassistant.core import HomeAssistant

from .common import (
    CommandError,
    command,
    iso,
    purpose_fields,
    targets,
    with_request,
)

if TYPE_CHECKING:
    from ..installation import Installation


def request_row(inst: Installation, pending: Any) -> dict[str, Any]:
    row: dict[str, Any] = pending.as_dict()
    req = pending.request
    inc = req.incident
    row["camera_names"] = {c: inst.camera_names.get(c, c) for c in row["cameras"]}
    row["area"] = {"lat": inc.lat, "lon": inc.lon, "radius_m": inc.radius_m}
    row["window_start_iso"] = iso(req.window_start)
    row["window_end_iso"] = iso(req.window_end)
    row.update(purpose_fields(inc.purpose))
    known = inst.requests.known.get(req.request_id)
    row["footage"] = list(known.footage) if known else []
    return row


@command("requests")
async def ws_requests(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    insts = targets(hass, msg)
    return {
        "pending": [
            {"entry_id": i.entry.entry_id, **request_row(i, p)}
            for i in insts
            for p in i.pending.values()
        ],
        "footage_requests": [
            {
                "entry_id": i.entry.entry_id,
                "request_id": rid,
                "status": k.status,
                "incident_id": k.request.incident.incident_id,
                "case_number": k.request.incident.case_number,
                "officer": k.request.incident.officer_name,
                "cameras": list(i.state.approvals[rid].cameras) if rid in i.state.approvals else [],
                "window_start_iso": iso(k.request.window_start),
                "window_end_iso": iso(k.request.window_end),
            }
            for i in insts
            for rid, k in i.requests.known.items()
            if k.request.scope == "clip" and k.status == "approved"
        ],
    }


@command(
    "request/approve",
    {
        probatio.Required("request_id"): str,
        probatio.Optional("cameras"): [str],
    },
    admin=True,
)
async def ws_approve(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Approve the chosen cameras (all askable ones by default); the others are declined."""
    inst = with_request(hass, msg, pending=True)
    askable = inst.pending[msg["request_id"]].askable()
    cameras = msg.get("cameras")
    if cameras is not None:
        if not cameras:
            raise CommandError(ERR_INVALID_FORMAT, "choose at least one camera (or decline)")
        if unknown := [c for c in cameras if c not in askable]:
            raise CommandError(
                ERR_NOT_FOUND,
                f"camera {', '.join(unknown)} is not part of this request",
            )
    approved = await inst.async_approve(msg["request_id"], cameras)
    return {"approved_cameras": approved}


@command(
    "request/decline",
    {
        probatio.Required("request_id"): str,
    },
    admin=True,
)
async def ws_decline(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = with_request(hass, msg, pending=True)
    await inst.async_decline(msg["request_id"])
    return {"declined": msg["request_id"]}
