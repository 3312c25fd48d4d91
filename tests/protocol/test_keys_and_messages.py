"""Keys, JWKS, challenge signatures, strict message parsing and media frame headers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_share_protocol import (
    KeySet,
    ProtocolError,
    decode_message,
    encode_message,
    fingerprint,
    generate_private_key,
    load_private_key,
    private_key_to_pem,
    public_key_from_b64,
    public_key_to_b64,
    sign_auth_challenge,
    verify_auth_challenge,
)
from connect_share_protocol.keys import HubKey, key_id
from connect_share_protocol.messages import (
    MAX_MESSAGE_BYTES,
    FrameHeader,
    Hello,
    Revoke,
    message_types,
    new_session_id,
    pack_frame,
    unpack_frame,
)


def test_private_key_pem_round_trip_and_fingerprint_format() -> None:
    key = generate_private_key()
    again = load_private_key(private_key_to_pem(key))
    assert public_key_to_b64(again.public_key()) == public_key_to_b64(key.public_key())
    fp = fingerprint(key.public_key())
    assert len(fp.split(":")) == 8 and all(len(p) == 4 for p in fp.split(":"))
    assert fp != fingerprint(generate_private_key().public_key())


def test_jwks_with_several_keys() -> None:
    keys = [generate_private_key().public_key() for _ in range(3)]
    ks = KeySet(HubKey(key_id(k), k) for k in keys)
    again = KeySet.from_jwks(json.loads(json.dumps(ks.to_jwks())))
    assert again.kids == ks.kids and len(again) == 3
    assert again.fingerprints() == ks.fingerprints()


@pytest.mark.parametrize(
    "jwks",
    [
        {},
        {"keys": []},
        {"keys": "x"},
        {"keys": [{"kty": "RSA", "kid": "a", "n": "x", "e": "AQAB"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "a"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "A" * 43}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "kid": "a", "alg": "HS256"}]},
    ],
)
def test_bad_jwks_is_refused(jwks: dict) -> None:
    with pytest.raises(ProtocolError):
        KeySet.from_jwks(jwks)


def test_duplicate_kid_is_refused() -> None:
    k = generate_private_key().public_key()
    with pytest.raises(ProtocolError):
        KeySet([HubKey("a", k), HubKey("a", k)])


def test_public_key_b64_length_checked() -> None:
    with pytest.raises(ProtocolError):
        public_key_from_b64("AAAA")


def test_challenge_signature_binds_installation_and_nonce() -> None:
    key = generate_private_key()
    sig = sign_auth_challenge(key, "inst-1", "nonce-1")
    assert verify_auth_challenge(key.public_key(), "inst-1", "nonce-1", sig)
    assert not verify_auth_challenge(key.public_key(), "inst-2", "nonce-1", sig)
    assert not verify_auth_challenge(key.public_key(), "inst-1", "nonce-2", sig)
    assert not verify_auth_challenge(generate_private_key().public_key(), "inst-1", "nonce-1", sig)
    assert not verify_auth_challenge(key.public_key(), "inst-1", "nonce-1", "!!not b64!!")


def test_oversize_message() -> None:
    raw = json.dumps({"v": 1, "type": "ping", "ts": 1, "pad": "x" * MAX_MESSAGE_BYTES})
    with pytest.raises(ProtocolError) as err:
        decode_message(raw)
    assert err.value.code == "too_large"


def test_defaults_fill_optional_fields() -> None:
    msg = decode_message({"v": 1, "type": "revoke", "reason": "pause"})
    assert isinstance(msg, Revoke) and msg.token_ids == [] and msg.all is False


def test_every_message_type_round_trips_through_json() -> None:
    assert len(message_types()) >= 15
    msg = Hello(installation_id="i", client_version="1")
    assert json.loads(encode_message(msg)) == {
        "v": 1,
        "type": "hello",
        "installation_id": "i",
        "client_version": "1",
    }


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_raises_anything_but_protocol_error(value) -> None:
    for candidate in (
        value,
        {"v": 1, "type": "camera_sync", "cameras": value},
        {"v": 1, "type": "access_request", "incident": value},
    ):
        try:
            decode_message(json.dumps(candidate))
        except ProtocolError:
            pass


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_but_protocol_error(data: bytes) -> None:
    for parse in (decode_message, unpack_frame):
        try:
            parse(data)
        except ProtocolError:
            pass


def test_frame_header_round_trip_and_rejections() -> None:
    sid = new_session_id()
    packed = pack_frame(FrameHeader(sid, 7, 123456789), b"\xff\xd8jpeg")
    header, payload = unpack_frame(packed)
    assert (header.session_id, header.seq, header.captured_ms, payload) == (
        sid,
        7,
        123456789,
        b"\xff\xd8jpeg",
    )
    with pytest.raises(ProtocolError):
        unpack_frame(b"XXXX" + packed[4:])
    with pytest.raises(ProtocolError):
        unpack_frame(packed[: FrameHeader.SIZE - 1])
    with pytest.raises(ProtocolError):
        pack_frame(FrameHeader("not-hex", 1, 1), b"")
