"""Incidents, the cameras in their circle, access requests (fan-out), grants, revocation."""

from __future__ import annotations

import re
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import select

from connect_share_protocol import SCOPES

from . import audit, grants, purposes
from .auth import ALL_ROLES, LIVE_ROLES, AuthUser, current_user, policy
from .errors import ApiError, bad_request, not_found
from .grant_tokens import tokens_for_officer
from .incident_access import load_for, visible_incidents
from .installation_ws import access_request_message
from .models import (
    AccessRequestRow,
    Camera,
    GrantRow,
    Incident,
    IncidentOfficer,
    Installation,
    User,
)
from .request_states import camera_state
from .search import LIVE_MODES, SHARED_MODES, camera_json, cameras_in_radius
from .state import Hub, get_hub
from .validation import Fields, path_id, query_int, read_json

routes = web.RouteTableDef()
INCIDENT_TYPE_RE = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_WINDOW_S = 31 * 86400
REVOKER_ROLES = ("supervisor", "admin")


def incident_json(inc: Incident) -> dict[str, Any]:
    return {
        "incident_id": inc.id,
        "case_number": inc.case_number,
        "incident_type": inc.incident_type,
        "reason": inc.reason,
        "lat": inc.lat,
        "lon": inc.lon,
        "radius_m": inc.radius_m,
        "window_start": inc.window_start,
        "window_end": inc.window_end,
        "created_by": inc.created_by,
        "created_at": inc.created_at,
        "closed_at": inc.closed_at,
        "status": "closed" if inc.closed_at else "open",
        "offense_code": inc.offense_code,
        "offense_group": inc.offense_group,
    }


def read_window(f: Fields) -> tuple[float | None, float | None]:
    start = f.number("window_start", required=False, low=0)
    end = f.number("window_end", required=False, low=0)
    if (start is None) != (end is None):
        raise bad_request("bad_window", "window_start and window_end go together")
    if start is not None and end is not None:
        if end <= start:
            raise bad_request("bad_window", "window_end must be after window_start")
        if end - start > MAX_WINDOW_S:
            raise bad_request("bad_window", "a footage window is at most 31 days")
        if start > time.time() + 3600:
            raise bad_request("bad_window", "the window starts in the future")
    return start, end


