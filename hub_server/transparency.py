"""Public monthly counts. Only numbers: no names, ids, places or case numbers."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from .database import Database
from .models import AccessRequestRow, GrantRow, Incident, LiveSessionRow

COUNTS = (
    "incidents",
    "requests",
    "approvals",
    "declines_or_unanswered",
    "tokens_issued",
    "revocations",
    "live_sessions",
    "minutes_watched",
    "snapshots",
)


def month_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


async def monthly_counts(db: Database, now: float | None = None) -> list[dict[str, Any]]:
    now = time.time() if now is None else now
    months: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    async with db.read() as s:
        for (ts,) in await s.execute(select(Incident.created_at)):
            months[month_of(ts)]["incidents"] += 1
        for created, status, expires, approved in await s.execute(
            select(
                AccessRequestRow.created_at,
                AccessRequestRow.status,
                AccessRequestRow.expires_at,
                AccessRequestRow.approved_camera_ids,
            )
        ):
            bucket = months[month_of(created)]
            bucket["requests"] += 1
            if approved:
                bucket["approvals"] += 1
            elif status == "answered" or expires <= now:
                # Declined and never answered are one number, as for the officer.
                bucket["declines_or_unanswered"] += 1
        for issued, revoked in await s.execute(select(GrantRow.issued_at, GrantRow.revoked_at)):
            months[month_of(issued)]["tokens_issued"] += 1
            if revoked is not None:
                months[month_of(revoked)]["revocations"] += 1
        for started, ended, frames, scope in await s.execute(
            select(
                LiveSessionRow.started_at,
                LiveSessionRow.ended_at,
                LiveSessionRow.frames_relayed,
                GrantRow.scope,
            )
            .join(GrantRow, GrantRow.id == LiveSessionRow.grant_id)
            .where(LiveSessionRow.started_at.is_not(None))
        ):
            bucket = months[month_of(started)]
            if scope == "snapshot":  # a picture taken, not time watched
                bucket["snapshots"] += 1 if frames else 0
                continue
            bucket["live_sessions"] += 1
            bucket["minutes_watched"] += max(0.0, ((ended or now) - started) / 60)
    result = []
    for month in sorted(months):
        counts = months[month]
        row: dict[str, Any] = {"month": month}
        for name in COUNTS:
            value = counts[name]
            row[name] = round(value, 1) if name == "minutes_watched" else int(value)
        result.append(row)
    return result
