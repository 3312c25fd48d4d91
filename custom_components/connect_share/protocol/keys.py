"""Ed25519 keys: generation, serialisation, fingerprints, JWKS and challenge signatures."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import ProtocolError

# Domain separation: an installation's challenge signature can never be replayed as
# anything else signed by the same key (e.g. an evidence manifest).
_AUTH_CONTEXT = b"connect-share/installation-auth/v1\x00"


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise ProtocolError("bad_encoding", "expected base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as err:
        raise ProtocolError("bad_encoding", "invalid base64url") from err


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ProtocolError("bad_key", "not an Ed25519 private key")
    return key


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_to_b64(key: Ed25519PublicKey) -> str:
    return b64url_encode(public_key_raw(key))


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """The one way a public key enters: canonical base64url of a checked Ed25519 point."""
    raw = b64url_decode(text)
    if b64url_encode(raw) != text:
        raise ProtocolError("bad_key", "the key is not canonical base64url")
    check_public_key_bytes(raw)
    return Ed25519PublicKey.from_public_bytes(raw)


# Curve25519 in Edwards form (RFC 8032 section 5.1).
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_IDENTITY = (0, 1, 1, 0)


def _add(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Point addition in extended coordinates (X, Y, Z, T)."""
    p_a = (a[1] - a[0]) * (b[1] - b[0]) % _P
    p_b = (a[1] + a[0]) * (b[1] + b[0]) % _P
    p_c = 2 * a[3] * b[3] * _D % _P
    p_d = 2 * a[2] * b[2] % _P
    e, f, g, h = p_b - p_a, p_d - p_c, p_d + p_c, p_b + p_a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(a: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    p_a, p_b = a[0] * a[0] % _P, a[1] * a[1] % _P
    p_c = 2 * a[2] * a[2] % _P
    h = p_a + p_b
    e = h - (a[0] + a[1]) ** 2 % _P
    g = p_a - p_b
    f = p_c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    result = _IDENTITY
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _double(point)
        scalar >>= 1
    return result


def _is_identity(point: tuple[int, int, int, int]) -> bool:
    return point[0] % _P == 0 and (point[1] - point[2]) % _P == 0


def _decode_point(raw: bytes) -> tuple[int, int, int, int]:
    """Strict decoding: canonical y (< p), a point on the curve, no "negative zero" x."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= _P:
        raise ProtocolError("bad_key", "non-canonical point encoding")
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        if sign:
            raise ProtocolError("bad_key", "non-canonical point encoding")
        return (0, y, 1, 0)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        raise ProtocolError("bad_key", "not a point on Ed25519")
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


@functools.lru_cache(maxsize=1024)
def check_public_key_bytes(raw: bytes) -> None:
    """Refuse what no honest Ed25519 key is: the wrong length, a non-canonical encoding, a
    point off the curve, a small-order point (such a key lets anyone forge signatures),
    or a point with a small-order component (outside the prime-order subgroup).

    Raises ``ProtocolError("bad_key")``; returns None for a key made by ``a * B``.
    """
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise ProtocolError("bad_key", "an Ed25519 public key is 32 bytes")
    point = _decode_point(raw)
    if _is_identity(_multiply(8, point)):
        raise ProtocolError("bad_key", "small-order public key")
    if not _is_identity(_multiply(_L, point)):
        raise ProtocolError("bad_key", "public key outside the prime-order subgroup")


def fingerprint(key: Ed25519PublicKey) -> str:
    """Short, human-comparable fingerprint: SHA-256 of the raw key, first 16 bytes, hex pairs."""
    digest = hashlib.sha256(public_key_raw(key)).hexdigest()[:32]
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def key_id(key: Ed25519PublicKey) -> str:
    """Default ``kid``: RFC 7638 JWK thumbprint, so a kid always names exactly one key."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": public_key_to_b64(key)},
        separators=(",", ":"),
        sort_keys=True,
    )
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class HubKey:
    """One hub signing key as seen by a verifier."""

    kid: str
    public_key: Ed25519PublicKey

    def to_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": public_key_to_b64(self.public_key),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> HubKey:
        if not isinstance(jwk, Mapping):
            raise ProtocolError("bad_jwks", "a JWK must be an object")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ProtocolError("bad_jwks", "only OKP/Ed25519 keys are accepted")
        if jwk.get("alg", "EdDSA") != "EdDSA":
            raise ProtocolError("bad_jwks", "only alg EdDSA is accepted")
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ProtocolError("bad_jwks", "every key needs a kid")
        return cls(kid=kid, public_key=public_key_from_b64(jwk.get("x", "")))


class KeySet:
    """The pinned set of hub keys, looked up by ``kid``. Immutable once built."""

    def __init__(self, keys: Iterable[HubKey]) -> None:
        self._keys: dict[str, HubKey] = {}
        for key in keys:
            if key.kid in self._keys:
                raise ProtocolError("bad_jwks", f"duplicate kid {key.kid}")
            self._keys[key.kid] = key

    def get(self, kid: str) -> HubKey | None:
        return self._keys.get(kid)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def fingerprints(self) -> dict[str, str]:
        return {kid: fingerprint(k.public_key) for kid, k in self._keys.items()}

    def to_jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.to_jwk() for k in self._keys.values()]}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise ProtocolError("bad_jwks", "a JWKS is an object with a 'keys' list")
        keyset = cls(HubKey.from_jwk(jwk) for jwk in jwks["keys"])
        if not keyset:
            raise ProtocolError("bad_jwks", "the key set is empty")
        return keyset


def auth_payload(installation_id: str, nonce: str) -> bytes:
    return _AUTH_CONTEXT + installation_id.encode() + b"\x00" + nonce.encode()


def sign_auth_challenge(key: Ed25519PrivateKey, installation_id: str, nonce: str) -> str:
    return b64url_encode(key.sign(auth_payload(installation_id, nonce)))


def verify_auth_challenge(
    public_key: Ed25519PublicKey, installation_id: str, nonce: str, signature: str
) -> bool:
    try:
        public_key.verify(b64url_decode(signature), auth_payload(installation_id, nonce))
    except (InvalidSignature, ProtocolError):
        return False
    return True
