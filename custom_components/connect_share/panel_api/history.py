"""The panel's History section: the resident's audit log, filtered, paged and as CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_INVALID_FORMAT,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .common import MAX_PAGE_SIZE, CommandError, command, installation, iso

if TYPE_CHECKING:
    from ..installation import Installation

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
                "time": iso(e.ts),
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


@command(
    "history",
    {
        probatio.Optional("page", default=0): probatio.All(int, probatio.Range(min=0)),
        probatio.Optional("page_size", default=50): probatio.All(
            int, probatio.Range(min=1, max=MAX_PAGE_SIZE)
        ),
        **HISTORY_FILTERS,
    },
)
async def ws_history(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Newest first, paged; with the chain's verification and the last hub cross-check."""
    inst = installation(hass, msg)
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


@command("history/csv", HISTORY_FILTERS)
async def ws_history_csv(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = installation(hass, msg)
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
