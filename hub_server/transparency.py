"""Public monthly counts. Only numbers: no names, ids, places or case numbers."""

from __future__ import annotations

import csv
import html
import io
import json
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from . import retention
from .auth import policy
from .database import Database
from .models import AccessRequestRow, AuditEntry, GrantRow, Incident, LiveSessionRow
from .state import Hub, get_hub

COUNTS = (
    "incidents",
    "requests",
    "approvals",
    "declines_or_unanswered",
    "tokens_issued",
    "revocations",
    "live_sessions",
    "minutes_watched",
    "snapshots",
)


def month_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


async def monthly_counts(db: Database, now: float | None = None) -> list[dict[str, Any]]:
    now = time.time() if now is None else now
    months: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    async with db.read() as s:
        for (ts,) in await s.execute(select(Incident.created_at)):
            months[month_of(ts)]["incidents"] += 1
        for created, status, expires, approved in await s.execute(
            select(
                AccessRequestRow.created_at,
                AccessRequestRow.status,
                AccessRequestRow.expires_at,
                AccessRequestRow.approved_camera_ids,
            )
        ):
            bucket = months[month_of(created)]
            bucket["requests"] += 1
            if approved:
                bucket["approvals"] += 1
            elif status == "answered" or expires <= now:
                # Declined and never answered are one number, as for the officer.
                bucket["declines_or_unanswered"] += 1
        for issued, revoked in await s.execute(select(GrantRow.issued_at, GrantRow.revoked_at)):
            months[month_of(issued)]["tokens_issued"] += 1
            if revoked is not None:
                months[month_of(revoked)]["revocations"] += 1
        for started, ended, frames, scope in await s.execute(
            select(
                LiveSessionRow.started_at,
                LiveSessionRow.ended_at,
                LiveSessionRow.frames_relayed,
                GrantRow.scope,
            )
            .join(GrantRow, GrantRow.id == LiveSessionRow.grant_id)
            .where(LiveSessionRow.started_at.is_not(None))
        ):
            bucket = months[month_of(started)]
            if scope == "snapshot":  # a picture taken, not time watched
                bucket["snapshots"] += 1 if frames else 0
                continue
            bucket["live_sessions"] += 1
            bucket["minutes_watched"] += max(0.0, ((ended or now) - started) / 60)
    result = []
    for month in sorted(months):
        counts = months[month]
        row: dict[str, Any] = {"month": month}
        for name in COUNTS:
            value = counts[name]
            row[name] = round(value, 1) if name == "minutes_watched" else int(value)
        result.append(row)
    return result


# --- /transparency: monthly counts by offense type, legal basis and agency (issue 14) -------
#
# Computed from the hash-chained audit log alone (not from the mutable tables), so anyone
# holding the chain can recompute them. Only counts: no names, ids, places or case numbers;
# a count of 1..4 is published as "<5".

BREAKDOWN_COUNTS = (
    "searches",
    "requests",
    "approvals",
    "no_footage",
    "live_sessions",
    "minutes_watched",
    "evidence_items",
    "deleted_by_retention",
)
SMALL = 5
NOT_STATED = "not_stated"
NO_BASIS = "none"  # searches and incident-level records have no legal basis of their own

routes = web.RouteTableDef()

Key = tuple[str, str, str, str]  # month, offense_code, legal_basis, agency


def raw_breakdown(
    entries: Iterable[tuple[float, str, str | None, dict[str, Any]]],
) -> dict[Key, dict[str, float]]:
    """Exact counts from audit entries ``(ts, action, incident_id, detail)`` in chain order."""
    counts: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(BREAKDOWN_COUNTS, 0))
    incident: dict[str, tuple[str, str]] = {}  # incident -> offense, agency
    request: dict[str, tuple[str, str, str]] = {}  # request -> offense, basis, agency
    token: dict[str, tuple[str, str, str]] = {}
    live: dict[str, tuple[str, str, str]] = {}  # live (not snapshot) session -> purpose

    def inc_of(inc_id: str | None) -> tuple[str, str]:
        return incident.get(inc_id or "", (NOT_STATED, NOT_STATED))

    def add(ts: float, purpose: tuple[str, str, str], name: str, amount: float = 1) -> None:
        counts[(month_of(ts), *purpose)][name] += amount

    for ts, action, inc_id, d in entries:
        if action == "incident.opened":
            incident[inc_id or ""] = (
                d.get("offense_code") or NOT_STATED,
                d.get("agency_id") or NOT_STATED,
            )
        elif action == "search.radius":
            offense, agency = inc_of(inc_id)
            add(ts, (offense, NO_BASIS, agency), "searches")
        elif action == "request.created":
            offense, agency = inc_of(inc_id)
            key = (offense, d.get("legal_basis") or NOT_STATED, agency)
            request[str(d.get("request_id"))] = key
            add(ts, key, "requests")
        elif action == "request.answered":
            add(ts, request.get(str(d.get("request_id")), _unknown(inc_of(inc_id))), "approvals")
        elif action == "request.expired" and d.get("no_footage_camera_ids"):
            add(ts, request.get(str(d.get("request_id")), _unknown(inc_of(inc_id))), "no_footage")
        elif action == "token.issued":
            token[str(d.get("token_id"))] = request.get(
                str(d.get("request_id")), _unknown(inc_of(inc_id))
            )
        elif action == "session.start" and d.get("scope", "live") == "live":
            key = token.get(str(d.get("token_id")), _unknown(inc_of(inc_id)))
            live[str(d.get("session_id"))] = key
            add(ts, key, "live_sessions")
        elif action == "session.stop" and str(d.get("session_id")) in live:
            minutes = max(0.0, float(d.get("duration_s") or 0.0)) / 60
            add(ts, live[str(d["session_id"])], "minutes_watched", minutes)
        elif action == "evidence.received":
            add(
                ts,
                request.get(str(d.get("request_id")), _unknown(inc_of(inc_id))),
                "evidence_items",
            )
        elif action == "evidence.expired":  # before retention.deleted (one per file)
            offense, agency = inc_of(inc_id)
            add(ts, (offense, NO_BASIS, agency), "deleted_by_retention")
        elif action == "retention.deleted":
            for group in d.get("groups") or ():
                offense, agency = inc_of(group.get("incident_id"))
                basis = group.get("legal_basis") or NO_BASIS  # incidents have none
                add(ts, (offense, basis, agency), "deleted_by_retention", group.get("count", 0))
    return counts


