"""First-start facts: the hub id, the key-encryption key and a signing key.

``resolve_kek`` finds the KEK (creating it only while no signing key exists) and refuses
to go on without it once keys exist; ``ensure_bootstrap`` then creates what is missing and
seals any signing key a hub before issue 12 stored in plaintext.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from .database import Database
from .kek import KekError, is_sealed, load_kek, seal, unseal
from .models import HubMeta, SigningKey
from .signing import create_key


async def resolve_kek(db: Database, path: Path) -> bytes:
    async with db.read() as session:
        rows = (await session.scalars(select(SigningKey))).all()
    kek = load_kek(path, create=not rows)
    if kek is None:
        raise KekError(
            f"signing keys exist but there is no key-encryption key: restore {path} or set "
            "CONNECT_SHARE_HUB_KEK (see docs/operations.md)"
        )
    for row in rows:  # a wrong KEK stops the start here, not at the first token
        if is_sealed(row.private_pem):
            unseal(kek, row.kid, row.private_pem)
    return kek


async def ensure_bootstrap(db: Database, kek: bytes) -> str:
    """Create the hub id and the first signing key when missing; return the hub id."""
    async with db.write() as session:
        meta = await session.get(HubMeta, "hub_id")
        if meta is None:
            meta = HubMeta(key="hub_id", value=uuid.uuid4().hex)
            session.add(meta)
        for row in (await session.scalars(select(SigningKey))).all():
            if not is_sealed(row.private_pem):
                row.private_pem = seal(kek, row.kid, row.private_pem)
        has_key = await session.scalar(
            select(SigningKey.kid).where(SigningKey.retired_at.is_(None)).limit(1)
        )
        if has_key is None:
            await create_key(session, kek)
        return meta.value
