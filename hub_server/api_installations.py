"""Enrollment codes, installation enrollment, the installation list and removal."""

from __future__ import annotations

import time

from aiohttp import WSCloseCode, web
from sqlalchemy import delete, func, select

from connect_share_protocol.messages import Error

from . import audit, enrollment, grants
from .auth import current_user, policy
from .errors import ApiError, not_found
from .installation_ws import installation_ws
from .models import Camera, Installation
from .state import get_hub
from .validation import Fields, path_id, read_json

routes = web.RouteTableDef()
WS_PATH = "/api/v1/installations/ws"

routes.get(WS_PATH)(installation_ws)


@routes.post("/api/v1/enrollment-codes")
@policy("officer", "supervisor", "admin")
async def create_enrollment_code(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    f = Fields(await read_json(request))
    ttl_s = f.integer(
        "ttl_s", required=False, low=60, high=30 * 86400, default=hub.settings.enrollment_code_ttl_s
    )
    note = f.text("note", required=False, max_len=200, default="") or ""
    f.done()
    async with hub.db.write() as session:
        code, expires_at = await enrollment.create_code(
            hub.db, session, ttl_s=ttl_s or 0, created_by=user.id, note=note
        )
    return web.json_response({"code": code, "expires_at": expires_at}, status=201)


@routes.post("/api/v1/installations/enroll")
@policy(public=True)  # the one-time code is the credential
async def enroll(request: web.Request) -> web.Response:
    hub = get_hub(request)
    f = Fields(await read_json(request))
    code = f.text("code", max_len=64) or ""
    public_key = f.text("public_key", max_len=64) or ""
    name = f.text("name", max_len=128) or ""
    client_version = f.text("client_version", max_len=64) or ""
    f.done()
    async with hub.db.write() as session:
        installation = await enrollment.enroll(
            hub.db,
            session,
            code=code,
            public_key=public_key,
            name=name,
            client_version=client_version,
        )
    keys = await hub.signing_keys()
    return web.json_response(
        {
            "installation_id": installation.id,
            "hub_id": hub.hub_id,
            "issuer": hub.issuer,
            "jwks": keys.jwks(),
            "ws_path": WS_PATH,
        },
        status=201,
    )


def installation_json(row: Installation, cameras: int, online: bool) -> dict[str, object]:
    return {
        "installation_id": row.id,
        "name": row.name,
        "client_version": row.client_version,
        "enrolled_at": row.enrolled_at,
        "last_seen_at": row.last_seen_at,
        "online": online,
        "cameras": cameras,
    }


@routes.get("/api/v1/installations")
@policy("supervisor", "admin")
async def list_installations(request: web.Request) -> web.Response:
    hub = get_hub(request)
    async with hub.db.read() as session:
        counts = dict(
            (
                await session.execute(
                    select(Camera.installation_id, func.count()).group_by(Camera.installation_id)
                )
            ).all()
        )
        rows = (
            await session.scalars(
                select(Installation)
                .where(Installation.removed_at.is_(None))
                .order_by(Installation.enrolled_at)
            )
        ).all()
    return web.json_response(
        {
            "installations": [
                installation_json(r, counts.get(r.id, 0), hub.router.is_online(r.id)) for r in rows
            ]
        }
    )


@routes.delete("/api/v1/installations/{installation_id}")
@policy("admin")
async def remove_installation(request: web.Request) -> web.Response:
    """Forget an installation: revoke its grants, drop its cameras, close its socket."""
    hub = get_hub(request)
    user = current_user(request)
    installation_id = path_id(request, "installation_id", "installation")
    async with hub.db.read() as session:
        row = await session.get(Installation, installation_id)
    if row is None or row.removed_at is not None:
        raise not_found("installation")
    await grants.revoke(
        hub,
        by=f"user:{user.id}",
        reason="installation_removed",
        installation_id=installation_id,
    )
    async with hub.db.write() as session:
        row = await session.get(Installation, installation_id)
        if row is None or row.removed_at is not None:
            raise ApiError(409, "already_removed", "removed meanwhile")
        row.removed_at = time.time()
        row.online = False
        await session.execute(delete(Camera).where(Camera.installation_id == installation_id))
        await audit.append(
            hub.db,
            session,
            "installation.removed",
            actor=f"user:{user.id}",
            installation_id=installation_id,
        )
    await hub.router.send(
        installation_id, Error(code="installation_removed", message="removed at the hub")
    )
    conn = hub.connections.get(installation_id)  # elsewhere: its hello now fails on reconnect
    if conn is not None:
        await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"removed")
    return web.json_response({"removed": installation_id})
