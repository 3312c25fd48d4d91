"""Rules both sides share: camera modes and what each allows, default limits, and the
canonical JSON and chain hash of both audit logs (the hub's and the resident's)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

CAMERA_MODES = ("off", "registered", "on_request", "auto")
# Which token scopes a camera's mode allows at all (registered cameras: footage only).
MODE_SCOPES: Mapping[str, frozenset[str]] = {
    "off": frozenset(),
    "registered": frozenset({"clip"}),
    "on_request": frozenset({"live", "snapshot", "clip"}),
    "auto": frozenset({"live", "snapshot", "clip"}),
}
DEFAULT_MAX_SESSION_S = 900
DEFAULT_MAX_FPS = 2.0


def canonical_json(data: Any, *, ascii_only: bool = True) -> str:
    """Sorted keys, no spaces. ``ascii_only=False`` is the hub's form (its chain was written
    that way from the start; a chain's form can never change without breaking it)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only)


def chain_hash(fields: Mapping[str, Any], *, ascii_only: bool = True) -> str:
    """sha256 of an entry's fields (which include the previous entry's hash)."""
    return hashlib.sha256(canonical_json(fields, ascii_only=ascii_only).encode()).hexdigest()
