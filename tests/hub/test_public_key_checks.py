"""Issue 12 item 3: small-order and non-canonical Ed25519 public keys never get in.

With the identity point as "public key", the signature ``R = identity, S = 0`` verifies for
every message; the hub accepted such a key at enrollment and then let a forged signature
through WebSocket authentication.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from connect_share_protocol import (
    ProtocolError,
    decode_message,
    encode_message,
    generate_private_key,
    public_key_from_b64,
    public_key_to_b64,
)
from connect_share_protocol.keys import b64url_encode as b64url_encode_for_tests
from connect_share_protocol.messages import Auth, Hello
from hub_server.models import Installation
from tests.hub_harness import running_hub

P = 2**255 - 19

# The eight small-order points (libsodium's blocklist) and their non-canonical twins.
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
]
NON_CANONICAL = [
    "0100000000000000000000000000000000000000000000000000000000000080",  # -0 identity
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # -0, y = p - 1
]
IDENTITY = bytes.fromhex(SMALL_ORDER[0])


def mixed_order_key() -> bytes:
    """An honest key plus the order-2 point (0, -1): (x, y) -> (-x, -y)."""
    raw = bytearray(bytes.fromhex(public_key_to_b64_hex()))
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    out = bytearray((P - y).to_bytes(32, "little"))
    out[31] |= (1 - sign) << 7
    return bytes(out)


def public_key_to_b64_hex() -> str:
    from cryptography.hazmat.primitives import serialization

    key = generate_private_key().public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


BAD_KEYS = [bytes.fromhex(h) for h in SMALL_ORDER + NON_CANONICAL]


async def test_enrollment_refuses_bad_keys(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        good = generate_private_key().public_key()
        candidates = [b64url_encode_for_tests(k) for k in [*BAD_KEYS, mixed_order_key()]]
        # Base64 aliases of a good key (padding, trailing bits) are refused too.
        text = public_key_to_b64(good)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        alias = text[:-1] + alphabet[alphabet.index(text[-1]) ^ 1]  # flips a padding bit
        candidates += [text + "=", alias]
        for public_key in candidates:
            code = await hub.new_enrollment_code()
            async with hub.http.post(
                hub.url + "/api/v1/installations/enroll",
                json={"code": code, "public_key": public_key, "name": "x", "client_version": "1"},
            ) as resp:
                body = await resp.json()
                assert resp.status == 400, (public_key, body)
                assert body["error"] == "bad_public_key"
        code = await hub.new_enrollment_code()
        async with hub.http.post(
            hub.url + "/api/v1/installations/enroll",
            json={"code": code, "public_key": text, "name": "x", "client_version": "1"},
        ) as resp:
            assert resp.status == 201


async def test_forged_signature_with_identity_key_does_not_authenticate(tmp_path: Path) -> None:
    """A key that got into the database earlier still cannot be used to log in."""
    async with running_hub(tmp_path) as hub:
        inst_id = uuid.uuid4().hex
        async with hub.state.db.write() as session:
            session.add(
                Installation(
                    id=inst_id,
                    name="forger",
                    public_key=b64url_encode_for_tests(IDENTITY),
                    client_version="1",
                    enrolled_at=time.time(),
                    online=False,
                )
            )
        async with hub.http.ws_connect(hub.ws_url, heartbeat=None) as ws:
            await ws.send_str(encode_message(Hello(installation_id=inst_id, client_version="1")))
            first = decode_message((await ws.receive(timeout=10)).data)
            if first.TYPE == "challenge":
                forged = b64url_encode_for_tests(IDENTITY + bytes(32))  # R = identity, S = 0
                await ws.send_str(
                    encode_message(
                        Auth(installation_id=inst_id, nonce=first.nonce, signature=forged)  # type: ignore[attr-defined]
                    )
                )
                first = decode_message((await ws.receive(timeout=10)).data)
            assert first.TYPE == "error", first
            assert first.code in ("bad_public_key", "bad_signature")  # type: ignore[attr-defined]
        assert hub.state.connections.get(inst_id) is None


@pytest.mark.parametrize("raw", BAD_KEYS, ids=[f"k{i}" for i in range(len(BAD_KEYS))])
def test_protocol_refuses_bad_points(raw: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        public_key_from_b64(b64url_encode_for_tests(raw))
    assert caught.value.code == "bad_key"


def test_protocol_accepts_honest_keys() -> None:
    for _ in range(20):
        key = generate_private_key().public_key()
        assert public_key_to_b64(public_key_from_b64(public_key_to_b64(key))) == (
            public_key_to_b64(key)
        )
    with pytest.raises(ProtocolError):
        public_key_from_b64(b64url_encode_for_tests(mixed_order_key()))
