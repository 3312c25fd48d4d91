"""Login, logout, the current user, API tokens and user administration."""

from __future__ import annotations

import time

from aiohttp import web
from sqlalchemy import delete, select

from . import audit, users
from .auth import (
    ALL_ROLES,
    SESSION_COOKIE,
    check_password,
    current_user,
    new_secret,
    policy,
    sha256_hex,
)
from .errors import ApiError
from .models import ROLES, User, WebSession
from .state import get_hub
from .validation import Fields, read_json

routes = web.RouteTableDef()


@routes.post("/api/v1/auth/login")
@policy(public=True)
async def login(request: web.Request) -> web.Response:
    hub = get_hub(request)
    f = Fields(await read_json(request))
    username = (f.text("username", max_len=64) or "").lower()
    password = f.text("password", max_len=1024) or ""
    f.done()
    address = request.remote or "unknown"
    async with hub.db.read() as session:
        wait = await hub.login_limiter.retry_after(session, username, address)
        if wait:
            raise ApiError(
                429,
                "too_many_attempts",
                f"too many failed logins; retry in {wait} s",
                retry_after=wait,
            )
        user = await session.scalar(select(User).where(User.username == username))
    ok = await check_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        async with hub.db.write() as session:
            await audit.append(
                hub.db, session, "login.failed", actor=f"ip:{request.remote}", username=username
            )
            # After the append: its audit lock serialises the prune across instances.
            await hub.login_limiter.failed(session, username, address)
        raise ApiError(401, "bad_credentials", "wrong username or password")
    secret, csrf = new_secret(), new_secret()
    now = time.time()
    async with hub.db.write() as session:
        # Expired sessions of this user are dropped here, so the table does not grow forever.
        await session.execute(
            delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
        )
        session.add(
            WebSession(
                token_hash=sha256_hex(secret),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + hub.settings.session_ttl_s,
            )
        )
        await audit.append(
            hub.db, session, "login", actor=f"user:{user.id}", username=username, via="password"
        )
        # After the append, like ``failed``: the audit lock orders every write to the table.
        await hub.login_limiter.succeeded(session, username)
    response = web.json_response({"user": users.user_json(user), "csrf_token": csrf})
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=hub.settings.session_ttl_s,
        httponly=True,
        samesite="Strict",
        secure=hub.settings.secure_cookies,
        path="/",
    )
    return response


@routes.post("/api/v1/auth/logout")
@policy(*ALL_ROLES)
async def logout(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    async with hub.db.write() as session:
        if cookie:
            await session.execute(
                delete(WebSession).where(WebSession.token_hash == sha256_hex(cookie))
            )
        await audit.append(hub.db, session, "logout", actor=f"user:{user.id}")
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/api/v1/auth/me")
@policy(*ALL_ROLES)
async def me(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response({"user": user.to_json(), "csrf_token": user.csrf_token})


@routes.post("/api/v1/auth/tokens")
@policy(*ALL_ROLES)
async def create_token(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    f = Fields(await read_json(request))
    name = f.text("name", max_len=128) or ""
    days = f.integer("ttl_days", required=False, low=1, high=365) or hub.settings.api_token_ttl_days
    f.done()
    async with hub.db.write() as session:
        secret = await users.create_api_token(hub.db, session, user.id, name=name, ttl_days=days)
    return web.json_response({"token": secret, "ttl_days": days}, status=201)


@routes.get("/api/v1/users")
@policy("admin")
async def list_users(request: web.Request) -> web.Response:
    hub = get_hub(request)
    async with hub.db.read() as session:
        rows = (await session.scalars(select(User).order_by(User.username))).all()
    return web.json_response({"users": [users.user_json(u) for u in rows]})


@routes.post("/api/v1/users")
@policy("admin")
async def create_user(request: web.Request) -> web.Response:
    hub = get_hub(request)
    admin = current_user(request)
    f = Fields(await read_json(request))
    username = f.text("username", max_len=64) or ""
    password = f.text("password", max_len=1024) or ""
    role = f.choice("role", ROLES) or ""
    display_name = f.text("display_name", required=False, max_len=128, default="") or ""
    badge = f.text("badge", required=False, max_len=32, default="") or ""
    f.done()
    users.check_new_user(username, password, role)
    async with hub.db.write() as session:
        user = await users.create_user(
            hub.db,
            session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            badge=badge,
            created_by=f"user:{admin.id}",
        )
    return web.json_response({"user": users.user_json(user)}, status=201)
