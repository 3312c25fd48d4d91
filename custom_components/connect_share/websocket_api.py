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

import base64
import csv
import io
import json
import math
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_HOME_ASSISTANT_ERROR,
    ERR_INVALID_FORMAT,
    ERR_NOT_ALLOWED,
    ERR_NOT_FOUND,
    ERR_NOT_SUPPORTED,
    AsyncWebSocketCommandHandler,
)
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from .const import DOMAIN, OPT_CAMERAS
from .protocol.purpose import Purpose

if TYPE_CHECKING:
    from .installation import Installation

PREFIX = f"{DOMAIN}/"
MAX_PAGE_SIZE = 500
# Camera settings the panel may change: exactly the options flow's camera form.
CAMERA_FIELDS = (
    "mode",
    "lat",
    "lon",
    "heading",
    "schedule",
    "auto_incident_types",
    "auto_max_distance_m",
    "max_session_s",
    "max_fps",
    "masks",
    "detection",
    "detection_fps",
)
# Audit actions that are accesses (or attempts), as the History section shows them.
ACCESS_ACTIONS = frozenset(
    {
        "request_received",
        "request_approved",
        "request_declined",
        "grant_accepted",
        "grant_refused",
        "session_started",
        "session_refused",
        "session_closed",
        "footage_shared",
        "revoked",
        "pause",
        "resume",
        "sharing",
        "camera_settings",
    }
)
CSV_COLUMNS = (
    "seq",
    "time",
    "action",
    "camera",
    "officer",
    "badge",
    "incident_id",
    "case_number",
    "request_id",
    "session_id",
    "reason",
    "hash",
    "detail",
)


