"""Enrollment codes and installation enrollment."""

from __future__ import annotations

import secrets
import time
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connect_share_protocol import ProtocolError, public_key_from_b64

from . import audit
from .auth import sha256_hex
from .database import Database
from .errors import ApiError, bad_request
from .models import EnrollmentCode, Installation

# Crockford-like alphabet without look-alikes (0/O, 1/I/L): read aloud or typed from paper.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_GROUPS, _GROUP_LEN = 4, 5  # 20 symbols, ~99 bits


def new_code() -> str:
    symbols = "".join(secrets.choice(_ALPHABET) for _ in range(_GROUPS * _GROUP_LEN))
    return "-".join(symbols[i : i + _GROUP_LEN] for i in range(0, len(symbols), _GROUP_LEN))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return sha256_hex(normalise_code(code))


async def create_code(
    db: Database,
    session: AsyncSession,
    *,
    ttl_s: int,
    created_by: str | None,
    note: str = "",
    now: float | None = None,
) -> tuple[str, float]:
    """A new one-time code (only its hash is stored). Returns (code, expires_at)."""
    now = time.time() if now is None else now
    code = new_code()
    expires_at = now + ttl_s
    session.add(
        EnrollmentCode(
            code_hash=code_hash(code),
            created_by=created_by,
            note=note,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await audit.append(
        db,
        session,
        "enrollment_code.created",
        actor=f"user:{created_by}" if created_by else "cli",
        expires_at=expires_at,
        note=note,
    )
    return code, expires_at


async def enroll(
    db: Database,
    session: AsyncSession,
    *,
    code: str,
    public_key: str,
    name: str,
    client_version: str,
) -> Installation:
    """Redeem a code for an installation id. Raises ApiError; writes nothing on refusal."""
    try:
        public_key_from_b64(public_key)
    except (ProtocolError, ValueError) as err:
        raise bad_request("bad_public_key", "public_key must be base64url raw Ed25519") from err
    if await session.scalar(select(Installation.id).where(Installation.public_key == public_key)):
        raise ApiError(409, "key_in_use", "this public key is already enrolled")
    now = time.time()
    row = await session.get(EnrollmentCode, code_hash(code), with_for_update=True)
    if row is None:
        raise ApiError(403, "invalid_code", "unknown enrollment code")
    if row.used_at is not None:
        raise ApiError(403, "code_used", "this enrollment code was already used")
    if row.expires_at <= now:
        raise ApiError(403, "code_expired", "this enrollment code has expired")
    installation = Installation(
        id=uuid.uuid4().hex,
        name=name,
        public_key=public_key,
        client_version=client_version,
        enrolled_at=now,
        online=False,
    )
    session.add(installation)
    row.used_at = now
    row.installation_id = installation.id
    await audit.append(
        db,
        session,
        "installation.enrolled",
        actor=f"installation:{installation.id}",
        installation_id=installation.id,
        name=name,
        client_version=client_version,
    )
    return installation
