"""First-start facts: the hub id and a signing key (created once, kept in the database)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from .database import Database
from .models import HubMeta, SigningKey
from .signing import create_key


async def ensure_bootstrap(db: Database) -> str:
    """Create the hub id and the first signing key when missing; return the hub id.

    Several instances may start at once on one PostgreSQL: the audit advisory lock makes
    their first starts take turns, so only one creates the id and the key.
    """
    async with db.write() as session:
        await db.lock_audit(session)
        meta = await session.get(HubMeta, "hub_id")
        if meta is None:
            meta = HubMeta(key="hub_id", value=uuid.uuid4().hex)
            session.add(meta)
        has_key = await session.scalar(
            select(SigningKey.kid).where(SigningKey.retired_at.is_(None)).limit(1)
        )
        if has_key is None:
            await create_key(session)
        return meta.value
