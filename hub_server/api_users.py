"""User administration for admins: disable, re-enable, reset a password, revoke API tokens.

Disabling takes effect at once: the user's console sessions and API tokens stop working,
their grants are revoked and their open live streams end.
"""

from __future__ import annotations

import time

from aiohttp import web
from sqlalchemy import delete, update

from . import audit, grants, users
from .auth import current_user, hash_password, policy
from .errors import ApiError, not_found
from .models import ApiToken, User, WebSession
from .sessions import end_session
from .state import Hub, get_hub
from .validation import Fields, path_id, read_json

routes = web.RouteTableDef()


async def _target(request: web.Request) -> User:
    user_id = path_id(request, "user_id", "user")
    async with get_hub(request).db.read() as session:
        row = await session.get(User, user_id)
    if row is None:
        raise not_found("user")
    return row


async def cut_off(hub: Hub, user_id: str, by: str, reason: str) -> list[str]:
    """End the user's streams and revoke their grants now; returns the revoked token ids."""
    for live in [s for s in hub.relay.sessions.values() if s.opened_by == user_id]:
        hub.relay.finish(live.id, reason)  # viewers stop before anything is awaited
        await end_session(hub, live, reason)
    return await grants.revoke(hub, by=by, reason=reason, officer_id=user_id)


@routes.post("/api/v1/users/{user_id}/disable")
@policy("admin")
async def disable_user(request: web.Request) -> web.Response:
    hub = get_hub(request)
    admin = current_user(request)
    target = await _target(request)
    if target.id == admin.id:
        raise ApiError(409, "cannot_disable_self", "another admin must disable you")
    async with hub.db.write() as session:
        await session.execute(update(User).where(User.id == target.id).values(active=False))
        await session.execute(delete(WebSession).where(WebSession.user_id == target.id))
        await audit.append(
            hub.db, session, "user.disabled", actor=f"user:{admin.id}", user_id=target.id
        )
    revoked = await cut_off(hub, target.id, f"user:{admin.id}", "user_disabled")
    target.active = False
    return web.json_response({"user": users.user_json(target), "revoked": revoked})


@routes.post("/api/v1/users/{user_id}/enable")
@policy("admin")
async def enable_user(request: web.Request) -> web.Response:
    hub = get_hub(request)
    admin = current_user(request)
    target = await _target(request)
    async with hub.db.write() as session:
        await session.execute(update(User).where(User.id == target.id).values(active=True))
        await audit.append(
            hub.db, session, "user.enabled", actor=f"user:{admin.id}", user_id=target.id
        )
    target.active = True
    return web.json_response({"user": users.user_json(target)})


@routes.post("/api/v1/users/{user_id}/password")
@policy("admin")
async def reset_password(request: web.Request) -> web.Response:
    """A new password; the user's console sessions end (API tokens are revoked separately)."""
    hub = get_hub(request)
    admin = current_user(request)
    target = await _target(request)
    f = Fields(await read_json(request))
    password = f.text("password", max_len=1024) or ""
    f.done()
    users.check_new_user(target.username, password, target.role)
    password_hash = await hash_password(password)
    async with hub.db.write() as session:
        await session.execute(
            update(User).where(User.id == target.id).values(password_hash=password_hash)
        )
        await session.execute(delete(WebSession).where(WebSession.user_id == target.id))
        await audit.append(
            hub.db, session, "user.password_reset", actor=f"user:{admin.id}", user_id=target.id
        )
    return web.json_response({"user": users.user_json(target)})


@routes.post("/api/v1/users/{user_id}/tokens/revoke")
@policy("admin")
async def revoke_tokens(request: web.Request) -> web.Response:
    hub = get_hub(request)
    admin = current_user(request)
    target = await _target(request)
    now = time.time()
    async with hub.db.write() as session:
        result = await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == target.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        count = int(getattr(result, "rowcount", 0) or 0)
        await audit.append(
            hub.db,
            session,
            "api_token.revoked",
            actor=f"user:{admin.id}",
            user_id=target.id,
            count=count,
        )
    return web.json_response({"user_id": target.id, "revoked_tokens": count})