class CommandError(Exception):
    """Refused before anything changed; ``code`` is a websocket error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Handler = Callable[[HomeAssistant, ActiveConnection, dict[str, Any]], Any]


def _handler(func: Handler) -> AsyncWebSocketCommandHandler:
    """Run ``func``; its return value is the result, a ``CommandError`` the error."""

    @wraps(func)
    async def run(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        try:
            result = await func(hass, connection, msg)
        except CommandError as err:
            connection.send_error(msg["id"], err.code, err.message)
            return
        connection.send_result(msg["id"], result)

    return run


# --- finding things ------------------------------------------------------------------------


def _loaded(hass: HomeAssistant) -> list[Installation]:
    return [
        e.runtime_data
        for e in hass.config_entries.async_entries(DOMAIN)
        if e.state is ConfigEntryState.LOADED
    ]


def _targets(hass: HomeAssistant, msg: dict[str, Any]) -> list[Installation]:
    """The entry named by ``entry_id``, else every loaded one (actions that apply to all)."""
    return [_installation(hass, msg)] if "entry_id" in msg else _loaded(hass)


def _installation(hass: HomeAssistant, msg: dict[str, Any]) -> Installation:
    loaded = _loaded(hass)
    entry_id = msg.get("entry_id")
    if entry_id is not None:
        for inst in loaded:
            if inst.entry.entry_id == entry_id:
                return inst
        raise CommandError(ERR_NOT_FOUND, f"no loaded Connect Share entry {entry_id}")
    if not loaded:
        raise CommandError(ERR_NOT_FOUND, "Connect Share is not set up")
    return loaded[0]


def _with_request(hass: HomeAssistant, msg: dict[str, Any], *, pending: bool) -> Installation:
    request_id = msg["request_id"]
    candidates = _targets(hass, msg)
    for inst in candidates:
        if (request_id in inst.pending) if pending else inst.requests.find(request_id):
            return inst
    raise CommandError(
        ERR_NOT_FOUND,
        f"request {request_id} is not waiting for an answer (already answered or expired)"
        if pending
        else f"request {request_id} is not known here",
    )


def _camera(inst: Installation, camera_id: str) -> None:
    if camera_id not in inst.cameras:
        raise CommandError(ERR_NOT_FOUND, f"camera {camera_id} is not set up in Connect Share")


# --- read: the overview (panel's Now + card) ------------------------------------------------


def _iso(ts: float | None) -> str | None:
    if ts is None or not math.isfinite(ts):
        return None
    return dt_util.utc_from_timestamp(ts).isoformat()


def _session_row(inst: Installation, session: Any) -> dict[str, Any]:
    row: dict[str, Any] = session.as_dict()
    c = session.grant.claims
    row["camera_name"] = inst.camera_names.get(session.camera_id, session.camera_id)
    row["token_id"] = c.token_id
    row["since"] = _iso(session.started_at)
    row["until_iso"] = _iso(session.deadline)
    row.update(_purpose_fields(c.purpose))
    return row


def _purpose_fields(purpose: Purpose | None) -> dict[str, Any]:
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


def _request_row(inst: Installation, pending: Any) -> dict[str, Any]:
    row: dict[str, Any] = pending.as_dict()
    req = pending.request
    inc = req.incident
    row["camera_names"] = {c: inst.camera_names.get(c, c) for c in row["cameras"]}
    row["area"] = {"lat": inc.lat, "lon": inc.lon, "radius_m": inc.radius_m}
    row["window_start_iso"] = _iso(req.window_start)
    row["window_end_iso"] = _iso(req.window_end)
    row.update(_purpose_fields(inc.purpose))
    known = inst.requests.known.get(req.request_id)
    row["footage"] = list(known.footage) if known else []
    return row


def _overview(inst: Installation) -> dict[str, Any]:
    paused = inst.is_paused()
    return {
        "entry_id": inst.entry.entry_id,
        "title": inst.entry.title,
        "connected": inst.connection.is_connected,
        "paused": paused,
        "paused_until": _iso(inst.paused_until()) if paused else None,
        "paused_forever": paused and inst.paused_until() is None,
        "sessions": [_session_row(inst, s) for s in inst.sessions.values()],
        "pending": [_request_row(inst, p) for p in inst.pending.values()],
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


@websocket_command(
    {probatio.Required("type"): PREFIX + "overview", probatio.Optional("entry_id"): str}
)
@async_response
@_handler
async def ws_overview(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    if "entry_id" in msg:
        return {"entries": [_overview(_installation(hass, msg))]}
    return {"entries": [_overview(inst) for inst in _loaded(hass)]}


@websocket_command({probatio.Required("type"): PREFIX + "subscribe"})
@callback
def ws_subscribe(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The overview now and after every change (sessions, requests, pause, ...)."""

    @callback
    def send() -> None:
        connection.send_message(
            event_message(msg["id"], {"entries": [_overview(inst) for inst in _loaded(hass)]})
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


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "session/stop",
        probatio.Required("session_id"): str,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_stop_session(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Stop one live view and revoke its token, so the officer cannot simply reopen it."""
    for inst in _targets(hass, msg):
        session = inst.sessions.get(msg["session_id"])
        if session is not None:
            token_id = session.grant.claims.token_id
            await inst.async_revoke(token_id, None)
            await session.stop("resident_stopped")  # a no-op when the revoke ended it
            return {"stopped": msg["session_id"], "revoked_token": token_id}
    raise CommandError(
        ERR_NOT_FOUND, f"session {msg['session_id']} is not running (already ended?)"
    )


@require_admin
@websocket_command(
    {probatio.Required("type"): PREFIX + "stop_all", probatio.Optional("entry_id"): str}
)
@async_response
@_handler
async def ws_stop_all(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Revoke all: every session ends at once, every token issued so far is dead."""
    insts = _targets(hass, msg)
    for inst in insts:
        await inst.async_revoke_all(reason="panel")
    return {"entries": [i.entry.entry_id for i in insts]}


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "revoke",
        probatio.Optional("token_id"): str,
        probatio.Optional("incident_id"): str,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_revoke(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    token_id, incident_id = msg.get("token_id"), msg.get("incident_id")
    if not token_id and not incident_id:
        raise CommandError(ERR_INVALID_FORMAT, "give a token_id or an incident_id")
    insts = _targets(hass, msg)
    for inst in insts:
        await inst.async_revoke(token_id, incident_id)
    return {"revoked": True}


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "pause",
        probatio.Exclusive("duration_s", "until"): probatio.All(
            probatio.Coerce(float), probatio.Range(min=1, max=366 * 86400)
        ),
        probatio.Exclusive("until", "until"): probatio.Coerce(float),
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
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
    insts = _targets(hass, msg)
    for inst in insts:
        await inst.async_set_paused(until, reason="panel")
    return {"paused_until": _iso(until)}


@require_admin
@websocket_command(
    {probatio.Required("type"): PREFIX + "resume", probatio.Optional("entry_id"): str}
)
@async_response
@_handler
async def ws_resume(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    insts = _targets(hass, msg)
    for inst in insts:
        await inst.async_set_paused(None, reason="panel")
    return {"paused": False}


# --- requests -------------------------------------------------------------------------------


@websocket_command(
    {probatio.Required("type"): PREFIX + "requests", probatio.Optional("entry_id"): str}
)
@async_response
@_handler
async def ws_requests(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    insts = _targets(hass, msg)
    return {
        "pending": [
            {"entry_id": i.entry.entry_id, **_request_row(i, p)}
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
                "window_start_iso": _iso(k.request.window_start),
                "window_end_iso": _iso(k.request.window_end),
            }
            for i in insts
            for rid, k in i.requests.known.items()
            if k.request.scope == "clip" and k.status == "approved"
        ],
    }


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "request/approve",
        probatio.Required("request_id"): str,
        probatio.Optional("cameras"): [str],
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_approve(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Approve the chosen cameras (all askable ones by default); the others are declined."""
    inst = _with_request(hass, msg, pending=True)
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


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "request/decline",
        probatio.Required("request_id"): str,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_decline(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = _with_request(hass, msg, pending=True)
    await inst.async_decline(msg["request_id"])
    return {"declined": msg["request_id"]}


# --- footage ---------------------------------------------------------------------------------


async def _footage_events(inst: Installation, request_id: str) -> list[Any]:
    from .detection.footage import FootageError, FootageRequest, matching_events

    req = inst.requests.find(request_id)
    assert req is not None
    try:
        footage = FootageRequest.from_message(req)
    except FootageError as err:
        raise CommandError(
            ERR_INVALID_FORMAT, f"request {request_id} is not a footage request"
        ) from err
    detection = inst.detection
    if not detection.is_ready or detection.service is None:
        raise CommandError(
            ERR_NOT_SUPPORTED,
            f"on-device detection is not running ({detection.reason or 'not enabled'})",
        )
    found: list[Any] = await inst.hass.async_add_executor_job(
        matching_events, detection.service.store, footage
    )
    return found


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "footage/events",
        probatio.Required("request_id"): str,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_footage_events(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = _with_request(hass, msg, pending=False)
    found = await _footage_events(inst, msg["request_id"])
    return {
        "events": [
            {
                **s.event.to_dict(),
                "camera_name": inst.camera_names.get(s.camera_id, s.camera_id),
                "has_snapshot": s.snapshot is not None,
                "has_clip": s.clip is not None,
            }
            for s in found
        ]
    }


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "footage/preview",
        probatio.Required("request_id"): str,
        probatio.Required("event_id"): str,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_footage_preview(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """The event's snapshot with the camera's masks, as it would be shared."""
    from .media.jpeg import process_frame

    inst = _with_request(hass, msg, pending=False)
    found = await _footage_events(inst, msg["request_id"])
    stored = next((s for s in found if s.event_id == msg["event_id"]), None)
    if stored is None or stored.snapshot_path is None:
        raise CommandError(ERR_NOT_FOUND, f"event {msg['event_id']} has no snapshot in the window")
    masks = _saved_masks(inst, stored.camera_id)
    path = stored.snapshot_path

    def read() -> bytes:
        data = path.read_bytes()
        return data if stored.snapshot_masked else process_frame(data, masks)

    jpeg = await hass.async_add_executor_job(read)
    return {"content_type": "image/jpeg", "image": base64.b64encode(jpeg).decode()}


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "footage/share",
        probatio.Required("request_id"): str,
        probatio.Required("camera"): str,
        probatio.Required("event_ids"): probatio.All([str], probatio.Length(min=1)),
        probatio.Optional("kinds", default=["snapshot", "clip"]): probatio.All(
            [probatio.In(["snapshot", "clip"])], probatio.Length(min=1)
        ),
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_footage_share(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    from .detection.footage import FootageError

    inst = _with_request(hass, msg, pending=False)
    _camera(inst, msg["camera"])
    try:
        records = await inst.detection.async_share(
            msg["request_id"], msg["camera"], msg["event_ids"], tuple(msg["kinds"])
        )
    except FootageError as err:
        raise CommandError(ERR_NOT_ALLOWED, f"not shared: {err}") from err
    return {"evidence": records}


# --- history ---------------------------------------------------------------------------------


def _history_rows(inst: Installation) -> list[dict[str, Any]]:
    """Every access-related audit entry, with who/incident filled in from earlier entries of
    the same session or request (a session's end names only the session)."""
    by_session: dict[str, dict[str, Any]] = {}
    by_request: dict[str, dict[str, Any]] = {}
    rows = []
    for e in inst.audit.entries:
        if e.action not in ACCESS_ACTIONS:
            continue
        d = e.detail
        who = {k: d[k] for k in ("officer", "badge", "incident_id", "case_number") if d.get(k)}
        sid, rid = d.get("session_id"), d.get("request_id")
        if e.action == "session_started" and isinstance(sid, str):
            by_session[sid] = who
        if e.action == "request_received" and isinstance(rid, str):
            by_request[rid] = who
        known = (by_session.get(sid) if isinstance(sid, str) else None) or (
            by_request.get(rid) if isinstance(rid, str) else None
        )
        cams = d.get("cameras") or list((d.get("verdicts") or {}).keys())
        camera = d.get("camera") or (",".join(cams) if isinstance(cams, list) else "")
        rows.append(
            {
                "seq": e.seq,
                "ts": e.ts,
                "time": _iso(e.ts),
                "action": e.action,
                "camera": camera,
                "officer": d.get("officer") or (known or {}).get("officer", ""),
                "badge": d.get("badge") or (known or {}).get("badge", ""),
                "incident_id": d.get("incident_id") or (known or {}).get("incident_id", ""),
                "case_number": d.get("case_number") or (known or {}).get("case_number", ""),
                "request_id": rid or "",
                "session_id": sid or "",
                "reason": d.get("reason", ""),
                "hash": e.hash,
                "detail": d,
            }
        )
    return rows


HISTORY_FILTERS: dict[str | probatio.Marker, Any] = {
    probatio.Optional("camera"): str,
    probatio.Optional("officer"): str,
    probatio.Optional("incident"): str,
    probatio.Optional("date_from"): str,
    probatio.Optional("date_to"): str,
    probatio.Optional("entry_id"): str,
}


def _date(msg: dict[str, Any], key: str) -> float | None:
    value = msg.get(key)
    if not value:
        return None
    parsed = dt_util.parse_datetime(value) or (
        dt_util.start_of_local_day(d) if (d := dt_util.parse_date(value)) else None
    )
    if parsed is None:
        raise CommandError(ERR_INVALID_FORMAT, f"{key}: not a date: {value}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    ts = parsed.timestamp()
    if key == "date_to" and isinstance(value, str) and len(value) <= 10:
        ts += 86400  # a date "to" includes that whole day
    return ts


def _filtered(inst: Installation, msg: dict[str, Any]) -> list[dict[str, Any]]:
    start, end = _date(msg, "date_from"), _date(msg, "date_to")
    camera = (msg.get("camera") or "").strip()
    officer = (msg.get("officer") or "").strip().lower()
    incident = (msg.get("incident") or "").strip().lower()
    out = []
    for row in _history_rows(inst):
        if camera and camera not in row["camera"].split(","):
            continue
        if officer and not (
            officer in str(row["officer"]).lower()
            or officer == str(row["badge"]).lower()
            or officer == str(row["detail"].get("officer_id", "")).lower()
        ):
            continue
        if incident and incident not in (
            str(row["incident_id"]).lower(),
            str(row["case_number"]).lower(),
        ):
            continue
        if start is not None and row["ts"] < start:
            continue
        if end is not None and row["ts"] >= end:
            continue
        out.append(row)
    return out


@websocket_command(
    {
        probatio.Required("type"): PREFIX + "history",
        probatio.Optional("page", default=0): probatio.All(int, probatio.Range(min=0)),
        probatio.Optional("page_size", default=50): probatio.All(
            int, probatio.Range(min=1, max=MAX_PAGE_SIZE)
        ),
        **HISTORY_FILTERS,
    }
)
@async_response
@_handler
async def ws_history(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Newest first, paged; with the chain's verification and the last hub cross-check."""
    inst = _installation(hass, msg)
    rows = list(reversed(_filtered(inst, msg)))
    page, size = msg["page"], msg["page_size"]
    verification = inst.audit.verification
    return {
        "total": len(rows),
        "page": page,
        "page_size": size,
        "rows": rows[page * size : (page + 1) * size],
        "chain": {
            "ok": verification.ok and inst.audit.writable,
            "verified_on_load": verification.ok,
            "writable": inst.audit.writable,
            "entries": len(inst.audit.entries),
            "problems": verification.problems[:10],
            "head": inst.audit.head,
        },
        "crosscheck": inst.audit_check,
        "cameras": {cid: inst.camera_names.get(cid, cid) for cid in inst.cameras},
    }


@websocket_command({probatio.Required("type"): PREFIX + "history/csv", **HISTORY_FILTERS})
@async_response
@_handler
async def ws_history_csv(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = _installation(hass, msg)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in _filtered(inst, msg):
        values = {
            **row,
            "detail": json.dumps(row["detail"], sort_keys=True, separators=(",", ":")),
        }
        writer.writerow([_csv_cell(values[c]) for c in CSV_COLUMNS])
    stamp = dt_util.now().strftime("%Y%m%d-%H%M%S")
    return {"filename": f"connect-share-history-{stamp}.csv", "csv": out.getvalue()}


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Officer-provided text must not become a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- cameras -----------------------------------------------------------------------------------


def _saved_masks(inst: Installation, camera_id: str) -> Any:
    from .protocol.masks import parse_masks

    return parse_masks(str(inst.ctx.cameras.options.get(camera_id, {}).get("masks") or ""))


@websocket_command(
    {probatio.Required("type"): PREFIX + "cameras", probatio.Optional("entry_id"): str}
)
@async_response
@_handler
async def ws_cameras(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    from .const import INCIDENT_TYPES, MODES

    inst = _installation(hass, msg)
    cameras = []
    for cid, opts in inst.ctx.cameras.options.items():
        settings = {k: opts[k] for k in CAMERA_FIELDS if k in opts}
        masks_text = str(opts.get("masks") or "")
        settings["masks"] = json.loads(masks_text) if masks_text.strip() else []
        cameras.append(
            {
                "camera": cid,
                "name": inst.camera_names.get(cid, cid),
                "shared": cid not in inst.state.sharing_disabled,
                "settings": settings,
            }
        )
    return {
        "entry_id": inst.entry.entry_id,
        "cameras": cameras,
        "modes": list(MODES),
        "incident_types": list(INCIDENT_TYPES),
    }


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "camera/save",
        probatio.Required("camera"): str,
        probatio.Required("settings"): dict,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_camera_save(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Validate with the options flow's camera form, store in the entry options, reload."""
    from .config_flow import _clean_camera, camera_schema

    inst = _installation(hass, msg)
    camera_id = msg["camera"]
    _camera(inst, camera_id)
    changes: dict[str, Any] = dict(msg["settings"])
    if unknown := sorted(set(changes) - set(CAMERA_FIELDS)):
        raise CommandError(ERR_INVALID_FORMAT, f"unknown setting: {', '.join(unknown)}")
    if isinstance(changes.get("masks"), list):
        masks = changes["masks"]
        changes["masks"] = json.dumps(masks, separators=(",", ":")) if masks else ""
    stored = dict(inst.ctx.cameras.options.get(camera_id, {}))
    form = {k: stored[k] for k in CAMERA_FIELDS if k in stored} | changes
    for key in ("lat", "lon", "heading"):  # emptied in the panel = not set
        if form.get(key) in ("", None):
            form.pop(key, None)
    try:
        cleaned = _clean_camera(camera_schema()(form))
    except probatio.Invalid as err:
        where = ".".join(str(p) for p in err.path) or "settings"
        raise CommandError(ERR_INVALID_FORMAT, f"{where}: {err.msg}") from err
    new_camera = {k: v for k, v in stored.items() if k not in CAMERA_FIELDS} | cleaned
    options = dict(inst.entry.options)
    options[OPT_CAMERAS] = {**dict(options.get(OPT_CAMERAS) or {}), camera_id: new_camera}
    changed = sorted(k for k in CAMERA_FIELDS if stored.get(k) != new_camera.get(k))
    user = connection.user
    await inst.ctx.audit.record(
        "camera_settings",
        {"camera": camera_id, "changed": changed, "by": user.name if user else None},
    )
    entry = inst.entry
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.config_entries.async_reload(entry.entry_id)
    return {"camera": camera_id, "changed": changed}


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "camera/sharing",
        probatio.Required("camera"): str,
        probatio.Required("enabled"): bool,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_camera_sharing(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = _installation(hass, msg)
    _camera(inst, msg["camera"])
    await inst.async_set_sharing(msg["camera"], msg["enabled"])
    return {"camera": msg["camera"], "shared": msg["enabled"]}


@require_admin
@websocket_command(
    {
        probatio.Required("type"): PREFIX + "camera/snapshot",
        probatio.Required("camera"): str,
        # Draft masks (the editor's polygons); without them the saved masks are applied.
        probatio.Optional("masks"): probatio.Any(str, list),
        # The unmasked picture to draw on (admins only, like the camera entity itself).
        probatio.Optional("raw", default=False): bool,
        probatio.Optional("entry_id"): str,
    }
)
@async_response
@_handler
async def ws_camera_snapshot(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Exactly what an officer's snapshot would be: the camera's source, then the masks
    pipeline (``media.snapshot.take_snapshot``)."""
    from .camera_sources import build_source
    from .media.snapshot import NotAllowed, take_snapshot
    from .media.sources import SourceError
    from .protocol.masks import MaskError, parse_masks, validate_masks

    inst = _installation(hass, msg)
    camera_id = msg["camera"]
    _camera(inst, camera_id)
    try:
        if msg["raw"]:
            masks: Any = ()
        elif "masks" in msg:
            draft = msg["masks"]
            masks = parse_masks(draft) if isinstance(draft, str) else validate_masks(draft)
        else:
            masks = _saved_masks(inst, camera_id)
    except MaskError as err:
        raise CommandError(ERR_INVALID_FORMAT, f"masks: {err}") from err
    try:
        source = build_source(hass, inst.entry.options, camera_id, timeout=10)
    except SourceError as err:
        raise CommandError(ERR_NOT_FOUND, f"camera unavailable: {err}") from err
    try:
        jpeg = await take_snapshot(source, masks, allowed=lambda: True)
    except (SourceError, NotAllowed) as err:
        raise CommandError(ERR_HOME_ASSISTANT_ERROR, f"no picture: {err}") from err
    finally:
        await source.close()
    return {
        "content_type": "image/jpeg",
        "image": base64.b64encode(jpeg).decode(),
        "masked": bool(masks),
        "taken": datetime.now().astimezone().isoformat(),
    }


COMMANDS = (
    ws_overview,
    ws_subscribe,
    ws_stop_session,
    ws_stop_all,
    ws_revoke,
    ws_pause,
    ws_resume,
    ws_requests,
    ws_approve,
    ws_decline,
    ws_footage_events,
    ws_footage_preview,
    ws_footage_share,
    ws_history,
    ws_history_csv,
    ws_cameras,
    ws_camera_save,
    ws_camera_sharing,
    ws_camera_snapshot,
)


@callback
def async_register_commands(hass: HomeAssistant) -> None:
    for command in COMMANDS:
        async_register_command(hass, command)
