"""Purpose, agency and legal basis at the hub (issue 14).

Offense types (code, label, group) and forbidden purposes are admin-managed tables seeded by
migration 0005. Every incident names one active offense type and a reason of at least
``min_reason_chars``; an incident whose offense type or incident type is a forbidden purpose
is refused with 400 ``purpose_forbidden`` AND an ``incident.refused`` audit entry (the one
refusal the hub records on purpose: attempts to use cameras for forbidden purposes must be
countable). Requests carry a legal basis; tokens and ``access_request`` messages carry the
hub's agency, the offense type, the legal basis and the reason (``protocol.purpose``).
Accesses without a warrant wait in the supervisors' review queue.
"""

from __future__ import annotations

import re
import time
from typing import Any

from aiohttp import web
from sqlalchemy import select

from connect_share_protocol.purpose import OFFENSE_CODE_RE, OFFENSE_GROUPS, Purpose

from . import audit
from .auth import ALL_ROLES, current_user, policy
from .errors import ApiError, bad_request, not_found
from .models import AccessRequestRow, ForbiddenPurpose, GrantRow, Incident, OffenseType
from .settings import Settings
from .state import Hub, get_hub
from .validation import Fields, path_id, query_int, read_json

routes = web.RouteTableDef()
PURPOSE_CODE_RE = re.compile(r"^[a-z0-9_]{1,64}$")
REVIEW_ROLES = ("supervisor", "admin")


def agency_purpose(settings: Settings) -> Purpose:
    return Purpose(agency_name=settings.agency_name, agency_id=settings.agency_id)


def purpose_of(settings: Settings, incident: Incident, req: AccessRequestRow) -> Purpose:
    """What a request and its tokens say about why (one place for messages and tokens)."""
    return Purpose(
        agency_name=settings.agency_name,
        agency_id=settings.agency_id,
        offense_code=incident.offense_code,
        offense_group=incident.offense_group,
        legal_basis=req.legal_basis,
        warrant_ref=req.warrant_ref,
        warrant_court=req.warrant_court,
    )


def check_agency(settings: Settings) -> None:
    """Refuse to start with an agency that could not go into a token."""
    agency_purpose(settings).validate()


async def check_incident_purpose(
    hub: Hub, *, user_id: str, offense_code: str, incident_type: str, reason: str
) -> OffenseType:
    """The offense type to record, or an ApiError (a forbidden purpose is audited)."""
    async with hub.db.read() as s:
        forbidden = {
            row.code: row.label for row in (await s.scalars(select(ForbiddenPurpose))).all()
        }
        offense = await s.get(OffenseType, offense_code)
    hits = [c for c in dict.fromkeys((offense_code.lower(), incident_type)) if c in forbidden]
    if hits:
        async with hub.db.write() as session:
            await audit.append(
                hub.db,
                session,
                "incident.refused",
                actor=f"user:{user_id}",
                purpose=hits[0],
                offense_code=offense_code,
                incident_type=incident_type,
                reason=reason,
            )
        raise ApiError(
            400,
            "purpose_forbidden",
            f"{forbidden[hits[0]]} is not an allowed purpose for camera access",
            purpose=hits[0],
        )
    if offense is None or not offense.active:
        raise bad_request("unknown_offense_type", f"{offense_code} is not an allowed offense type")
    if len(reason) < hub.settings.min_reason_chars:
        raise bad_request(
            "reason_too_short", f"reason: at least {hub.settings.min_reason_chars} characters"
        )
    return offense


def read_legal_basis(f: Fields) -> tuple[str, str, str]:
    basis = f.choice("legal_basis", ("consent", "exigent", "warrant"), required=False)
    ref = f.text("warrant_ref", required=False, max_len=128, default="") or ""
    court = f.text("warrant_court", required=False, max_len=128, default="") or ""
    basis = basis or "consent"
    try:
        Purpose(legal_basis=basis, warrant_ref=ref, warrant_court=court).validate()
    except ValueError as err:
        raise bad_request("bad_legal_basis", str(err)) from err
    return basis, ref, court


def offense_json(row: OffenseType) -> dict[str, Any]:
    return {
        "code": row.code,
        "label": row.label,
        "group": row.offense_group,
        "active": row.active,
    }


@routes.get("/api/v1/offense-types")
@policy(*ALL_ROLES)
async def list_offense_types(request: web.Request) -> web.Response:
    async with get_hub(request).db.read() as s:
        rows = (await s.scalars(select(OffenseType).order_by(OffenseType.code))).all()
    return web.json_response({"offense_types": [offense_json(r) for r in rows]})


