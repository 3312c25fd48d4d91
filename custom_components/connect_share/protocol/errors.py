"""Typed errors with stable reason codes (they go into both audit logs)."""

from __future__ import annotations

from enum import StrEnum


class TokenRejection(StrEnum):
    """Why an access token was refused. Values are stable: audit logs store them."""

    MALFORMED = "malformed"
    BAD_ALGORITHM = "bad_algorithm"
    BAD_TYPE = "bad_type"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_ISSUER = "wrong_issuer"
    MISSING_CLAIM = "missing_claim"
    BAD_CLAIM = "bad_claim"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    REVOKED = "revoked"
    CAMERA_NOT_GRANTED = "camera_not_granted"
    SCOPE_NOT_GRANTED = "scope_not_granted"


class TokenError(Exception):
    """An access token was refused; ``reason`` says why."""

    def __init__(self, reason: TokenRejection, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class ProtocolError(Exception):
    """A wire message could not be accepted; ``code`` is stable and machine readable."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
