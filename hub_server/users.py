"""Officer accounts and their API tokens."""

from __future__ import annotations

import re
import time
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import audit
from .auth import hash_password, new_secret, sha256_hex
from .database import Database
from .errors import ApiError, bad_request
from .models import ROLES, ApiToken, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12


def check_new_user(username: str, password: str, role: str) -> None:
    if not USERNAME_RE.match(username):
        raise bad_request("bad_username", "2-64 chars: lower-case letters, digits, . _ -")
    if len(password) < MIN_PASSWORD:
        raise bad_request("weak_password", f"passwords need at least {MIN_PASSWORD} characters")
    if role not in ROLES:
        raise bad_request("bad_role", f"role must be one of {', '.join(ROLES)}")


async def create_user(
    db: Database,
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    badge: str,
    created_by: str = "cli",
) -> User:
    check_new_user(username, password, role)
    if await session.scalar(select(User.id).where(User.username == username)):
        raise ApiError(409, "username_taken", f"user {username} exists")
    user = User(
        id=uuid.uuid4().hex,
        username=username,
        display_name=display_name or username,
        badge=badge,
        role=role,
        password_hash=await hash_password(password),
        active=True,
        created_at=time.time(),
    )
    session.add(user)
    await audit.append(
        db, session, "user.created", actor=created_by, user_id=user.id, username=username, role=role
    )
    return user


async def create_api_token(
    db: Database, session: AsyncSession, user: User | str, *, name: str, ttl_days: int
) -> str:
    """A new bearer token for ``user``; the secret is returned once and stored hashed."""
    user_id = user if isinstance(user, str) else user.id
    secret = "csh_" + new_secret()
    now = time.time()
    token_id = uuid.uuid4().hex
    session.add(
        ApiToken(
            id=token_id,
            user_id=user_id,
            token_hash=sha256_hex(secret),
            name=name,
            created_at=now,
            expires_at=now + ttl_days * 86400,
        )
    )
    await audit.append(
        db, session, "api_token.created", actor=f"user:{user_id}", token_id=token_id, name=name
    )
    return secret


def user_json(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "badge": user.badge,
        "role": user.role,
        "active": user.active,
        "created_at": user.created_at,
    }
