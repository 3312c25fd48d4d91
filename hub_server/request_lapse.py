"""Requests lapse at their deadline, by themselves: the one way a camera becomes "no footage".

An installation only ever sends approvals. Every camera of a request it did not approve
(declined, paused, not shared, or nobody answered) stays ``pending`` until the request's
``expires_at`` (``live_request_ttl_s``, ``footage_request_ttl_s``), then reads
``no_footage``: the officer's view is computed from the time, and this sweep, every
``request_sweep_s``, closes the request (``status = "expired"``) with one
``request.expired`` audit entry naming the cameras without footage. Same content, same
timing, whatever the resident did. The sweep also forgets old processed message ids.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import select, update

from . import audit, message_ids
from .models import AccessRequestRow
from .state import Hub

_LOGGER = logging.getLogger(__name__)
BATCH = 500


async def lapse_due(hub: Hub, now: float | None = None) -> list[str]:
    """Close every pending request whose deadline has passed; returns their ids."""
    now = time.time() if now is None else now
    lapsed: list[str] = []
    async with hub.db.write() as session:
        due = (
            await session.scalars(
                select(AccessRequestRow)
                .where(AccessRequestRow.status == "pending", AccessRequestRow.expires_at <= now)
                .order_by(AccessRequestRow.expires_at)
                .limit(BATCH)
                .with_for_update()
            )
        ).all()
        for req in due:
            # Conditional: another hub instance sweeping the same rows changes nothing twice.
            result = await session.execute(
                update(AccessRequestRow)
                .where(AccessRequestRow.id == req.id, AccessRequestRow.status == "pending")
                .values(status="expired")
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                continue
            approved = set(req.approved_camera_ids or [])
            await audit.append(
                hub.db,
                session,
                "request.expired",
                actor="hub",
                installation_id=req.installation_id,
                incident_id=req.incident_id,
                request_id=req.id,
                scope=req.scope,
                no_footage_camera_ids=[c for c in req.camera_ids if c not in approved],
            )
            lapsed.append(req.id)
    return lapsed


async def sweep(hub: Hub) -> None:
    """Forever: lapse due requests, prune processed message ids."""
    while True:
        try:
            while len(await lapse_due(hub)) == BATCH:
                pass
            await message_ids.prune(hub)
        except Exception:  # a database hiccup must not stop future sweeps
            _LOGGER.exception("request sweep failed")
        await asyncio.sleep(hub.settings.request_sweep_s)
