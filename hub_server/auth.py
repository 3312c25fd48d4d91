"""Officer authentication and the per-route access policy.

Passwords: argon2id. Console: a session cookie (HttpOnly, SameSite=Strict) plus a CSRF token
that every state-changing request must echo in ``X-CSRF-Token``. Scripts: bearer API tokens.
Every route declares who may call it with ``@policy``; a route without one is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import ApiError
from .models import ApiToken, LoginFailure, User, WebSession

SESSION_COOKIE = "cs_session"
CSRF_HEADER = "X-CSRF-Token"
POLICY_ATTR = "__connect_share_policy__"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

LIVE_ROLES = ("analyst", "supervisor", "admin")
ALL_ROLES = ("admin", "supervisor", "analyst", "officer")

_hasher = PasswordHasher()
# Verified against when the username does not exist, so timing does not reveal which it was.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def sha256_hex(value: str) -> str:
    # "replace": header values may carry undecodable bytes; they then simply match nothing.
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, _hasher.hash, password)


async def check_password(password_hash: str | None, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(None, _verify)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class AuthUser:
    id: str
    username: str
    display_name: str
    badge: str
    role: str
    via: str  # "bearer" or "cookie"
    csrf_token: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "badge": self.badge,
            "role": self.role,
        }


@dataclass(frozen=True, slots=True)
class Policy:
    roles: frozenset[str]
    public: bool = False


def policy(*roles: str, public: bool = False) -> Callable[[Any], Any]:
    """Declare who may call a handler: ``@policy("officer", "supervisor")`` or public."""
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    if not roles and not public:
        raise ValueError("a policy names roles or is public")

    def mark(handler: Any) -> Any:
        setattr(handler, POLICY_ATTR, Policy(frozenset(roles), public))
        return handler

    return mark


def handler_policy(handler: Any) -> Policy | None:
    return getattr(handler, POLICY_ATTR, None)


class LoginRateLimiter:
    """Failed logins, counted per username and per client address separately.

    - An address with ``address_max`` recent failures (any usernames) waits before any
      login from it; each further failure doubles the wait (up to ``max_delay_s``).
    - A username with ``user_max`` recent failures waits, with the same growing delay, but
      only for addresses that have themselves failed recently: a correct password from an
      address that has not failed is never locked out, so nobody can lock a user out.

    The failures live in the shared database (``LoginFailure``), not in this process: behind
    a load balancer every instance counts the guesses made through all of them. Times are
    wall-clock (``time.time()``), the same on every instance.
    """

    def __init__(
        self,
        user_max: int,
        window_s: float,
        *,
        address_max: int = 20,
        base_delay_s: float = 1.0,
        max_delay_s: float = 900.0,
    ) -> None:
        self.user_max = user_max
        self.address_max = address_max
        self.window_s = window_s
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s

    def _wait(self, recent: tuple[int, float] | None, threshold: int, now: float) -> float:
        count, last = recent or (0, 0.0)
        if count < threshold:
            return 0.0
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (count - threshold))
        return max(0.0, last + delay - now)

    async def retry_after(
        self, session: AsyncSession, username: str, address: str, now: float | None = None
    ) -> int:
        """Seconds until this username may be tried from this address (0: now)."""
        now = time.time() if now is None else now
        ip_key, user_key = f"ip:{address}", f"user:{username}"
        rows = await session.execute(
            select(LoginFailure.key, func.count(), func.max(LoginFailure.at))
            .where(LoginFailure.key.in_((ip_key, user_key)), LoginFailure.at > now - self.window_s)
            .group_by(LoginFailure.key)
        )
        recent = {key: (count, last) for key, count, last in rows.all()}
        wait = self._wait(recent.get(ip_key), self.address_max, now)
        if ip_key in recent:  # only addresses that failed are held back by the user's count
            wait = max(wait, self._wait(recent.get(user_key), self.user_max, now))
        return math.ceil(wait) if wait > 0 else 0

    async def failed(
        self, session: AsyncSession, username: str, address: str, now: float | None = None
    ) -> None:
        """Record a failure (in the caller's transaction) and prune what left the window."""
        now = time.time() if now is None else now
        await session.execute(delete(LoginFailure).where(LoginFailure.at <= now - self.window_s))
        for key in (f"ip:{address}", f"user:{username}"):
            session.add(LoginFailure(id=secrets.token_hex(16), key=key[:100], at=now))

    async def succeeded(self, session: AsyncSession, username: str) -> None:
        await session.execute(delete(LoginFailure).where(LoginFailure.key == f"user:{username}"))


async def user_from_request(request: web.Request, sessions: Any) -> AuthUser | None:
    """The caller from ``Authorization: Bearer`` or the session cookie, or None."""
    now = time.time()
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "bad_authorization", "use 'Authorization: Bearer <token>'")
        async with sessions() as session:
            row = (
                await session.execute(
                    select(User)
                    .join(ApiToken, ApiToken.user_id == User.id)
                    .where(
                        ApiToken.token_hash == sha256_hex(secret.strip()),
                        ApiToken.revoked_at.is_(None),
                        ApiToken.expires_at > now,
                        User.active.is_(True),
                    )
                )
            ).scalar_one_or_none()
        if row is None:
            raise ApiError(401, "bad_token", "the API token is unknown, expired or revoked")
        return _auth_user(row, "bearer")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    async with sessions() as session:
        found = (
            await session.execute(
                select(User, WebSession.csrf_token)
                .join(WebSession, WebSession.user_id == User.id)
                .where(
                    WebSession.token_hash == sha256_hex(cookie),
                    WebSession.expires_at > now,
                    User.active.is_(True),
                )
            )
        ).first()
    if found is None:
        return None
    return _auth_user(found[0], "cookie", found[1])


def _auth_user(user: User, via: str, csrf: str | None = None) -> AuthUser:
    return AuthUser(user.id, user.username, user.display_name, user.badge, user.role, via, csrf)


def make_auth_middleware(sessions: Any) -> Callable[..., Any]:
    @web.middleware
    async def auth_middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            raise request.match_info.http_exception
        rule = handler_policy(request.match_info.handler)
        if rule is None:  # deny by default: a route nobody gave a policy is not served
            raise ApiError(403, "no_policy", "this route has no access policy")
        if rule.public:
            return await handler(request)
        user = await user_from_request(request, sessions)
        if user is None:
            raise ApiError(401, "not_authenticated", "log in or send a bearer token")
        if user.role not in rule.roles:
            raise ApiError(
                403, "wrong_role", f"role {user.role} may not do this", allowed=sorted(rule.roles)
            )
        if user.via == "cookie" and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not user.csrf_token or not secrets.compare_digest(
                sent.encode("utf-8", "replace"), user.csrf_token.encode()
            ):
                raise ApiError(403, "csrf", f"missing or wrong {CSRF_HEADER} header")
        request["user"] = user
        return await handler(request)

    return auth_middleware


def current_user(request: web.Request) -> AuthUser:
    return request["user"]
