"""JSON parsing with a nesting limit, for every body and wire message from the network.

``json.loads`` recurses once per ``[`` or ``{``: ``"[" * 30000`` raises ``RecursionError``
(not ``ValueError``), which callers did not expect. ``loads`` counts the nesting first,
outside strings, and refuses anything deeper than ``MAX_DEPTH`` with a ``ProtocolError``.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from .errors import ProtocolError

# No message, manifest or request body of this protocol nests deeper than about 6.
MAX_DEPTH = 32

# A JSON string (escapes included); removed before counting brackets.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting in ``text``, ignoring brackets inside strings."""
    brackets = _BRACKETS.findall(_STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(accumulate(_STEP[b] for b in brackets)))


def loads(raw: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises only ``ProtocolError`` (``bad_json`` or ``too_deep``)."""
    try:
        text = (
            raw.decode(json.detect_encoding(raw), "surrogatepass")
            if isinstance(raw, bytes | bytearray)
            else raw
        )
    except (UnicodeDecodeError, LookupError) as err:
        raise ProtocolError("bad_json", f"not UTF-8 text: {err}") from err
    if not isinstance(text, str):
        raise ProtocolError("bad_json", "expected JSON text")
    if nesting_depth(text) > max_depth:
        raise ProtocolError("too_deep", f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ProtocolError("bad_json", str(err)[:200]) from err
