"""The shared vectors are reproducible and every verifier outcome matches them."""

from __future__ import annotations

from pathlib import Path

import pytest

from connect_share_protocol import KeySet, ProtocolError, TokenError, decode_message
from connect_share_protocol.messages import encode_message
from connect_share_protocol.tokens import verify_token
from tests.conftest import VECTORS, load_vectors
from tests.vectors.generate import write


def test_vector_files_are_what_the_generator_makes(tmp_path: Path) -> None:
    write(tmp_path)
    for name in ("tokens.json", "messages.json"):
        assert (tmp_path / name).read_text() == (VECTORS / name).read_text(), name


@pytest.mark.parametrize("case", load_vectors("tokens.json")["tokens"], ids=lambda c: c["name"])
def test_token_vector(case: dict, token_vectors: dict) -> None:
    keys = KeySet.from_jwks(token_vectors["jwks"])
    kwargs = {"installation_id": token_vectors["installation_id"], "now": token_vectors["now"]}
    if case["reject"] is None:
        grant = verify_token(case["token"], keys, **kwargs)
        assert grant.claims.cameras == ("cam-front",)
        assert grant.claims.token_id == "jti-0001"
    else:
        with pytest.raises(TokenError) as err:
            verify_token(case["token"], keys, **kwargs)
        assert err.value.reason.value == case["reject"]


@pytest.mark.parametrize("raw", load_vectors("messages.json")["valid"], ids=lambda m: m["type"])
def test_valid_message_round_trips(raw: dict) -> None:
    msg = decode_message(raw)
    assert decode_message(encode_message(msg)) == msg


@pytest.mark.parametrize("case", load_vectors("messages.json")["invalid"], ids=lambda c: c["name"])
def test_invalid_message_has_typed_error(case: dict) -> None:
    with pytest.raises(ProtocolError) as err:
        decode_message(case["raw"])
    assert err.value.code == case["code"]
