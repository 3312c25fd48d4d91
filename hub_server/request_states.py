"""Where each camera of an access request stands, in words an officer can act on.

``state`` (with ``until``, the epoch second it changes by itself, or null):

- ``waiting_for_resident``: asked, no answer yet; the request lapses at ``until``.
- ``waiting_for_upload``: footage approved; the resident's system picks and uploads the
  clips of the footage window (usually within minutes); the approval lapses at ``until``.
- ``active``: live view or snapshots approved; usable until ``until``.
- ``delivered``: footage from this camera has arrived (see the incident's evidence).
- ``no_footage``: declined, or not answered in time (the design shows both the same way).
- ``expired``: approved, but the access lapsed (for footage: with nothing uploaded).
- ``revoked``: an officer or supervisor withdrew the access.
"""

from __future__ import annotations

from typing import Any

from .models import AccessRequestRow, GrantRow

STATES = (
    "waiting_for_resident",
    "waiting_for_upload",
    "active",
    "delivered",
    "no_footage",
    "expired",
    "revoked",
)


def camera_state(
    req: AccessRequestRow,
    camera_id: str,
    grant_rows: list[GrantRow],
    delivered: set[tuple[str, str]],
    now: float,
) -> dict[str, Any]:
    """``{"state": ..., "until": ...}`` for one camera of ``req``."""
    if req.scope == "clip" and (req.id, camera_id) in delivered:
        return {"state": "delivered", "until": None}
    if camera_id not in (req.approved_camera_ids or []):
        if req.status == "pending" and req.expires_at > now:
            return {"state": "waiting_for_resident", "until": req.expires_at}
        return {"state": "no_footage", "until": None}
    mine = [g for g in grant_rows if camera_id in (g.camera_ids or [])]
    if not mine:  # approved a moment ago; the token is on its way
        return {"state": "waiting_for_upload" if req.scope == "clip" else "active", "until": None}
    live = [g for g in mine if g.revoked_at is None and g.expires_at > now]
    if live:
        until = max(g.expires_at for g in live)
        return {"state": "waiting_for_upload" if req.scope == "clip" else "active", "until": until}
    if mine and all(g.revoked_at is not None for g in mine):
        return {"state": "revoked", "until": None}
    return {"state": "expired", "until": None}
