"""Uploads signed by an installation's own key (evidence manifests, event summaries).

One place for the rule: the signer must be an enrolled, not removed installation, and its
pinned public key must verify the document; a bad signature is 403, a malformed one 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from connect_share_protocol import ProtocolError, public_key_from_b64

from .errors import ApiError, bad_request
from .models import Installation
from .validation import HEX_ID

T = TypeVar("T")


def claimed_installation_id(document: Any, bad_code: str, part: str) -> str:
    """The installation id a signed document claims, before its signature is checked."""
    inst_id = document.get("installation_id") if isinstance(document, dict) else None
    if not isinstance(inst_id, str):
        raise bad_request(bad_code, f"{part}.installation_id is missing")
    if not HEX_ID.match(inst_id):  # hub ids are 32 hex: anything else cannot exist
        raise ApiError(403, "unknown_installation", "no such installation")
    return inst_id


async def verified_by_installation(
    session: AsyncSession,
    inst_id: str,
    verify: Callable[[Ed25519PublicKey, dict[str, Any]], T],
    signed: dict[str, Any],
) -> tuple[T, Installation]:
    inst = await session.get(Installation, inst_id)
    if inst is None or inst.removed_at is not None:
        raise ApiError(403, "unknown_installation", "no such installation")
    try:
        document = verify(public_key_from_b64(inst.public_key), signed)
    except ProtocolError as err:
        status = 403 if err.code in ("bad_signature", "bad_key") else 400
        raise ApiError(status, err.code, err.detail or err.code) from err
    return document, inst
