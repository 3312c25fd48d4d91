"""What every panel command shares: its declaration, errors, finding entries,
requests and cameras, and the small formatters."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_NOT_FOUND,
    WebSocketCommandHandler,
)
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..protocol.purpose import Purpose

if TYPE_CHECKING:
    from ..installation import Installation


PREFIX = f"{DOMAIN}/"
MAX_PAGE_SIZE = 500


class CommandError(Exception):
    """Refused before anything changed; ``code`` is a websocket error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Handler = Callable[[HomeAssistant, ActiveConnection, dict[str, Any]], Awaitable[Any]]


def command(
    name: str, fields: Mapping[Any, Any] | None = None, *, admin: bool = False
) -> Callable[[Handler], WebSocketCommandHandler]:
    """Declare the panel command ``connect_share/<name>``.

    It takes ``fields`` and an optional ``entry_id``; the handler's return value is sent as
    the result, a ``CommandError`` as the error. ``admin``: only administrators may call it
    (everything that changes sharing, and the camera images).
    """
    schema = {
        probatio.Required("type"): PREFIX + name,
        probatio.Optional("entry_id"): str,
        **(fields or {}),
    }

    def declare(func: Handler) -> WebSocketCommandHandler:
        @wraps(func)
        async def run(
            hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
        ) -> None:
            try:
                result = await func(hass, connection, msg)
            except CommandError as err:
                connection.send_error(msg["id"], err.code, err.message)
                return
            connection.send_result(msg["id"], result)

        declared = websocket_command(schema)(async_response(run))
        return require_admin(declared) if admin else declared

    return declare


# --- finding things ------------------------------------------------------------------------


def loaded(hass: HomeAssistant) -> list[Installation]:
    return [
        e.runtime_data
        for e in hass.config_entries.async_entries(DOMAIN)
        if e.state is ConfigEntryState.LOADED
    ]


def targets(hass: HomeAssistant, msg: dict[str, Any]) -> list[Installation]:
    """The entry named by ``entry_id``, else every loaded one (actions that apply to all)."""
    return [installation(hass, msg)] if "entry_id" in msg else loaded(hass)


def installation(hass: HomeAssistant, msg: dict[str, Any]) -> Installation:
    running = loaded(hass)
    entry_id = msg.get("entry_id")
    if entry_id is not None:
        for inst in running:
            if inst.entry.entry_id == entry_id:
                return inst
        raise CommandError(ERR_NOT_FOUND, f"no loaded Connect Share entry {entry_id}")
    if not running:
        raise CommandError(ERR_NOT_FOUND, "Connect Share is not set up")
    return running[0]


def with_request(hass: HomeAssistant, msg: dict[str, Any], *, pending: bool) -> Installation:
    request_id = msg["request_id"]
    candidates = targets(hass, msg)
    for inst in candidates:
        if (request_id in inst.pending) if pending else inst.requests.find(request_id):
            return inst
    raise CommandError(
        ERR_NOT_FOUND,
        f"request {request_id} is not waiting for an answer (already answered or expired)"
        if pending
        else f"request {request_id} is not known here",
    )


def require_camera(inst: Installation, camera_id: str) -> None:
    if camera_id not in inst.cameras:
        raise CommandError(ERR_NOT_FOUND, f"camera {camera_id} is not set up in Connect Share")


def iso(ts: float | None) -> str | None:
    if ts is None or not math.isfinite(ts):
        return None
    return dt_util.utc_from_timestamp(ts).isoformat()


def purpose_fields(purpose: Purpose | None) -> dict[str, Any]:
    """Agency and purpose as text for the panel (a Purpose object showed "[object Object]")."""
    if purpose is None or not purpose.stated:
        return {}
    out: dict[str, Any] = {"purpose_detail": purpose.detail()}
    if purpose.agency_name or purpose.agency_id:
        out["agency"] = " ".join(
            p
            for p in (purpose.agency_name, f"({purpose.agency_id})" if purpose.agency_id else "")
            if p
        )
    parts = []
    if purpose.offense_code:
        group = f" ({purpose.offense_group})" if purpose.offense_group else ""
        parts.append(f"offense {purpose.offense_code}{group}")
    if purpose.legal_basis == "warrant":
        parts.append(f"warrant {purpose.warrant_ref} ({purpose.warrant_court})")
    elif purpose.legal_basis:
        parts.append(purpose.legal_basis.replace("_", " "))
    if parts:
        out["purpose"] = " · ".join(parts)
    return out


def saved_masks(inst: Installation, camera_id: str) -> Any:
    """The privacy masks stored for a camera (what every picture that leaves gets)."""
    from ..protocol.masks import parse_masks

    return parse_masks(str(inst.ctx.cameras.options.get(camera_id, {}).get("masks") or ""))
