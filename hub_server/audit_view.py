"""The audit log as people read it: names for ids, the real action names, CSV export.

- ``names_for(session, entries)``: display name, badge and username of every ``user:<id>``
  actor, the label of every installation the entries mention (``GET /api/v1/audit``
  returns it beside the entries).
- ``GET /api/v1/audit/actions``: every action name that occurs in the log (for the filter).
- ``GET /api/v1/audit/export.csv``: the entries matching the same filters as
  ``/api/v1/audit`` (incident, installation, action), oldest first, with the names, as a
  CSV file; the export itself is audited (``audit.exported``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import audit, openapi
from .auth import current_user, policy
from .console_config import CONSOLE_CONFIG
from .models import AuditEntry, Installation, User
from .state import get_hub
from .validation import query_text

SUPERVISING = ("supervisor", "admin")
EXPORT_MAX_ROWS = 100_000
FILTERS = (
    ("incident_id", AuditEntry.incident_id),
    ("installation_id", AuditEntry.installation_id),
    ("action", AuditEntry.action),
)
CSV_COLUMNS = (
    "seq",
    "time_utc",
    "time_hub",
    "action",
    "actor",
    "actor_name",
    "actor_badge",
    "incident_id",
    "installation_id",
    "installation_label",
    "detail",
    "hash",
)


def filtered(request: web.Request, query: Select[Any]) -> tuple[Select[Any], dict[str, str]]:
    """``query`` narrowed by the incident/installation/action query parameters."""
    used: dict[str, str] = {}
    for name, column in FILTERS:
        value = query_text(request, name)
        if value:
            query = query.where(column == value)
            used[name] = value
    return query, used


async def names_for(session: AsyncSession, entries: Iterable[AuditEntry]) -> dict[str, Any]:
    """``{"users": {id: {display_name, badge, username}}, "installations": {id: label}}``."""
    entries = list(entries)
    user_ids = {e.actor.split(":", 1)[1] for e in entries if e.actor.startswith("user:")}
    inst_ids = {e.installation_id for e in entries if e.installation_id}
    inst_ids |= {e.actor.split(":", 1)[1] for e in entries if e.actor.startswith("installation:")}
    users: dict[str, Any] = {}
    installations: dict[str, str] = {}
    if user_ids:
        for u in await session.scalars(select(User).where(User.id.in_(user_ids))):
            users[u.id] = {"display_name": u.display_name, "badge": u.badge, "username": u.username}
    if inst_ids:
        for i in await session.scalars(select(Installation).where(Installation.id.in_(inst_ids))):
            installations[i.id] = i.name
    return {"users": users, "installations": installations}


@policy(*SUPERVISING)
async def list_actions(request: web.Request) -> web.Response:
    hub = get_hub(request)
    async with hub.db.read() as session:
        actions = (await session.scalars(select(AuditEntry.action).distinct())).all()
    return web.json_response({"actions": sorted(actions)})


def _csv_cell(value: Any) -> str:
    """Text as a spreadsheet shows it, never as a formula (=, +, -, @ lead with a ')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def entries_csv(entries: list[AuditEntry], names: dict[str, Any], zone: str = "UTC") -> str:
    """``time_hub`` is the time in the hub's zone (as the console shows it) with its offset."""
    hub_zone = ZoneInfo(zone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        user = {}
        inst_label = names["installations"].get(e.installation_id or "", "")
        if e.actor.startswith("user:"):
            user = names["users"].get(e.actor.split(":", 1)[1], {})
        elif e.actor.startswith("installation:"):
            user = {"display_name": names["installations"].get(e.actor.split(":", 1)[1], "")}
        when = datetime.fromtimestamp(e.ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
        local = datetime.fromtimestamp(e.ts, hub_zone).strftime("%Y-%m-%d %H:%M:%S%z")
        row = (
            e.seq,
            when,
            local,
            e.action,
            e.actor,
            user.get("display_name", ""),
            user.get("badge", ""),
            e.incident_id or "",
            e.installation_id or "",
            inst_label,
            json.dumps(json.loads(e.detail), ensure_ascii=False, sort_keys=True),
            e.hash,
        )
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


@policy(*SUPERVISING)
async def export_csv(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    query, used = filtered(request, select(AuditEntry))
    async with hub.db.read() as session:
        rows = (await session.scalars(query.order_by(AuditEntry.seq).limit(EXPORT_MAX_ROWS))).all()
        names = await names_for(session, rows)
    body = entries_csv(list(rows), names, request.app[CONSOLE_CONFIG].time_zone)
    async with hub.db.write() as session:
        await audit.append(
            hub.db,
            session,
            "audit.exported",
            actor=f"user:{user.id}",
            incident_id=used.get("incident_id"),
            filters=used,
            rows=len(rows),
        )
    # The filters are the caller's text: only safe characters reach the header (a control
    # character or a quote there would break or forge the response).
    suffix = re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(v[:12] for v in used.values())) or "all"
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{suffix}.csv"'},
    )


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/audit/actions": {
        "get": openapi._op("Every action name in the audit log", roles=SUPERVISING)
    },
    "/api/v1/audit/export.csv": {
        "get": openapi._op(
            "The matching audit entries as CSV, with names (audited)",
            roles=SUPERVISING,
            errors=(400,),
            content_type="text/csv",
            params=[
                openapi._query("incident_id", openapi.STR),
                openapi._query("installation_id", openapi.STR),
                openapi._query("action", openapi.STR),
            ],
        )
    },
}


def setup_audit_view_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/audit/actions", list_actions)
    app.router.add_get("/api/v1/audit/export.csv", export_csv)
    openapi.PATHS.update(OPENAPI_PATHS)
