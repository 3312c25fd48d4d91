"""Access tokens: compact JWS (EdDSA) issued by the hub, verified inside the resident's house.

The verifier pins the algorithm, the key set, the token type and the audience; it returns an
``AccessGrant`` whose cameras and scopes the integration then checks against its local rules.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import TokenError, TokenRejection
from .keys import KeySet
from .purpose import Purpose, validate_reason

TOKEN_TYPE = "connect-share-access+jwt"
ALGORITHM = "EdDSA"
MAX_TOKEN_LIFETIME_S = 3600
DEFAULT_LEEWAY_S = 30
SCOPES = frozenset({"live", "snapshot", "clip"})
MAX_TOKEN_LENGTH = 8192

_REQUIRED = ("iss", "aud", "sub", "inc", "case", "cams", "scope", "iat", "nbf", "exp", "jti")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What the hub grants: one officer, one incident, some cameras of one installation."""

    issuer: str
    installation_id: str
    officer_id: str
    officer_name: str
    badge: str
    incident_id: str
    case_number: str
    cameras: tuple[str, ...]
    scopes: tuple[str, ...]
    issued_at: int
    not_before: int
    expires_at: int
    token_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    window_start: int | None = None
    window_end: int | None = None
    # Why: agency, offense type, legal basis (claim ``pur``) and the reason (claim ``why``).
    # Both optional on the wire so tokens of older hubs still verify (as "not stated").
    purpose: Purpose = field(default_factory=Purpose)
    reason: str = ""

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.installation_id,
            "sub": self.officer_id,
            "name": self.officer_name,
            "badge": self.badge,
            "inc": self.incident_id,
            "case": self.case_number,
            "cams": list(self.cameras),
            "scope": list(self.scopes),
            "iat": self.issued_at,
            "nbf": self.not_before,
            "exp": self.expires_at,
            "jti": self.token_id,
        }
        if self.window_start is not None and self.window_end is not None:
            payload["win"] = [self.window_start, self.window_end]
        if self.purpose.stated:
            payload["pur"] = self.purpose.to_claim()
        if self.reason:
            payload["why"] = self.reason
        return payload


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """A verified token. ``require`` is the token half of the access check."""

    claims: AccessClaims
    kid: str

    def require(self, camera_id: str, scope: str) -> None:
        if camera_id not in self.claims.cameras:
            raise TokenError(TokenRejection.CAMERA_NOT_GRANTED, camera_id)
        if scope not in self.claims.scopes:
            raise TokenError(TokenRejection.SCOPE_NOT_GRANTED, scope)


def new_claims(
    *,
    issuer: str,
    installation_id: str,
    officer_id: str,
    officer_name: str,
    badge: str,
    incident_id: str,
    case_number: str,
    cameras: Collection[str],
    scopes: Collection[str],
    lifetime_s: int = 900,
    window: tuple[int, int] | None = None,
    now: int | None = None,
    purpose: Purpose | None = None,
    reason: str = "",
) -> AccessClaims:
    """Claims for a token valid from now; refuses what the verifier would refuse anyway."""
    now = int(time.time()) if now is None else now
    if not 0 < lifetime_s <= MAX_TOKEN_LIFETIME_S:
        raise ValueError(f"lifetime must be 1..{MAX_TOKEN_LIFETIME_S} s")
    if not cameras:
        raise ValueError("a token names at least one camera")
    unknown = set(scopes) - SCOPES
    if not scopes or unknown:
        raise ValueError(f"scopes must be a non-empty subset of {sorted(SCOPES)}")
    purpose = purpose or Purpose()
    purpose.validate()
    validate_reason(reason)
    return AccessClaims(
        issuer=issuer,
        installation_id=installation_id,
        officer_id=officer_id,
        officer_name=officer_name,
        badge=badge,
        incident_id=incident_id,
        case_number=case_number,
        cameras=tuple(cameras),
        scopes=tuple(sorted(scopes)),
        issued_at=now,
        not_before=now,
        expires_at=now + lifetime_s,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        purpose=purpose,
        reason=reason,
    )


