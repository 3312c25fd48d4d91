"""Attacks on the resident-side verifier: each must fail with its own reason code."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connect_share_protocol import (
    KeySet,
    TokenError,
    TokenRejection,
    generate_private_key,
    issue_token,
    verify_token,
)
from connect_share_protocol.keys import HubKey, key_id
from connect_share_protocol.tokens import TOKEN_TYPE, new_claims

NOW = 1_800_000_000
INSTALLATION = "inst-A"
HUB_KEY = generate_private_key()
KID = key_id(HUB_KEY.public_key())
KEYS = KeySet([HubKey(KID, HUB_KEY.public_key())])


def claims(**over):
    base = dict(
        issuer="hub",
        installation_id=INSTALLATION,
        officer_id="o-1",
        officer_name="Dana Reyes",
        badge="4471",
        incident_id="inc-1",
        case_number="C-1",
        cameras=["cam-1"],
        scopes=["live"],
        lifetime_s=600,
        now=NOW,
    )
    base.update(over)
    return new_claims(**base)


def payload(**over):
    p = claims().to_payload()
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


def sign(p, *, key=HUB_KEY, kid=KID, alg="EdDSA", typ=TOKEN_TYPE):
    return jwt.encode(p, key, algorithm=alg, headers={"kid": kid, "typ": typ})


def reject(token: str, reason: TokenRejection, **kwargs) -> TokenError:
    kwargs.setdefault("installation_id", INSTALLATION)
    kwargs.setdefault("now", NOW)
    with pytest.raises(TokenError) as err:
        verify_token(token, KEYS, **kwargs)
    assert err.value.reason is reason, err.value
    return err.value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_token_returns_grant_for_local_rules() -> None:
    token = issue_token(HUB_KEY, KID, claims(cameras=["cam-1", "cam-2"], scopes=["snapshot"]))
    grant = verify_token(token, KEYS, installation_id=INSTALLATION, now=NOW + 10)
    assert grant.claims.cameras == ("cam-1", "cam-2")
    assert grant.claims.scopes == ("snapshot",)
    assert grant.claims.officer_name == "Dana Reyes"
    assert grant.kid == KID
    grant.require("cam-2", "snapshot")


def test_issued_token_is_what_pyjwt_would_sign() -> None:
    # issue_token writes the JWS itself (speed); the bytes must stay PyJWT's, non-ASCII too.
    for c in (claims(), claims(officer_name="Zoë Ñúñez", scopes=["clip"], window=(NOW - 60, NOW))):
        token = issue_token(HUB_KEY, KID, c)
        assert token == sign(c.to_payload())
        assert verify_token(token, KEYS, installation_id=INSTALLATION, now=NOW).claims == c


def test_forged_signature() -> None:
    token = issue_token(HUB_KEY, KID, claims())
    head, body, sig = token.split(".")
    tampered = json.loads(base64.urlsafe_b64decode(body + "=="))
    tampered["cams"] = ["cam-1", "cam-neighbour"]
    reject(f"{head}.{b64(json.dumps(tampered).encode())}.{sig}", TokenRejection.BAD_SIGNATURE)


def test_key_not_pinned() -> None:
    rogue = generate_private_key()
    reject(sign(payload(), key=rogue, kid=key_id(rogue.public_key())), TokenRejection.UNKNOWN_KEY)


def test_rogue_key_claiming_pinned_kid() -> None:
    reject(sign(payload(), key=generate_private_key()), TokenRejection.BAD_SIGNATURE)


def test_missing_kid() -> None:
    token = jwt.encode(payload(), HUB_KEY, algorithm="EdDSA", headers={"typ": TOKEN_TYPE})
    reject(token, TokenRejection.UNKNOWN_KEY)


def test_alg_none() -> None:
    header = b64(json.dumps({"alg": "none", "typ": TOKEN_TYPE, "kid": KID}).encode())
    reject(f"{header}.{b64(json.dumps(payload()).encode())}.", TokenRejection.BAD_ALGORITHM)


def test_hs256_with_public_key_as_secret() -> None:
    pem = HUB_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    header = b64(json.dumps({"alg": "HS256", "typ": TOKEN_TYPE, "kid": KID}).encode())
    body = b64(json.dumps(payload()).encode())
    import hashlib
    import hmac

    mac = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    reject(f"{header}.{body}.{b64(mac)}", TokenRejection.BAD_ALGORITHM)


def test_wrong_typ() -> None:
    reject(sign(payload(), typ="JWT"), TokenRejection.BAD_TYPE)


def test_wrong_audience() -> None:
    reject(sign(payload(aud="inst-B")), TokenRejection.WRONG_AUDIENCE)


def test_audience_list_is_refused() -> None:
    reject(sign(payload(aud=[INSTALLATION, "inst-B"])), TokenRejection.BAD_CLAIM)


def test_wrong_issuer_when_pinned() -> None:
    token = issue_token(HUB_KEY, KID, claims())
    reject(token, TokenRejection.WRONG_ISSUER, issuer="other-hub")


def test_other_installations_camera() -> None:
    token = issue_token(HUB_KEY, KID, claims(cameras=["cam-1"]))
    grant = verify_token(token, KEYS, installation_id=INSTALLATION, now=NOW)
    with pytest.raises(TokenError) as err:
        grant.require("cam-of-inst-B", "live")
    assert err.value.reason is TokenRejection.CAMERA_NOT_GRANTED


def test_scope_not_granted() -> None:
    token = issue_token(HUB_KEY, KID, claims(scopes=["snapshot"]))
    grant = verify_token(token, KEYS, installation_id=INSTALLATION, now=NOW)
    with pytest.raises(TokenError) as err:
        grant.require("cam-1", "live")
    assert err.value.reason is TokenRejection.SCOPE_NOT_GRANTED


def test_expired_beyond_leeway_but_not_within() -> None:
    token = issue_token(HUB_KEY, KID, claims())  # exp = NOW + 600
    verify_token(token, KEYS, installation_id=INSTALLATION, now=NOW + 600 + 29)
    reject(token, TokenRejection.EXPIRED, now=NOW + 600 + 30)


def test_not_yet_valid() -> None:
    token = issue_token(HUB_KEY, KID, claims(now=NOW + 120))
    reject(token, TokenRejection.NOT_YET_VALID)
    verify_token(token, KEYS, installation_id=INSTALLATION, now=NOW + 100)


def test_lifetime_over_one_hour() -> None:
    reject(sign(payload(exp=NOW + 3601)), TokenRejection.LIFETIME_TOO_LONG)
    with pytest.raises(ValueError):
        claims(lifetime_s=3601)


def test_revoked_jti() -> None:
    token = issue_token(HUB_KEY, KID, claims())
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    reject(token, TokenRejection.REVOKED, is_revoked={jti}.__contains__)


@pytest.mark.parametrize("claim", ["jti", "exp", "aud", "cams", "scope", "inc", "case"])
def test_missing_claim(claim: str) -> None:
    err = reject(sign(payload(**{claim: None})), _missing_reason(claim))
    assert claim in str(err) or err.reason is TokenRejection.WRONG_AUDIENCE


def _missing_reason(claim: str) -> TokenRejection:
    return TokenRejection.MISSING_CLAIM


@pytest.mark.parametrize(
    "over",
    [{"cams": []}, {"cams": "cam-1"}, {"scope": ["root"]}, {"exp": "soon"}, {"win": [5, 1]}],
)
def test_bad_claim_values(over: dict) -> None:
    reject(sign(payload(**over)), TokenRejection.BAD_CLAIM)


@pytest.mark.parametrize(
    "token", ["", "x", "a.b", "a.b.c", "....", "\x00\xff", "é.é.é", "x" * 10_000]
)
def test_truncated_and_garbage(token: str) -> None:
    reject(token, TokenRejection.MALFORMED)


def test_truncated_valid_token() -> None:
    token = issue_token(HUB_KEY, KID, claims())
    for cut in (10, len(token) // 2, len(token) - 1):
        with pytest.raises(TokenError):
            verify_token(token[:cut], KEYS, installation_id=INSTALLATION, now=NOW)


def test_non_string_token() -> None:
    reject(None, TokenRejection.MALFORMED)  # type: ignore[arg-type]


VALID = issue_token(HUB_KEY, KID, claims())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(0, len(VALID) - 1), byte=st.integers(0, 255))
def test_any_single_byte_change_is_rejected(position: int, byte: int) -> None:
    original = VALID.encode()
    if original[position] == byte:
        byte = (byte + 1) % 256
    mutated = original[:position] + bytes([byte]) + original[position + 1 :]
    text = mutated.decode("latin-1")
    try:
        verify_token(text, KEYS, installation_id=INSTALLATION, now=NOW)
    except TokenError:
        return
    # base64url has spare bits in its last character: a change there may decode to the same
    # bytes. Then the token is byte-for-byte the same signed content, which is not a forgery.
    assert _decoded_parts(text) == _decoded_parts(VALID), f"accepted mutation at {position}"


def _decoded_parts(token: str) -> list[bytes]:
    return [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in token.split(".")]
