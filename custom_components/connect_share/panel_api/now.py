"""The panel's Now section and the card: the overview, its live subscription, and stopping,
revoking, pausing and resuming sharing."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_INVALID_FORMAT,
    ERR_NOT_FOUND,
)
from homeassistant.components.websocket_api.decorators import (
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from ..const import DOMAIN
from .common import (
    PREFIX,
    CommandError,
    command,
    installation,
    iso,
    loaded,
    purpose_fields,
    targets,
)
from .requests import request_row

if TYPE_CHECKING:
    from ..installation import Installation


def _session_row(inst: Installation, session: Any) -> dict[str, Any]:
    row: dict[str, Any] = session.as_dict()
    c = session.grant.claims
    row["camera_name"] = inst.camera_names.get(session.camera_id, session.camera_id)
    row["token_id"] = c.token_id
    row["since"] = iso(session.started_at)
    row["until_iso"] = iso(session.deadline)
    row.update(purpose_fields(c.purpose))
    return row


def _overview(inst: Installation) -> dict[str, Any]:
    paused = inst.is_paused()
    return {
        "entry_id": inst.entry.entry_id,
        "title": inst.entry.title,
        "connected": inst.connection.is_connected,
        "paused": paused,
        "paused_until": iso(inst.paused_until()) if paused else None,
        "paused_forever": paused and inst.paused_until() is None,
        "sessions": [_session_row(inst, s) for s in inst.sessions.values()],
        "pending": [request_row(inst, p) for p in inst.pending.values()],
        "cameras": [
            {
                "camera": cid,
                "name": inst.camera_names.get(cid, cid),
                "mode": settings.mode,
                "shared": cid not in inst.state.sharing_disabled,
                "being_viewed": inst.live.being_viewed(cid),
            }
            for cid, settings in inst.cameras.items()
        ],
    }


@command("overview")
async def ws_overview(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    if "entry_id" in msg:
        return {"entries": [_overview(installation(hass, msg))]}
    return {"entries": [_overview(inst) for inst in loaded(hass)]}


@websocket_command({probatio.Required("type"): PREFIX + "subscribe"})
@callback
def ws_subscribe(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The overview now and after every change (sessions, requests, pause, ...)."""

    @callback
    def send() -> None:
        connection.send_message(
            event_message(msg["id"], {"entries": [_overview(inst) for inst in loaded(hass)]})
        )

    unsubs = [
        async_dispatcher_connect(hass, f"{DOMAIN}_{e.entry_id}_update", send)
        for e in hass.config_entries.async_entries(DOMAIN)
    ]

    @callback
    def unsubscribe() -> None:
        for unsub in unsubs:
            unsub()

    connection.subscriptions[msg["id"]] = unsubscribe
    connection.send_result(msg["id"])
    send()


# --- change: live sessions, pause ------------------------------------------------------------


@command(
    "session/stop",
    {
        probatio.Required("session_id"): str,
    },
    admin=True,
)
async def ws_stop_session(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Stop one live view and revoke its token, so the officer cannot simply reopen it."""
    for inst in targets(hass, msg):
        session = inst.sessions.get(msg["session_id"])
        if session is not None:
            token_id = session.grant.claims.token_id
            await inst.async_revoke(token_id, None)
            await session.stop("resident_stopped")  # a no-op when the revoke ended it
            return {"stopped": msg["session_id"], "revoked_token": token_id}
    raise CommandError(
        ERR_NOT_FOUND, f"session {msg['session_id']} is not running (already ended?)"
    )


@command("stop_all", admin=True)
async def ws_stop_all(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Revoke all: every session ends at once, every token issued so far is dead."""
    insts = targets(hass, msg)
    for inst in insts:
        await inst.async_revoke_all(reason="panel")
    return {"entries": [i.entry.entry_id for i in insts]}


@command(
    "revoke",
    {
        probatio.Optional("token_id"): str,
        probatio.Optional("incident_id"): str,
    },
    admin=True,
)
async def ws_revoke(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    token_id, incident_id = msg.get("token_id"), msg.get("incident_id")
    if not token_id and not incident_id:
        raise CommandError(ERR_INVALID_FORMAT, "give a token_id or an incident_id")
    insts = targets(hass, msg)
    for inst in insts:
        await inst.async_revoke(token_id, incident_id)
    return {"revoked": True}


@command(
    "pause",
    {
        probatio.Exclusive("duration_s", "until"): probatio.All(
            probatio.Coerce(float), probatio.Range(min=1, max=366 * 86400)
        ),
        probatio.Exclusive("until", "until"): probatio.Coerce(float),
    },
    admin=True,
)
async def ws_pause(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Pause for a duration (1 h), until a moment (tomorrow, custom) or, with neither, until
    resumed. Pausing ends every live view at once (as the pause switch does)."""
    now = time.time()
    if "duration_s" in msg:
        until = now + msg["duration_s"]
    elif "until" in msg:
        until = msg["until"]
        if not math.isfinite(until) or until <= now:
            raise CommandError(ERR_INVALID_FORMAT, "'until' must be in the future")
        if until > now + 366 * 86400:
            raise CommandError(ERR_INVALID_FORMAT, "'until' is more than a year away")
    else:
        until = math.inf
    insts = targets(hass, msg)
    for inst in insts:
        await inst.async_set_paused(until, reason="panel")
    return {"paused_until": iso(until)}


@command("resume", admin=True)
async def ws_resume(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    insts = targets(hass, msg)
    for inst in insts:
        await inst.async_set_paused(None, reason="panel")
    return {"paused": False}
