"""Bounded fuzz run (hypothesis) of the wire-message and request-body parsers.

Whatever arrives, the parsers raise only ``ProtocolError`` (messages) or a 4xx ``ApiError``
(bodies): never ``RecursionError``, ``TypeError`` or anything that would become a 500.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connect_share_protocol import ProtocolError, decode_message
from connect_share_protocol.messages import message_types
from hub_server.errors import ApiError
from hub_server.validation import Fields, parse_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
FIELD_NAMES = sorted(
    {f for cls in message_types().values() for f in cls.__dataclass_fields__} | {"v", "type"}
)
MESSAGES = st.builds(
    lambda t, fields, v: {"v": v, "type": t, **fields},
    st.sampled_from(sorted(message_types())),
    st.dictionaries(st.sampled_from(FIELD_NAMES), JSON, max_size=6),
    st.sampled_from([1, 1, 1, 2, "1", None]),
)
# Deep nesting: the shape that used to raise RecursionError out of json.loads.
DEEP = st.builds(
    lambda n, opener, tail: opener * n + tail,
    st.integers(1, 40_000),
    st.sampled_from(["[", '{"a":', '[{"b":']),
    st.sampled_from(["", "1", "]" * 3]),
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(MESSAGES)
def test_decode_message_structured(data: dict) -> None:
    try:
        decode_message(json.dumps(data))
    except ProtocolError:
        pass


@FUZZ
@given(
    st.text(max_size=300) | st.binary(max_size=300) | st.from_regex(r"[\[\]{}\"\\,:0-9a]{0,400}")
)
def test_decode_message_raw(raw: str | bytes) -> None:
    try:
        decode_message(raw)
    except ProtocolError:
        pass


@FUZZ
@given(
    DEEP.map(str.encode)
    | st.binary(max_size=300)
    | st.from_regex(r"[\[\]{}\"\\,:0-9a]{0,400}").map(str.encode)
)
def test_body_parser_is_4xx_only(raw: bytes) -> None:
    try:
        body = parse_json(raw)
    except ApiError as err:
        assert 400 <= err.status < 500
        return
    if isinstance(body, dict):
        f = Fields(body)
        for read in (
            lambda: f.text("a", required=False),
            lambda: f.number("b", required=False),
            lambda: f.integer("c", required=False),
            lambda: f.list_of("d", required=False),
            f.done,
        ):
            try:
                read()
            except ApiError as err:
                assert 400 <= err.status < 500
