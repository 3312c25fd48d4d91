"""The audit log for supervisors, and its chain check."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from . import audit
from .audit_view import names_for
from .auth import policy
from .models import AuditEntry
from .state import get_hub
from .validation import query_int, query_text

routes = web.RouteTableDef()


@routes.get("/api/v1/audit")
@policy("supervisor", "admin")
async def list_audit(request: web.Request) -> web.Response:
    hub = get_hub(request)
    since = query_int(request, "since_seq", 0, low=0, high=2**31 - 1)
    limit = query_int(request, "limit", 500, low=1, high=5000)
    query = select(AuditEntry).where(AuditEntry.seq > since)
    for name, column in (
        ("incident_id", AuditEntry.incident_id),
        ("installation_id", AuditEntry.installation_id),
        ("action", AuditEntry.action),
    ):
        value = query_text(request, name)
        if value:
            query = query.where(column == value)
    async with hub.db.read() as session:
        rows = (await session.scalars(query.order_by(AuditEntry.seq).limit(limit + 1))).all()
        names = await names_for(session, rows[:limit])
    return web.json_response(
        {
            "entries": [audit.entry_to_json(e) for e in rows[:limit]],
            "more": len(rows) > limit,
            "names": names,
        }
    )


@routes.get("/api/v1/audit/verify")
@policy("supervisor", "admin")
async def verify(request: web.Request) -> web.Response:
    report = await audit.verify_chain(get_hub(request).db)
    return web.json_response(
        {
            "ok": report.ok,
            "entries": report.entries,
            "first_bad_seq": report.first_bad_seq,
            "problem": report.problem,
            "head_hash": report.head_hash,
        }
    )