def _unknown(inc: tuple[str, str]) -> tuple[str, str, str]:
    return (inc[0], NOT_STATED, inc[1])


def publishable(value: float, name: str) -> int | float | str:
    """What may be published: exact zero or at least ``SMALL``; 1..4 becomes "<5"."""
    shown = round(value, 1) if name == "minutes_watched" else int(value)
    return "<5" if 0 < shown < SMALL else shown


def breakdown_rows(raw: dict[Key, dict[str, float]]) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(raw):
        month, offense, basis, agency = key
        row: dict[str, Any] = {
            "month": month,
            "offense_code": offense,
            "legal_basis": basis,
            "agency": agency,
        }
        row.update({n: publishable(raw[key][n], n) for n in BREAKDOWN_COUNTS})
        rows.append(row)
    return rows


async def breakdown(db: Database) -> list[dict[str, Any]]:
    async def read() -> list[tuple[float, str, str | None, dict[str, Any]]]:
        async with db.read() as s:
            result = await s.execute(
                select(
                    AuditEntry.ts, AuditEntry.action, AuditEntry.incident_id, AuditEntry.detail
                ).order_by(AuditEntry.seq)
            )
            return [(ts, action, inc, json.loads(detail)) for ts, action, inc, detail in result]

    return breakdown_rows(raw_breakdown(await read()))


PUBLIC_PERIOD_FIELDS = ("kind", "label", "days", "counted_from")


async def periods_in_force(hub: Hub) -> list[dict[str, Any]]:
    """The retention periods in force, as the public sees them (0 days: kept forever)."""
    shown = await retention.describe(hub.db, hub.settings)
    return [{k: p[k] for k in PUBLIC_PERIOD_FIELDS} for p in shown]


CSV_FIELDS = ("month", "offense_code", "legal_basis", "agency", *BREAKDOWN_COUNTS)


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@routes.get("/transparency.json")
@policy(public=True)
async def transparency_json(request: web.Request) -> web.Response:
    hub = get_hub(request)
    return web.json_response(
        {
            "hub": hub.settings.hub_name,
            "agency": hub.settings.agency_name,
            "small_counts": f"counts from 1 to {SMALL - 1} are shown as <{SMALL}",
            "source": "the hub's hash-chained audit log",
            "rows": await breakdown(hub.db),
            "retention": await periods_in_force(hub),
        },
        headers={"Cache-Control": "max-age=300"},
    )


@routes.get("/transparency.csv")
@policy(public=True)
async def transparency_csv(request: web.Request) -> web.Response:
    rows = await breakdown(get_hub(request).db)
    return web.Response(
        text=to_csv(rows),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="transparency.csv"'},
    )


@routes.get("/transparency")
@policy(public=True)
async def transparency_page(request: web.Request) -> web.Response:
    hub = get_hub(request)
    rows = await breakdown(hub.db)
    head = "".join(f"<th>{html.escape(n.replace('_', ' '))}</th>" for n in CSV_FIELDS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r[n]))}</td>" for n in CSV_FIELDS) + "</tr>"
        for r in rows
    )
    periods = "".join(
        f"<tr><td>{html.escape(p['label'])}</td>"
        f"<td>{'kept' if p['days'] == 0 else str(p['days']) + ' days'}</td>"
        f"<td>{html.escape(p['counted_from'])}</td></tr>"
        for p in await periods_in_force(hub)
    )
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>Transparency: {html.escape(hub.settings.hub_name)}</title>"
        f"<h1>Camera access by {html.escape(hub.settings.agency_name)}</h1>"
        "<p>Monthly counts by offense type, legal basis and agency, computed from the hub's "
        f"hash-chained audit log. Counts from 1 to {SMALL - 1} are shown as &lt;{SMALL}. "
        "No personal data. Download: <a href=transparency.csv>CSV</a>, "
        "<a href=transparency.json>JSON</a>.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "<h2>Retention periods in force</h2><p>Records are deleted after these periods; "
        "an open incident holds everything under it. The audit log is kept.</p>"
        "<table id=retention><thead><tr><th>record</th><th>kept for</th><th>counted from</th>"
        f"</tr></thead><tbody>{periods}</tbody></table></html>"
    )
    return web.Response(text=page, content_type="text/html")
