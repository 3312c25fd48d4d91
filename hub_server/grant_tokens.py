"""Grants keep what is needed of their token, never the token itself (issue 12 item 2).

A grant row holds the token's ``jti`` (the row id), the SHA-256 of the compact JWS, and its
unsigned parts (the JOSE header and the claims, as the exact JSON text that was signed).
Someone who reads the database learns who may see what, but gets no token an installation
would accept: the signature is recomputed with the (sealed) signing key whenever the token
is needed again (``session_open``, the officer's own grant). Ed25519 is deterministic, so
the re-signed token is byte for byte the one issued; a row whose hash does not match (the
claims were edited in the database) gives no token.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass

from .errors import ApiError
from .models import GrantRow
from .state import Hub

_LOGGER = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredToken:
    """The columns a grant keeps of its token."""

    token_sha256: str
    token_header: str
    claims: str

    @classmethod
    def of(cls, token: str) -> StoredToken:
        header, payload, _signature = token.split(".")
        return cls(
            token_sha256=token_sha256(token),
            token_header=_unb64(header).decode("utf-8"),
            claims=_unb64(payload).decode("utf-8"),
        )


class GrantTokenUnavailable(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(409, "grant_token_unavailable", message)


async def grant_token(hub: Hub, grant: GrantRow) -> str:
    """The grant's token, signed again with its key; refused if it is not the one issued."""
    keys = await hub.signing_keys()
    private_key = keys.private_key(grant.kid)
    if private_key is None:  # the key left the JWKS: the token could not verify anyway
        raise GrantTokenUnavailable("the grant's signing key is no longer published")
    signing_input = (
        _b64(grant.token_header.encode("utf-8")) + "." + _b64(grant.claims.encode("utf-8"))
    )
    token = signing_input + "." + _b64(private_key.sign(signing_input.encode("ascii")))
    if token_sha256(token) != grant.token_sha256:
        _LOGGER.error("grant %s: stored claims do not match the issued token", grant.id)
        raise GrantTokenUnavailable("the stored grant does not match the token issued")
    return token


async def tokens_for_officer(
    hub: Hub, officer_id: str, grants: list[GrantRow], now: float
) -> dict[str, str]:
    """Re-signed tokens of the active grants that name this officer (by grant id)."""
    tokens: dict[str, str] = {}
    for grant in grants:
        if grant.officer_id != officer_id or grant.revoked_at is not None:
            continue
        if grant.expires_at <= now:
            continue
        try:
            tokens[grant.id] = await grant_token(hub, grant)
        except GrantTokenUnavailable:
            continue
    return tokens
