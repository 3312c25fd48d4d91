"""The evidence manifest: canonical encoding, signature, domain separation, file checks."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connect_share_protocol import ProtocolError, sign_auth_challenge, verify_auth_challenge
from connect_share_protocol.evidence import (
    EVIDENCE_CONTEXT,
    EvidenceManifest,
    EvidenceMismatch,
    manifest_payload,
    sign_manifest,
    verify_file,
    verify_manifest,
)

SEED = bytes(range(100, 132))  # test-only key
DATA = b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9"


def manifest(**over) -> EvidenceManifest:
    fields = {
        "installation_id": "inst-0001",
        "camera_id": "camera.front_door",
        "incident_id": "inc-42",
        "request_id": "req-7",
        "file_name": "0001800000000-0123456789ab.jpg",
        "content_type": "image/jpeg",
        "size": len(DATA),
        "sha256": hashlib.sha256(DATA).hexdigest(),
        "event_start_ms": 1_800_000_000_000,
        "event_end_ms": 1_800_000_012_500,
        "created_ms": 1_800_000_100_000,
        "event_id": "0001800000000-0123456789ab",
        "labels": ("car", "person"),
        "masked": True,
    }
    fields.update(over)
    return EvidenceManifest(**fields)


# Pinned: any change to the canonical encoding or the context breaks these, on purpose
# (a manifest signed by one version must verify in every later one).
CANONICAL = (
    '{"camera_id":"camera.front_door","content_type":"image/jpeg","created_ms":1800000100000,'
    '"event_end_ms":1800000012500,"event_id":"0001800000000-0123456789ab",'
    '"event_start_ms":1800000000000,"file_name":"0001800000000-0123456789ab.jpg",'
    '"incident_id":"inc-42","installation_id":"inst-0001","labels":["car","person"],'
    '"masked":true,"request_id":"req-7",'
    '"sha256":"' + hashlib.sha256(DATA).hexdigest() + '","size":25,"v":1}'
)


SIGNATURE = "-932BvrEiQ_ZM7a0qSG3fIU-dJCPJrp4UpwthqhCVqcf_d65HPx5FTCMMeZ5lS9rDWKaU2k6KO3sYmxZ7Nb8Ag"


def test_canonical_encoding_is_pinned():
    assert manifest().canonical().decode() == CANONICAL
    assert manifest_payload(manifest()) == EVIDENCE_CONTEXT + CANONICAL.encode()


def test_sign_and_verify_round_trip():
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    signed = sign_manifest(key, manifest())
    # Deterministic Ed25519: the same manifest always gets the same (pinned) signature.
    assert signed["signature"] == SIGNATURE
    assert verify_manifest(key.public_key(), signed) == manifest()


@pytest.mark.parametrize(
    "change",
    [
        {"sha256": "0" * 64},
        {"size": 26},
        {"camera_id": "camera.back"},
        {"request_id": "req-8"},
        {"event_end_ms": 1_800_000_099_000},
        {"masked": False},
        {"labels": ["person"]},
    ],
)
def test_any_changed_field_breaks_the_signature(change):
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    signed = sign_manifest(key, manifest())
    tampered = {"manifest": {**signed["manifest"], **change}, "signature": signed["signature"]}
    with pytest.raises(ProtocolError) as info:
        verify_manifest(key.public_key(), tampered)
    assert info.value.code == "bad_signature"


def test_other_key_is_refused():
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ProtocolError, match="bad_signature"):
        verify_manifest(other.public_key(), sign_manifest(key, manifest()))


def test_signatures_are_domain_separated_from_auth():
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    m = manifest()
    signed = sign_manifest(key, m)
    # An auth signature over the same text is not a manifest signature, and vice versa.
    auth_sig = sign_auth_challenge(key, "inst-0001", m.canonical().decode())
    with pytest.raises(ProtocolError, match="bad_signature"):
        verify_manifest(key.public_key(), {"manifest": signed["manifest"], "signature": auth_sig})
    assert not verify_auth_challenge(
        key.public_key(), "inst-0001", m.canonical().decode(), signed["signature"]
    )
    # A bare signature over the canonical JSON (no context) is refused too.
    from connect_share_protocol.keys import b64url_encode

    bare = b64url_encode(key.sign(m.canonical()))
    with pytest.raises(ProtocolError, match="bad_signature"):
        verify_manifest(key.public_key(), {"manifest": signed["manifest"], "signature": bare})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "ABC"}, "sha256"),
        ({"size": 0}, "size"),
        ({"size": True}, "size"),
        ({"event_start_ms": 1.5}, "event_start_ms"),
        ({"event_end_ms": 1}, "before"),
        ({"file_name": "../etc/passwd"}, "file_name"),
        ({"file_name": ".hidden"}, "file_name"),
        ({"content_type": "text/html"}, "content_type"),
        ({"camera_id": ""}, "camera_id"),
        ({"labels": ("Person<script>",)}, "label"),
    ],
)
def test_bad_fields_are_refused(change, message):
    with pytest.raises(ProtocolError, match=message):
        manifest(**change)


def test_strict_parsing():
    data = manifest().to_dict()
    with pytest.raises(ProtocolError, match="unexpected"):
        EvidenceManifest.from_dict({**data, "extra": 1})
    with pytest.raises(ProtocolError, match="missing"):
        EvidenceManifest.from_dict({k: v for k, v in data.items() if k != "sha256"})
    with pytest.raises(ProtocolError, match="version"):
        EvidenceManifest.from_dict({**data, "v": 2})
    with pytest.raises(ProtocolError, match="version"):
        EvidenceManifest.from_dict({**data, "v": True})
    with pytest.raises(ProtocolError):
        verify_manifest(Ed25519PrivateKey.generate().public_key(), {"manifest": data})
    with pytest.raises(ProtocolError):
        EvidenceManifest.from_dict([1, 2])


def test_verify_file(tmp_path):
    good = tmp_path / "good.jpg"
    good.write_bytes(DATA)
    verify_file(manifest(), good)
    flipped = tmp_path / "flipped.jpg"
    flipped.write_bytes(DATA[:-1] + b"\x00")
    with pytest.raises(EvidenceMismatch, match="sha256"):
        verify_file(manifest(), flipped)
    longer = tmp_path / "longer.jpg"
    longer.write_bytes(DATA + b"x")
    with pytest.raises(EvidenceMismatch, match="size"):
        verify_file(manifest(), longer)
