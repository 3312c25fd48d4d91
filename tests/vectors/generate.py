"""Regenerate the shared test vectors: ``python tests/vectors/generate.py``.

Ed25519 signatures are deterministic, so the output is stable; a test checks that the files
in this folder equal what this script produces. The keys below are test-only.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connect_share_protocol.keys import HubKey, KeySet, key_id
from connect_share_protocol.purpose import Purpose
from connect_share_protocol.tokens import TOKEN_TYPE, AccessClaims, issue_token

HERE = Path(__file__).parent
NOW = 1_800_000_000
HUB_SEED = bytes(range(32))
OTHER_SEED = bytes(range(32, 64))
INSTALLATION = "inst-0001"
PURPOSE = Purpose(
    agency_name="Raleigh Police Department",
    agency_id="NC0920100",
    offense_code="220",
    offense_group="property",
    legal_basis="warrant",
    warrant_ref="SW-2026-0042",
    warrant_court="Wake County Superior Court",
)
REASON = "Burglary at 12 Oak St; suspect seen walking north"


def _claims(**over: object) -> dict:
    base = AccessClaims(
        issuer="https://hub.example.test",
        installation_id=INSTALLATION,
        officer_id="officer-7",
        officer_name="Dana Reyes",
        badge="4471",
        incident_id="inc-42",
        case_number="2026-000123",
        cameras=("cam-front",),
        scopes=("live", "snapshot"),
        issued_at=NOW - 60,
        not_before=NOW - 60,
        expires_at=NOW + 840,
        token_id="jti-0001",
    ).to_payload()
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def _sign(key: Ed25519PrivateKey, kid: str, payload: dict, **headers: object) -> str:
    hdr = {"kid": kid, "typ": TOKEN_TYPE, **headers}
    return jwt.encode(payload, key, algorithm="EdDSA", headers=hdr)


def build_tokens() -> dict:
    hub = Ed25519PrivateKey.from_private_bytes(HUB_SEED)
    other = Ed25519PrivateKey.from_private_bytes(OTHER_SEED)
    kid = key_id(hub.public_key())
    other_kid = key_id(other.public_key())
    keyset = KeySet([HubKey(kid, hub.public_key())])
    valid = issue_token(hub, kid, AccessClaims(**_claims_kwargs()))
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    none_token = (
        b64(json.dumps({"alg": "none", "typ": TOKEN_TYPE, "kid": kid}).encode())
        + "."
        + b64(json.dumps(_claims()).encode())
        + "."
    )
    cases = [
        ("valid", valid, None),
        (
            "valid_with_purpose",
            _sign(hub, kid, _claims(pur=PURPOSE.to_claim(), why=REASON)),
            None,
        ),
        (
            "warrant_without_reference",
            _sign(hub, kid, _claims(pur={"legal_basis": "warrant", "warrant_court": "X"})),
            "bad_claim",
        ),
        (
            "unknown_legal_basis",
            _sign(hub, kid, _claims(pur={"legal_basis": "because"})),
            "bad_claim",
        ),
        (
            "unknown_purpose_field",
            _sign(hub, kid, _claims(pur={"agency_name": "X", "immigration": "yes"})),
            "bad_claim",
        ),
        ("bad_agency_id", _sign(hub, kid, _claims(pur={"agency_id": "nc 1"})), "bad_claim"),
        ("reason_not_text", _sign(hub, kid, _claims(why=42)), "bad_claim"),
        (
            "forged_signature",
            valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB"),
            "bad_signature",
        ),
        ("key_not_pinned", _sign(other, other_kid, _claims()), "unknown_key"),
        ("pinned_kid_wrong_key", _sign(other, kid, _claims()), "bad_signature"),
        ("alg_none", none_token, "bad_algorithm"),
        ("wrong_typ", _sign(hub, kid, _claims(), typ="JWT"), "bad_type"),
        ("wrong_audience", _sign(hub, kid, _claims(aud="inst-9999")), "wrong_audience"),
        (
            "expired",
            _sign(hub, kid, _claims(iat=NOW - 3000, nbf=NOW - 3000, exp=NOW - 100)),
            "expired",
        ),
        (
            "not_yet_valid",
            _sign(hub, kid, _claims(iat=NOW, nbf=NOW + 600, exp=NOW + 1200)),
            "not_yet_valid",
        ),
        (
            "lifetime_over_one_hour",
            _sign(hub, kid, _claims(iat=NOW - 60, nbf=NOW - 60, exp=NOW + 3600)),
            "lifetime_too_long",
        ),
        ("missing_jti", _sign(hub, kid, _claims(jti=None)), "missing_claim"),
        ("unknown_scope", _sign(hub, kid, _claims(scope=["live", "ptz"])), "bad_claim"),
        ("truncated", valid[: len(valid) // 2], "malformed"),
        ("garbage", "not-a-token", "malformed"),
    ]
    return {
        "now": NOW,
        "installation_id": INSTALLATION,
        "issuer": "https://hub.example.test",
        "hub_private_seed_hex": HUB_SEED.hex(),
        "jwks": keyset.to_jwks(),
        "fingerprints": keyset.fingerprints(),
        "purpose": {"pur": PURPOSE.to_claim(), "why": REASON},
        "tokens": [{"name": n, "token": t, "reject": r} for n, t, r in cases],
    }


def _claims_kwargs() -> dict:
    p = _claims()
    return {
        "issuer": p["iss"],
        "installation_id": p["aud"],
        "officer_id": p["sub"],
        "officer_name": p["name"],
        "badge": p["badge"],
        "incident_id": p["inc"],
        "case_number": p["case"],
        "cameras": tuple(p["cams"]),
        "scopes": tuple(p["scope"]),
        "issued_at": p["iat"],
        "not_before": p["nbf"],
        "expires_at": p["exp"],
        "token_id": p["jti"],
    }


def build_messages() -> dict:
    session = "0123456789abcdef0123456789abcdef"
    valid = [
        {"v": 1, "type": "hello", "installation_id": INSTALLATION, "client_version": "0.1.0"},
        {"v": 1, "type": "challenge", "nonce": "n-1", "hub_time": NOW},
        {"v": 1, "type": "ping", "ts": 1.5},
        {
            "v": 1,
            "type": "camera_sync",
            "cameras": [
                {
                    "camera_id": "cam-front",
                    "name": "Front door",
                    "mode": "auto",
                    "lat": 35.78,
                    "lon": -78.64,
                    "heading_deg": 90.0,
                    "masked": True,
                },
                {"camera_id": "cam-yard", "name": "Yard", "mode": "registered"},
            ],
        },
        {
            "v": 1,
            "type": "access_request",
            "request_id": "req-1",
            "incident": {
                "incident_id": "inc-42",
                "case_number": "2026-000123",
                "incident_type": "burglary",
                "reason": "break-in reported",
                "lat": 35.78,
                "lon": -78.64,
                "radius_m": 200.0,
                "officer_id": "officer-7",
                "officer_name": "Dana Reyes",
                "badge": "4471",
            },
            "camera_ids": ["cam-front"],
            "scope": "live",
        },
        {
            "v": 1,
            "type": "access_request",
            "request_id": "req-2",
            "incident": {
                "incident_id": "inc-42",
                "case_number": "2026-000123",
                "incident_type": "burglary",
                "reason": REASON,
                "lat": 35.78,
                "lon": -78.64,
                "radius_m": 200.0,
                "officer_id": "officer-7",
                "officer_name": "Dana Reyes",
                "badge": "4471",
                "purpose": PURPOSE.to_claim(),
            },
            "camera_ids": ["cam-front"],
            "scope": "live",
        },
        {"v": 1, "type": "decision", "request_id": "req-1", "approved_camera_ids": []},
        {
            "v": 1,
            "type": "session_close",
            "session_id": session,
            "reason": "revoked",
            "frames_sent": 12,
            "duration_s": 3.5,
        },
        {"v": 1, "type": "revoke", "reason": "pause", "all": True},
        {
            "v": 1,
            "type": "decision",
            "request_id": "req-1",
            "approved_camera_ids": ["cam-front"],
            "final": False,
            "msg_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        },
        {"v": 1, "type": "ack", "msg_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
        {"v": 1, "type": "session_viewers", "session_id": session, "viewers": 0},
    ]
    invalid = [
        ("not_json", "{nope", "bad_json"),
        ("not_object", "[1,2]", "bad_message"),
        ("no_version", {"type": "ping", "ts": 1}, "bad_version"),
        ("future_version", {"v": 2, "type": "ping", "ts": 1}, "bad_version"),
        ("unknown_type", {"v": 1, "type": "format_disk"}, "unknown_type"),
        ("missing_field", {"v": 1, "type": "hello", "installation_id": "x"}, "missing_field"),
        ("unknown_field", {"v": 1, "type": "ping", "ts": 1, "extra": 1}, "unknown_field"),
        ("wrong_type", {"v": 1, "type": "ping", "ts": "soon"}, "bad_field"),
        (
            "bool_is_not_int",
            {
                "v": 1,
                "type": "session_close",
                "session_id": session,
                "reason": "x",
                "frames_sent": True,
            },
            "bad_field",
        ),
        (
            "nested_wrong_type",
            {
                "v": 1,
                "type": "camera_sync",
                "cameras": [{"camera_id": 1, "name": "x", "mode": "auto"}],
            },
            "bad_field",
        ),
        (
            "bad_mode",
            {
                "v": 1,
                "type": "camera_sync",
                "cameras": [{"camera_id": "c", "name": "x", "mode": "always"}],
            },
            "bad_field",
        ),
        (
            "bad_legal_basis",
            _request_with_purpose({"legal_basis": "hunch"}),
            "bad_field",
        ),
        (
            "exigent_with_warrant_ref",
            _request_with_purpose({"legal_basis": "exigent", "warrant_ref": "SW-1"}),
            "bad_field",
        ),
        (
            "unknown_purpose_field",
            _request_with_purpose({"agency_name": "X", "why": "y"}),
            "unknown_field",
        ),
    ]
    return {
        "valid": valid,
        "invalid": [
            {"name": n, "raw": r if isinstance(r, str) else json.dumps(r), "code": c}
            for n, r, c in invalid
        ],
    }


def _request_with_purpose(purpose: dict) -> dict:
    return {
        "v": 1,
        "type": "access_request",
        "request_id": "req-3",
        "incident": {
            "incident_id": "inc-42",
            "case_number": "2026-000123",
            "incident_type": "burglary",
            "reason": REASON,
            "lat": 35.78,
            "lon": -78.64,
            "radius_m": 200.0,
            "officer_id": "officer-7",
            "officer_name": "Dana Reyes",
            "badge": "4471",
            "purpose": purpose,
        },
        "camera_ids": ["cam-front"],
        "scope": "live",
    }


def write(out: Path = HERE) -> None:
    for name, data in (("tokens.json", build_tokens()), ("messages.json", build_messages())):
        (out / name).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
