"""The hub's Ed25519 signing keys: create, rotate, publish as JWKS, sign tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connect_share_protocol import (
    KeySet,
    generate_private_key,
    load_private_key,
    private_key_to_pem,
    public_key_to_b64,
)
from connect_share_protocol.keys import HubKey, key_id

from .kek import seal, unseal
from .models import SigningKey

# Retired keys stay in the JWKS this long, so tokens signed just before a rotation verify.
RETIRED_KEY_GRACE_S = 2 * 3600
# How often a running hub re-reads the keys (``rotate-key`` may run in another process).
RELOAD_EVERY_S = 30.0


@dataclass(frozen=True, slots=True)
class CurrentKey:
    kid: str
    private_key: Ed25519PrivateKey


async def create_key(session: AsyncSession, kek: bytes, *, now: float | None = None) -> str:
    """Add a new current key (sealed with ``kek``), retire the previous one; the new kid."""
    now = time.time() if now is None else now
    for row in (
        await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))
    ).all():
        row.retired_at = now
    key = generate_private_key()
    kid = key_id(key.public_key())
    session.add(
        SigningKey(
            kid=kid,
            private_pem=seal(kek, kid, private_key_to_pem(key)),
            public_b64=public_key_to_b64(key.public_key()),
            created_at=now,
            retired_at=None,
        )
    )
    await session.flush()
    return kid


class KeyStore:
    """Cached view of the signing keys; reloads from the database every 30 s."""

    def __init__(self) -> None:
        self._current: CurrentKey | None = None
        self._keyset: KeySet | None = None
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._loaded_at = 0.0

    def needs_reload(self) -> bool:
        return self._current is None or time.monotonic() - self._loaded_at > RELOAD_EVERY_S

    async def load(self, session: AsyncSession, kek: bytes) -> None:
        now = time.time()
        rows = (
            await session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc()))
        ).all()
        current = next((r for r in rows if r.retired_at is None), None)
        if current is None:
            raise RuntimeError("no signing key: run `connect-share-hub rotate-key`")
        published = [
            r for r in rows if r.retired_at is None or now - r.retired_at < RETIRED_KEY_GRACE_S
        ]
        private = {r.kid: _private_key(kek, r) for r in published}
        self._current = CurrentKey(current.kid, private[current.kid])
        self._keyset = KeySet(HubKey(kid, key.public_key()) for kid, key in private.items())
        self._private = private
        self._loaded_at = time.monotonic()

    @property
    def current(self) -> CurrentKey:
        if self._current is None:
            raise RuntimeError("keys not loaded")
        return self._current

    def private_key(self, kid: str) -> Ed25519PrivateKey | None:
        """A published key (current, or retired within the grace period) to re-sign with."""
        return self._private.get(kid)

    @property
    def keyset(self) -> KeySet:
        if self._keyset is None:
            raise RuntimeError("keys not loaded")
        return self._keyset

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return self.keyset.to_jwks()

    def fingerprints(self) -> dict[str, str]:
        return self.keyset.fingerprints()


def _private_key(kek: bytes, row: SigningKey) -> Ed25519PrivateKey:
    return load_private_key(unseal(kek, row.kid, row.private_pem))