def issue_token(private_key: Ed25519PrivateKey, kid: str, claims: AccessClaims) -> str:
    """The compact JWS that ``jwt.encode`` would give, byte for byte (a test holds it to
    that), without its per-call overhead: the hub signs one token per approved camera."""
    header = json.dumps(
        {"alg": ALGORITHM, "kid": kid, "typ": TOKEN_TYPE}, separators=(",", ":"), sort_keys=True
    )
    payload = json.dumps(claims.to_payload(), separators=(",", ":"))
    signing_input = _b64(header.encode()) + b"." + _b64(payload.encode())
    return (signing_input + b"." + _b64(private_key.sign(signing_input))).decode("ascii")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def verify_token(
    token: str,
    keys: KeySet,
    *,
    installation_id: str,
    issuer: str | None = None,
    is_revoked: Callable[[str], bool] = lambda _jti: False,
    now: float | None = None,
    leeway_s: int = DEFAULT_LEEWAY_S,
) -> AccessGrant:
    """Verify signature, type, audience, time and revocation. Raises ``TokenError``."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenError(TokenRejection.MALFORMED, "not a token string")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as err:
        raise TokenError(TokenRejection.MALFORMED, str(err)) from err
    if header.get("alg") != ALGORITHM:
        raise TokenError(TokenRejection.BAD_ALGORITHM, str(header.get("alg")))
    if header.get("typ") != TOKEN_TYPE:
        raise TokenError(TokenRejection.BAD_TYPE, str(header.get("typ")))
    kid = header.get("kid")
    if not isinstance(kid, str) or (hub_key := keys.get(kid)) is None:
        raise TokenError(TokenRejection.UNKNOWN_KEY, str(kid))
    # Time is checked by us (after the signature) so that every failure has its own code
    # and tests can pass a fixed clock; PyJWT still checks signature and audience.
    try:
        payload = jwt.decode(
            token,
            hub_key.public_key,
            algorithms=[ALGORITHM],
            audience=installation_id,
            options={
                "require": list(_REQUIRED),
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError as err:
        raise TokenError(TokenRejection.BAD_SIGNATURE) from err
    except jwt.InvalidAudienceError as err:
        raise TokenError(TokenRejection.WRONG_AUDIENCE, str(err)) from err
    except jwt.MissingRequiredClaimError as err:
        raise TokenError(TokenRejection.MISSING_CLAIM, err.claim) from err
    except jwt.PyJWTError as err:
        raise TokenError(TokenRejection.MALFORMED, str(err)) from err

    claims = _claims_from_payload(payload)
    if issuer is not None and claims.issuer != issuer:
        raise TokenError(TokenRejection.WRONG_ISSUER, claims.issuer)
    now = time.time() if now is None else now
    if claims.expires_at <= now - leeway_s:
        raise TokenError(TokenRejection.EXPIRED)
    if claims.not_before > now + leeway_s:
        raise TokenError(TokenRejection.NOT_YET_VALID)
    if claims.expires_at - claims.issued_at > MAX_TOKEN_LIFETIME_S:
        raise TokenError(TokenRejection.LIFETIME_TOO_LONG)
    if is_revoked(claims.token_id):
        raise TokenError(TokenRejection.REVOKED, claims.token_id)
    return AccessGrant(claims=claims, kid=kid)


def _claims_from_payload(p: dict[str, Any]) -> AccessClaims:
    def text(name: str, *, optional: bool = False) -> str:
        value = p.get(name, "" if optional else None)
        if not isinstance(value, str) or (not optional and not value):
            raise TokenError(TokenRejection.BAD_CLAIM, name)
        return value

    def integer(name: str) -> int:
        value = p.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenError(TokenRejection.BAD_CLAIM, name)
        return value

    def strings(name: str) -> tuple[str, ...]:
        value = p.get(name)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise TokenError(TokenRejection.BAD_CLAIM, name)
        return tuple(value)

    scopes = strings("scope")
    if not set(scopes) <= SCOPES:
        raise TokenError(TokenRejection.BAD_CLAIM, "scope")
    window = p.get("win")
    if window is not None and not (
        isinstance(window, list)
        and len(window) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in window)
        and window[0] <= window[1]
    ):
        raise TokenError(TokenRejection.BAD_CLAIM, "win")
    try:
        purpose = Purpose.from_claim(p["pur"]) if "pur" in p else Purpose()
    except ValueError as err:
        raise TokenError(TokenRejection.BAD_CLAIM, "pur") from err
    reason = text("why", optional=True)
    try:
        validate_reason(reason)
    except ValueError as err:
        raise TokenError(TokenRejection.BAD_CLAIM, "why") from err
    return AccessClaims(
        issuer=text("iss"),
        installation_id=text("aud"),
        officer_id=text("sub"),
        officer_name=text("name", optional=True),
        badge=text("badge", optional=True),
        incident_id=text("inc"),
        case_number=text("case"),
        cameras=strings("cams"),
        scopes=scopes,
        issued_at=integer("iat"),
        not_before=integer("nbf"),
        expires_at=integer("exp"),
        token_id=text("jti"),
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        purpose=purpose,
        reason=reason,
    )
