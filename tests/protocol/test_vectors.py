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


def test_purpose_claims_are_verified_and_parsed(token_vectors: dict) -> None:
    """Agency, offense type, legal basis and reason come out of a verified token as issued;
    a token of an older hub (no ``pur``/``why``) still verifies, with nothing stated."""
    from connect_share_protocol.purpose import Purpose

    keys = KeySet.from_jwks(token_vectors["jwks"])
    kwargs = {"installation_id": token_vectors["installation_id"], "now": token_vectors["now"]}
    by_name = {c["name"]: c["token"] for c in token_vectors["tokens"]}
    claims = verify_token(by_name["valid_with_purpose"], keys, **kwargs).claims
    assert claims.purpose == Purpose(**token_vectors["purpose"]["pur"])
    assert claims.purpose.legal_basis == "warrant" and claims.purpose.has_warrant
    assert claims.reason == token_vectors["purpose"]["why"]
    old = verify_token(by_name["valid"], keys, **kwargs).claims
    assert old.purpose == Purpose() and not old.purpose.stated and old.reason == ""


def test_purpose_in_access_request_round_trips() -> None:
    from connect_share_protocol.messages import AccessRequest

    raw = [m for m in load_vectors("messages.json")["valid"] if m.get("request_id") == "req-2"]
    msg = decode_message(raw[0])
    assert isinstance(msg, AccessRequest) and msg.incident.purpose is not None
    assert msg.incident.purpose.agency_id == "NC0920100"
    assert msg.incident.purpose.to_claim() == raw[0]["incident"]["purpose"]