@routes.post("/api/v1/offense-types")
@policy("admin")
async def put_offense_type(request: web.Request) -> web.Response:
    """Add or change an offense type (``active: false`` retires it for new incidents)."""
    hub = get_hub(request)
    user = current_user(request)
    f = Fields(await read_json(request))
    code = f.text("code", max_len=32) or ""
    label = f.text("label", max_len=128) or ""
    group = f.choice("group", OFFENSE_GROUPS) or ""
    active = f._get("active", False)
    f.done()
    if not OFFENSE_CODE_RE.match(code):
        raise bad_request("bad_field", "code: 1..32 of letters, digits, _ . -")
    if active is not None and not isinstance(active, bool):
        raise bad_request("bad_field", "active must be true or false")
    async with hub.db.write() as s:
        forbidden = await s.get(ForbiddenPurpose, code.lower())
        if forbidden is not None:
            raise bad_request("purpose_forbidden", f"{code} is a forbidden purpose")
        row = await s.get(OffenseType, code)
        if row is None:
            row = OffenseType(code=code, label=label, offense_group=group, active=True)
            s.add(row)
        row.label, row.offense_group = label, group
        row.active = True if active is None else active
        await audit.append(
            hub.db,
            s,
            "offense_type.set",
            actor=f"user:{user.id}",
            code=code,
            label=label,
            group=group,
            active=row.active,
        )
    return web.json_response({"offense_type": offense_json(row)}, status=201)


@routes.get("/api/v1/forbidden-purposes")
@policy(*ALL_ROLES)
async def list_forbidden(request: web.Request) -> web.Response:
    async with get_hub(request).db.read() as s:
        rows = (await s.scalars(select(ForbiddenPurpose).order_by(ForbiddenPurpose.code))).all()
    return web.json_response(
        {"forbidden_purposes": [{"code": r.code, "label": r.label} for r in rows]}
    )


@routes.post("/api/v1/forbidden-purposes")
@policy("admin")
async def add_forbidden(request: web.Request) -> web.Response:
    """Add a purpose the city never allows. There is no API to remove one."""
    hub = get_hub(request)
    user = current_user(request)
    f = Fields(await read_json(request))
    code = f.text("code", max_len=64) or ""
    label = f.text("label", max_len=200) or ""
    f.done()
    if not PURPOSE_CODE_RE.match(code):
        raise bad_request("bad_field", "code: lower-case letters, digits and _")
    async with hub.db.write() as s:
        if await s.get(ForbiddenPurpose, code) is None:
            s.add(ForbiddenPurpose(code=code, label=label))
            await audit.append(
                hub.db,
                s,
                "forbidden_purpose.added",
                actor=f"user:{user.id}",
                code=code,
                label=label,
            )
    return web.json_response({"forbidden_purpose": {"code": code, "label": label}}, status=201)


@routes.get("/api/v1/agency")
@policy(*ALL_ROLES)
async def get_agency(request: web.Request) -> web.Response:
    s = get_hub(request).settings
    return web.json_response(
        {
            "agency_name": s.agency_name,
            "agency_id": s.agency_id,
            "min_reason_chars": s.min_reason_chars,
        }
    )


def review_json(g: GrantRow, inc: Incident) -> dict[str, Any]:
    return {
        "grant_id": g.id,
        "incident_id": g.incident_id,
        "case_number": inc.case_number,
        "offense_code": inc.offense_code,
        "reason": inc.reason,
        "officer_id": g.officer_id,
        "installation_id": g.installation_id,
        "camera_ids": list(g.camera_ids),
        "scope": g.scope,
        "legal_basis": g.legal_basis,
        "issued_at": g.issued_at,
        "reviewed_at": g.reviewed_at,
        "reviewed_by": g.reviewed_by,
    }


@routes.get("/api/v1/review")
@policy(*REVIEW_ROLES)
async def review_queue(request: web.Request) -> web.Response:
    """Accesses (tokens issued) without a warrant that no supervisor has reviewed yet."""
    hub = get_hub(request)
    limit = query_int(request, "limit", 200, low=1, high=1000)
    async with hub.db.read() as s:
        rows = (
            await s.execute(
                select(GrantRow, Incident)
                .join(Incident, Incident.id == GrantRow.incident_id)
                .where(GrantRow.legal_basis != "warrant", GrantRow.reviewed_at.is_(None))
                .order_by(GrantRow.issued_at)
                .limit(limit)
            )
        ).all()
    return web.json_response({"queue": [review_json(g, inc) for g, inc in rows]})


@routes.post("/api/v1/review/{grant_id}")
@policy(*REVIEW_ROLES)
async def mark_reviewed(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    grant_id = path_id(request, "grant_id", "grant")
    f = Fields(await read_json(request))
    note = f.text("note", max_len=2000) or ""
    f.done()
    async with hub.db.write() as s:
        g = await s.get(GrantRow, grant_id)
        if g is None:
            raise not_found("grant")
        if g.reviewed_at is not None:
            raise ApiError(409, "already_reviewed", "this access was reviewed already")
        g.reviewed_at = time.time()
        g.reviewed_by = user.id
        await audit.append(
            hub.db,
            s,
            "access.reviewed",
            actor=f"user:{user.id}",
            installation_id=g.installation_id,
            incident_id=g.incident_id,
            token_id=g.id,
            legal_basis=g.legal_basis,
            note=note,
        )
        inc = await s.get(Incident, g.incident_id)
        assert inc is not None
        data = review_json(g, inc)
    return web.json_response({"reviewed": data})