@routes.post("/api/v1/incidents")
@policy(*ALL_ROLES)
async def create_incident(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    f = Fields(await read_json(request))
    case_number = f.text("case_number", max_len=64) or ""
    incident_type = f.text("incident_type", max_len=64) or ""
    offense_code = f.text("offense_code", max_len=32) or ""
    reason = f.text("reason", max_len=2000) or ""
    lat = f.number("lat", low=-90, high=90) or 0.0
    lon = f.number("lon", low=-180, high=180) or 0.0
    radius = f.number("radius_m")
    window_start, window_end = read_window(f)
    f.done()
    if not INCIDENT_TYPE_RE.match(incident_type):
        raise bad_request("bad_field", "incident_type: lower-case letters, digits and _")
    assert radius is not None
    if not 0 < radius <= hub.settings.max_radius_m:
        raise bad_request(
            "out_of_range", f"radius_m must be above 0 and at most {hub.settings.max_radius_m:g}"
        )
    offense = await purposes.check_incident_purpose(
        hub,
        user_id=user.id,
        offense_code=offense_code,
        incident_type=incident_type,
        reason=reason,
    )
    inc = Incident(
        id=uuid.uuid4().hex,
        case_number=case_number,
        incident_type=incident_type,
        reason=reason,
        lat=lat,
        lon=lon,
        radius_m=radius,
        window_start=window_start,
        window_end=window_end,
        created_by=user.id,
        created_at=time.time(),
        offense_code=offense.code,
        offense_group=offense.offense_group,
    )
    async with hub.db.write() as session:
        session.add(inc)
        await audit.append(
            hub.db,
            session,
            "incident.opened",
            actor=f"user:{user.id}",
            incident_id=inc.id,
            case_number=case_number,
            incident_type=incident_type,
            offense_code=offense.code,
            offense_group=offense.offense_group,
            agency_id=hub.settings.agency_id,
            reason=reason,
            lat=lat,
            lon=lon,
            radius_m=radius,
        )
    return web.json_response({"incident": incident_json(inc)}, status=201)


@routes.get("/api/v1/incidents")
@policy(*ALL_ROLES)
async def list_incidents(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    limit = query_int(request, "limit", 100, low=1, high=1000)
    query = visible_incidents(select(Incident), user)
    async with hub.db.read() as session:
        rows = (
            await session.scalars(query.order_by(Incident.created_at.desc()).limit(limit))
        ).all()
    return web.json_response({"incidents": [incident_json(i) for i in rows]})


async def load_incident(hub: Hub, incident_id: str) -> Incident:
    async with hub.db.read() as session:
        inc = await session.get(Incident, incident_id)
    if inc is None:
        raise not_found("incident")
    return inc


@routes.get("/api/v1/incidents/{incident_id}")
@policy(*ALL_ROLES)
async def get_incident(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    inc = await load_for(hub, user, path_id(request, "incident_id", "incident"))
    now = time.time()
    async with hub.db.read() as session:
        reqs = (
            await session.scalars(
                select(AccessRequestRow)
                .where(AccessRequestRow.incident_id == inc.id)
                .order_by(AccessRequestRow.created_at)
            )
        ).all()
        grant_rows = (
            await session.scalars(
                select(GrantRow).where(GrantRow.incident_id == inc.id).order_by(GrantRow.issued_at)
            )
        ).all()
    by_request: dict[str, list[GrantRow]] = defaultdict(list)
    for g in grant_rows:
        by_request[g.request_id].append(g)
    tokens = await tokens_for_officer(hub, user.id, list(grant_rows), now)
    from .evidence import incident_deliveries  # evidence imports this module's neighbours

    delivered = await incident_deliveries(request.app, inc.id)
    return web.json_response(
        {
            "incident": incident_json(inc),
            "requests": [
                request_json(r, by_request.get(r.id, []), user, now, tokens, delivered)
                for r in reqs
            ],
        }
    )


def request_json(
    req: AccessRequestRow,
    grant_rows: list[GrantRow],
    user: AuthUser,
    now: float,
    tokens: Mapping[str, str] | None = None,
    delivered: set[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The officer's view: per camera only "approved", "pending" or "no_footage", and the
    ``state`` that says what happens next (``request_states.py``).

    A decline and a request nobody answered look the same ("no_footage"), as the design
    promises residents.
    """
    open_ = req.status == "pending" and req.expires_at > now
    approved = set(req.approved_camera_ids or [])
    cameras = [
        {
            "camera_id": cam,
            "outcome": "approved" if cam in approved else ("pending" if open_ else "no_footage"),
            **camera_state(req, cam, grant_rows, delivered or set(), now),
        }
        for cam in req.camera_ids
    ]
    return {
        "request_id": req.id,
        "installation_id": req.installation_id,
        "scope": req.scope,
        "window_start": req.window_start,
        "window_end": req.window_end,
        "legal_basis": req.legal_basis,
        "warrant_ref": req.warrant_ref,
        "warrant_court": req.warrant_court,
        "created_by": req.created_by,
        "created_at": req.created_at,
        "expires_at": req.expires_at,
        "status": "pending" if open_ else "closed",
        "cameras": cameras,
        "grants": [grant_json(g, user, now, tokens) for g in grant_rows],
    }


def grant_json(
    g: GrantRow, user: AuthUser, now: float, tokens: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``tokens``: re-signed tokens (``grant_tokens.tokens_for_officer``); the row has none."""
    data: dict[str, Any] = {
        "grant_id": g.id,
        "request_id": g.request_id,
        "incident_id": g.incident_id,
        "installation_id": g.installation_id,
        "officer_id": g.officer_id,
        "camera_ids": list(g.camera_ids),
        "scope": g.scope,
        "window_start": g.window_start,
        "window_end": g.window_end,
        "kid": g.kid,
        "issued_at": g.issued_at,
        "expires_at": g.expires_at,
        "max_fps": g.max_fps,
        "revoked_at": g.revoked_at,
        "legal_basis": g.legal_basis,
        "reviewed_at": g.reviewed_at,
        "state": "revoked" if g.revoked_at else ("expired" if g.expires_at <= now else "active"),
    }
    if g.officer_id == user.id and tokens and g.id in tokens:
        data["token"] = tokens[g.id]  # the token names this officer; nobody else needs it
    return data


@routes.get("/api/v1/incidents/{incident_id}/cameras")
@policy(*ALL_ROLES)
async def incident_cameras(request: web.Request) -> web.Response:
    hub = get_hub(request)
    inc = await load_for(hub, current_user(request), path_id(request, "incident_id", "incident"))
    user = current_user(request)
    async with hub.db.write() as session:
        found = await cameras_in_radius(session, inc.lat, inc.lon, inc.radius_m)
        # Accountability: every radius search is logged with officer, purpose and reason.
        await audit.append(
            hub.db,
            session,
            "search.radius",
            actor=f"user:{user.id}",
            incident_id=inc.id,
            officer_name=user.display_name,
            badge=user.badge,
            offense_code=inc.offense_code,
            reason=inc.reason,
            radius_m=inc.radius_m,
            cameras_found=len(found),
        )
    return web.json_response(
        {
            "incident_id": inc.id,
            "cameras": [
                camera_json(
                    f.camera,
                    online=hub.router.is_online(f.camera.installation_id),
                    distance_m=f.distance_m,
                )
                for f in found
            ],
        }
    )


@routes.get("/api/v1/cameras")
@policy(*ALL_ROLES)
async def list_cameras(request: web.Request) -> web.Response:
    """Every shared camera with a location, for the console's map."""
    hub = get_hub(request)
    limit = query_int(request, "limit", 5000, low=1, high=100_000)
    async with hub.db.read() as session:
        rows = (
            await session.scalars(
                select(Camera)
                .join(Installation, Installation.id == Camera.installation_id)
                .where(
                    Camera.mode.in_(SHARED_MODES),
                    Camera.lat.is_not(None),
                    Installation.removed_at.is_(None),
                )
                .limit(limit)
            )
        ).all()
    return web.json_response(
        {"cameras": [camera_json(c, online=hub.router.is_online(c.installation_id)) for c in rows]}
    )


@routes.post("/api/v1/incidents/{incident_id}/requests")
@policy(*ALL_ROLES)
async def create_requests(request: web.Request) -> web.Response:
    """Ask installations for live view, snapshots or footage; one request per installation."""
    hub = get_hub(request)
    user = current_user(request)
    inc = await load_for(hub, user, path_id(request, "incident_id", "incident"))
    f = Fields(await read_json(request))
    scope = f.choice("scope", tuple(sorted(SCOPES))) or ""
    cameras = f.list_of("cameras", max_items=500)
    window_start, window_end = read_window(f)
    legal_basis, warrant_ref, warrant_court = purposes.read_legal_basis(f)
    f.done()
    if inc.closed_at is not None:
        raise ApiError(409, "incident_closed", "the incident is closed")
    if scope in ("live", "snapshot") and user.role not in LIVE_ROLES:
        raise ApiError(
            403, "wrong_role", f"{scope} access is for {', '.join(LIVE_ROLES)}", allowed=LIVE_ROLES
        )
    if scope == "clip":
        if window_start is None:
            window_start, window_end = inc.window_start, inc.window_end
        if window_start is None:
            raise bad_request("bad_window", "a footage request needs window_start/window_end")
    elif window_start is not None:
        raise bad_request("bad_window", "only footage (clip) requests take a window")
    wanted: dict[str, list[str]] = defaultdict(list)
    for i, item in enumerate(cameras):
        if not isinstance(item, dict) or set(item) != {"installation_id", "camera_id"}:
            raise bad_request("bad_field", f"cameras[{i}] must be {{installation_id, camera_id}}")
        inst, cam = item["installation_id"], item["camera_id"]
        if not isinstance(inst, str) or not isinstance(cam, str):
            raise bad_request("bad_field", f"cameras[{i}] ids must be strings")
        if cam not in wanted[inst]:
            wanted[inst].append(cam)
    now = time.time()
    async with hub.db.read() as session:
        found = {
            (x.camera.installation_id, x.camera.camera_id): x.camera
            for x in await cameras_in_radius(session, inc.lat, inc.lon, inc.radius_m)
        }
        officer = await session.get(User, user.id)
    assert officer is not None
    for inst, cams in wanted.items():
        for cam in cams:
            camera = found.get((inst, cam))
            if camera is None:
                raise bad_request(
                    "camera_not_in_incident", f"{inst}/{cam} is not a shared camera in the circle"
                )
            if scope != "clip" and camera.mode not in LIVE_MODES:
                raise bad_request(
                    "camera_not_integrated", f"{inst}/{cam} is registered only: footage requests"
                )
            if camera.scopes and scope not in camera.scopes:
                raise bad_request("scope_not_offered", f"{inst}/{cam} does not offer {scope}")
    ttl = hub.settings.footage_request_ttl_s if scope == "clip" else hub.settings.live_request_ttl_s
    rows = [
        AccessRequestRow(
            id=uuid.uuid4().hex,
            incident_id=inc.id,
            installation_id=inst,
            scope=scope,
            camera_ids=cams,
            window_start=window_start,
            window_end=window_end,
            created_by=user.id,
            created_at=now,
            expires_at=now + ttl,
            status="pending",
            approved_camera_ids=[],
            legal_basis=legal_basis,
            warrant_ref=warrant_ref,
            warrant_court=warrant_court,
        )
        for inst, cams in wanted.items()
    ]
    async with hub.db.write() as session:
        for row in rows:
            session.add(row)
            await audit.append(
                hub.db,
                session,
                "request.created",
                actor=f"user:{user.id}",
                installation_id=row.installation_id,
                incident_id=inc.id,
                request_id=row.id,
                scope=scope,
                camera_ids=row.camera_ids,
                window=[window_start, window_end] if window_start is not None else None,
                officer_name=user.display_name,
                badge=user.badge,
                case_number=inc.case_number,
                agency_id=hub.settings.agency_id,
                offense_code=inc.offense_code,
                legal_basis=legal_basis,
                warrant_ref=warrant_ref,
                warrant_court=warrant_court,
                reason=inc.reason,
            )
    delivered = 0
    for row in rows:
        if await hub.router.send(
            row.installation_id,
            access_request_message(
                row,
                inc,
                officer,
                hub.settings.default_token_lifetime_s,
                purposes.purpose_of(hub.settings, inc, row),
            ),
        ):
            delivered += 1
    return web.json_response(
        {
            "requests": [request_json(r, [], user, now) for r in rows],
            "delivered_now": delivered,
        },
        status=201,
    )


@routes.post("/api/v1/incidents/{incident_id}/close")
@policy(*ALL_ROLES)
async def close_incident(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    inc = await load_incident(hub, path_id(request, "incident_id", "incident"))
    if inc.created_by != user.id and user.role not in REVOKER_ROLES:
        raise ApiError(403, "not_your_incident", "only its officer or a supervisor may close it")
    if inc.closed_at is not None:
        raise ApiError(409, "incident_closed", "already closed")
    revoked = await grants.revoke(
        hub, by=f"user:{user.id}", reason="incident_closed", incident_id=inc.id
    )
    async with hub.db.write() as session:
        row = await session.get(Incident, inc.id)
        assert row is not None
        row.closed_at = time.time()
        await audit.append(
            hub.db, session, "incident.closed", actor=f"user:{user.id}", incident_id=inc.id
        )
    return web.json_response({"incident": incident_json(row), "revoked": revoked})


@routes.post("/api/v1/incidents/{incident_id}/revoke")
@policy(*ALL_ROLES)
async def revoke_incident(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    inc = await load_incident(hub, path_id(request, "incident_id", "incident"))
    if inc.created_by != user.id and user.role not in REVOKER_ROLES:
        raise ApiError(403, "not_your_incident", "only its officer or a supervisor may revoke")
    reason = await read_reason(request)
    revoked = await grants.revoke(hub, by=f"user:{user.id}", reason=reason, incident_id=inc.id)
    return web.json_response({"revoked": revoked})


async def read_reason(request: web.Request) -> str:
    if not request.can_read_body:
        return "revoked_by_officer"
    f = Fields(await read_json(request))
    reason = f.text("reason", required=False, max_len=200, default="revoked_by_officer")
    f.done()
    return reason or "revoked_by_officer"


async def _grant_in_path(request: web.Request) -> GrantRow:
    async with get_hub(request).db.read() as session:
        g = await session.get(GrantRow, path_id(request, "grant_id", "grant"))
    if g is None:
        raise not_found("grant")
    return g


@routes.get("/api/v1/grants/{grant_id}")
@policy(*ALL_ROLES)
async def get_grant(request: web.Request) -> web.Response:
    user = current_user(request)
    g = await _grant_in_path(request)
    if g.officer_id != user.id:
        await load_for(get_hub(request), user, g.incident_id)
    now = time.time()
    tokens = await tokens_for_officer(get_hub(request), user.id, [g], now)
    return web.json_response({"grant": grant_json(g, user, now, tokens)})


@routes.post("/api/v1/grants/{grant_id}/revoke")
@policy(*ALL_ROLES)
async def revoke_grant(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    g = await _grant_in_path(request)
    if g.officer_id != user.id and user.role not in REVOKER_ROLES:
        raise ApiError(403, "not_your_grant", "only its officer or a supervisor may revoke it")
    reason = await read_reason(request)
    revoked = await grants.revoke(hub, by=f"user:{user.id}", reason=reason, grant_ids=[g.id])
    return web.json_response({"revoked": revoked})


@routes.post("/api/v1/incidents/{incident_id}/officers")
@policy(*ALL_ROLES)
async def assign_officer(request: web.Request) -> web.Response:
    """Give another officer access to the incident (its owner, a supervisor or an admin)."""
    hub = get_hub(request)
    user = current_user(request)
    inc = await load_for(hub, user, path_id(request, "incident_id", "incident"))
    if inc.created_by != user.id and user.role not in REVOKER_ROLES:
        raise ApiError(403, "not_your_incident", "only its officer or a supervisor may assign")
    f = Fields(await read_json(request))
    officer_id = f.text("user_id", max_len=32) or ""
    f.done()
    async with hub.db.write() as session:
        officer = await session.get(User, officer_id)
        if officer is None or not officer.active:
            raise not_found("user")
        if await session.get(IncidentOfficer, (inc.id, officer.id)) is None:
            session.add(
                IncidentOfficer(
                    incident_id=inc.id,
                    user_id=officer.id,
                    assigned_by=user.id,
                    assigned_at=time.time(),
                )
            )
            await audit.append(
                hub.db,
                session,
                "incident.officer_assigned",
                actor=f"user:{user.id}",
                incident_id=inc.id,
                user_id=officer.id,
            )
    return web.json_response({"incident_id": inc.id, "user_id": officer.id}, status=201)
