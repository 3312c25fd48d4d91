"""Retention periods per record kind, enforced and shown (issue 14).

The rule, in one place (``expired_before``): a record is deleted once BOTH its own end (a
session's end, a token's expiry, a request's answer deadline, an evidence file's receipt,
an incident's close) AND its incident's close lie more than its kind's period in the past.
So an open incident is the legal hold for everything under it; keep an incident open (or
reopen the case under a new one) to keep its footage. A record still referenced by a kept
record is kept too (a token with a kept session, a request with a kept token or stored
evidence, an incident with anything left). A period of 0 days means "keep forever".

Defaults (``Settings.<kind>_retention_days``, env ``CONNECT_SHARE_HUB_<KIND>_RETENTION_DAYS``)
can be overridden by an admin at run time (``PUT /api/v1/admin/retention``, stored in
``hub_meta``, audited ``retention.changed``). The periods in force are shown to admins (API,
console admin page) and to the public (/transparency).

The audit log is never touched by retention. Each batch of deletions writes one
``retention.deleted`` entry (kind, count, period, and ``groups`` of incident id, legal basis
and count); /transparency derives "deleted by retention" by month, offense type, legal
basis and agency from these entries and the chain's ``incident.opened`` entries.
Search records exist only as audit entries (``search.radius``) and are kept with the log.
Credentials (sign-in sessions, API tokens, enrollment codes) belong to no incident: they go
once their expiry, revocation or use is more than their period ago.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, exists, func, null, select

from . import audit
from .database import Database
from .evidence import stored_records
from .models import (
    AccessRequestRow,
    ApiToken,
    EnrollmentCode,
    GrantRow,
    HubMeta,
    Incident,
    IncidentOfficer,
    LiveSessionRow,
    WebSession,
)
from .settings import ENV_PREFIX, Settings

_LOGGER = logging.getLogger(__name__)
DAY_S = 86400.0
MAX_DAYS = 36500
BATCH = 500
META_PREFIX = "retention_days:"


@dataclass(frozen=True, slots=True)
class RecordKind:
    name: str
    label: str
    counted_from: str


LATER_CLOSE = ", or the incident's close if later"
# Deletion order: children first, so a parent freed in this pass goes in the same pass.
KINDS = (
    RecordKind(
        "evidence",
        "Evidence files shared by residents, with their manifests",
        "receipt" + LATER_CLOSE,
    ),
    RecordKind(
        "live_sessions", "Live views and snapshots (who watched, when)", "session end" + LATER_CLOSE
    ),
    RecordKind(
        "grants", "Access tokens issued (claims and hash, never the token)", "expiry" + LATER_CLOSE
    ),
    RecordKind(
        "access_requests",
        "Requests to residents and their answers",
        "answer deadline" + LATER_CLOSE,
    ),
    RecordKind(
        "incidents", "Closed incidents with their assigned officers", "the incident's close"
    ),
    RecordKind(
        "credentials",
        "Console sign-in sessions, API tokens and enrollment codes (only hashes are stored)",
        "expiry, revocation or use, whichever is first",
    ),
)
KIND_NAMES = tuple(k.name for k in KINDS)


def setting_name(kind: str) -> str:
    return f"{kind}_retention_days"


def check_days(kind: str, value: Any, source: str) -> int:
    """A period is a whole number of days from 0 (keep) to ``MAX_DAYS``; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise ValueError(
            f"{source}: the retention of {kind} is a whole number of days from 0 (keep "
            f"forever) to {MAX_DAYS}, not {value!r}"
        )
    return value


def default_periods(settings: Settings) -> dict[str, int]:
    """The configured defaults, checked (a negative one stops the hub and the CLI)."""
    return {
        k: check_days(k, getattr(settings, setting_name(k)), ENV_PREFIX + setting_name(k).upper())
        for k in KIND_NAMES
    }


async def admin_overrides(db: Database) -> dict[str, int]:
    async with db.read() as s:
        rows = (await s.scalars(select(HubMeta).where(HubMeta.key.startswith(META_PREFIX)))).all()
    found = {r.key.removeprefix(META_PREFIX): r.value for r in rows}
    return {k: int(v) for k, v in found.items() if k in KIND_NAMES}


async def periods_in_force(db: Database, settings: Settings) -> dict[str, int]:
    return default_periods(settings) | await admin_overrides(db)


async def describe(db: Database, settings: Settings) -> list[dict[str, Any]]:
    """What admins and the public see: each kind, its period in force and where it is set."""
    defaults, overrides = default_periods(settings), await admin_overrides(db)
    return [
        {
            "kind": k.name,
            "label": k.label,
            "days": overrides.get(k.name, defaults[k.name]),
            "keep_forever": overrides.get(k.name, defaults[k.name]) == 0,
            "counted_from": k.counted_from,
            "default_days": defaults[k.name],
            "set_by": "admin" if k.name in overrides else "configuration",
        }
        for k in KINDS
    ]


async def set_periods(db: Database, changes: dict[str, int], actor: str) -> None:
    """Admin overrides (checked by the caller with ``check_days``), audited."""
    async with db.write() as s:
        for kind, days in changes.items():
            row = await s.get(HubMeta, META_PREFIX + kind)
            if row is None:
                s.add(HubMeta(key=META_PREFIX + kind, value=str(days)))
            else:
                row.value = str(days)
        await audit.append(db, s, "retention.changed", actor=actor, periods=changes)


# -- enforcement -------------------------------------------------------------------------


def _incident_released(cutoff: float) -> Any:
    return Incident.closed_at.is_not(None) & (Incident.closed_at <= cutoff)


def _sessions(cutoff: float) -> Select[Any]:
    return (
        select(LiveSessionRow.id, LiveSessionRow.incident_id, GrantRow.legal_basis)
        .join(GrantRow, GrantRow.id == LiveSessionRow.grant_id)
        .join(Incident, Incident.id == LiveSessionRow.incident_id)
        .where(
            func.coalesce(LiveSessionRow.ended_at, LiveSessionRow.opened_at) <= cutoff,
            _incident_released(cutoff),
        )
    )


def _grants(cutoff: float) -> Select[Any]:
    return (
        select(GrantRow.id, GrantRow.incident_id, GrantRow.legal_basis)
        .join(Incident, Incident.id == GrantRow.incident_id)
        .where(
            GrantRow.expires_at <= cutoff,
            _incident_released(cutoff),
            ~exists().where(LiveSessionRow.grant_id == GrantRow.id),
        )
    )


def _requests(cutoff: float) -> Select[Any]:
    return (
        select(AccessRequestRow.id, AccessRequestRow.incident_id, AccessRequestRow.legal_basis)
        .join(Incident, Incident.id == AccessRequestRow.incident_id)
        .where(
            AccessRequestRow.expires_at <= cutoff,
            _incident_released(cutoff),
            ~exists().where(GrantRow.request_id == AccessRequestRow.id),
        )
    )


def _incidents(cutoff: float) -> Select[Any]:
    # An incident has no legal basis of its own (null).
    return select(Incident.id, Incident.id, null()).where(
        _incident_released(cutoff),
        ~exists().where(AccessRequestRow.incident_id == Incident.id),
        ~exists().where(GrantRow.incident_id == Incident.id),
        ~exists().where(LiveSessionRow.incident_id == Incident.id),
    )


TABLES: dict[str, tuple[Any, Callable[[float], Select[Any]]]] = {
    "live_sessions": (LiveSessionRow, _sessions),
    "grants": (GrantRow, _grants),
    "access_requests": (AccessRequestRow, _requests),
    "incidents": (Incident, _incidents),
}


def groups(rows: Iterable[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """(incident id, legal basis or None) -> count: what /transparency needs, no more."""
    counted = Counter(rows)
    return [
        {"incident_id": inc, "legal_basis": basis, "count": n}
        for (inc, basis), n in sorted(counted.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


async def _audit_batch(
    db: Database,
    s: Any,
    kind: str,
    days: int,
    actor: str,
    rows: list[tuple[str, str | None]],
    **extra: Any,
) -> None:
    await audit.append(
        db,
        s,
        "retention.deleted",
        actor=actor,
        kind=kind,
        count=len(rows),
        period_days=days,
        groups=groups(rows),
        **extra,
    )


async def _delete_table_kind(
    db: Database, kind: str, days: int, cutoff: float, held: set[str], actor: str
) -> int:
    """Delete the kind's expired rows in batches, in id order. ``held`` (ids that stored
    evidence names: its request, its incident) is filtered here, not in SQL: it can hold
    more ids than one statement may carry (about 32,766 parameters)."""
    model, query = TABLES[kind]
    total = 0
    after = ""
    while True:
        async with db.write() as s:
            await db.lock_audit(s)  # one retention pass at a time, across hub instances
            found = (
                await s.execute(
                    query(cutoff).where(model.id > after).order_by(model.id).limit(BATCH)
                )
            ).all()
            if not found:
                return total
            after = found[-1][0]
            doomed = [row for row in found if row[0] not in held]
            if doomed:
                ids = [row[0] for row in doomed]
                if model is Incident:
                    await s.execute(
                        delete(IncidentOfficer).where(IncidentOfficer.incident_id.in_(ids))
                    )
                await s.execute(delete(model).where(model.id.in_(ids)))
                await _audit_batch(db, s, kind, days, actor, [(r[1], r[2]) for r in doomed])
        total += len(doomed)
        if len(found) < BATCH:
            return total


async def _delete_credentials(db: Database, days: int, cutoff: float, actor: str) -> int:
    """Sign-in sessions, API tokens and enrollment codes that stopped working more than the
    period ago. They belong to no incident, so their audit entry has no groups and
    /transparency (which counts accesses) does not count them."""
    ended = {
        "web_sessions": delete(WebSession).where(WebSession.expires_at <= cutoff),
        "api_tokens": delete(ApiToken).where(
            (ApiToken.expires_at <= cutoff) | (ApiToken.revoked_at <= cutoff)
        ),
        "enrollment_codes": delete(EnrollmentCode).where(
            (EnrollmentCode.expires_at <= cutoff) | (EnrollmentCode.used_at <= cutoff)
        ),
    }
    async with db.write() as s:
        await db.lock_audit(s)
        counts: dict[str, int] = {
            table: cast(CursorResult[Any], await s.execute(stmt)).rowcount
            for table, stmt in ended.items()
        }
        total = sum(counts.values())
        if total:
            await audit.append(
                db,
                s,
                "retention.deleted",
                actor=actor,
                kind="credentials",
                count=total,
                period_days=days,
                groups=[],
                tables=counts,
            )
    return total


def _chunks(ids: Iterable[str], size: int = BATCH) -> Iterable[list[str]]:
    """Ids in lists small enough for one statement's parameters."""
    batch: list[str] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _delete_evidence(
    db: Database, root: Path, days: int, cutoff: float, actor: str
) -> tuple[int, list[dict[str, Any]]]:
    """Expired evidence directories go; returns the count and the records kept."""
    loop = asyncio.get_running_loop()
    records = await loop.run_in_executor(None, stored_records, root)
    if not records or days == 0:
        return 0, records
    incident_ids = {r["incident_id"] for r in records}
    request_ids = {r["request_id"] for r in records}
    closed: dict[str, float | None] = {}
    bases: dict[str, str] = {}
    async with db.read() as s:
        for chunk in _chunks(incident_ids):
            closes = select(Incident.id, Incident.closed_at).where(Incident.id.in_(chunk))
            closed.update((inc, at) for inc, at in await s.execute(closes))
        for chunk in _chunks(request_ids):
            basis_of = select(AccessRequestRow.id, AccessRequestRow.legal_basis).where(
                AccessRequestRow.id.in_(chunk)
            )
            bases.update((req, basis) for req, basis in await s.execute(basis_of))

    def expired(record: dict[str, Any]) -> bool:
        if record["received_at"] > cutoff:
            return False
        if record["incident_id"] not in closed:
            return True  # an incident the database no longer knows holds nothing
        close = closed[record["incident_id"]]
        return close is not None and close <= cutoff

    gone = [r for r in records if expired(r)]
    kept = [r for r in records if not expired(r)]
    removed = 0
    for start in range(0, len(gone), BATCH):
        # Files first, then the entry: a crash in between leaves files gone but unaudited
        # rather than an entry for files that still exist. Only what this pass removed is
        # counted (another instance or the CLI may be removing the same files).
        ids = [r["evidence_id"] for r in gone[start : start + BATCH]]
        claimed = set(await loop.run_in_executor(None, _remove_dirs, root, ids))
        batch = [r for r in gone[start : start + BATCH] if r["evidence_id"] in claimed]
        if not batch:
            continue
        removed += len(batch)
        async with db.write() as s:
            await _audit_batch(
                db,
                s,
                "evidence",
                days,
                actor,
                [(r["incident_id"], bases.get(r["request_id"])) for r in batch],
                evidence_ids=[r["evidence_id"] for r in batch],
            )
    return removed, kept


def _remove_dirs(root: Path, evidence_ids: list[str]) -> list[str]:
    """Remove the directories; returns the ids this call removed. Each is first renamed
    away (atomic: of two processes, one wins), so no file is deleted and counted twice."""
    trash = root / ".incoming"
    trash.mkdir(exist_ok=True)
    removed = []
    for evidence_id in evidence_ids:
        doomed = trash / f"deleting-{evidence_id}-{uuid.uuid4().hex}"
        try:
            os.rename(root / evidence_id, doomed)
        except OSError:
            continue  # gone already
        shutil.rmtree(doomed, ignore_errors=True)
        removed.append(evidence_id)
    return removed


async def enforce(
    db: Database,
    settings: Settings,
    evidence_root: Path,
    *,
    now: float | None = None,
    actor: str = "hub",
) -> dict[str, int]:
    """One retention pass over every kind; returns how many records of each were deleted."""
    now = time.time() if now is None else now
    days = await periods_in_force(db, settings)
    deleted: dict[str, int] = {}

    def cutoff(kind: str) -> float:
        return now - days[kind] * DAY_S

    deleted["evidence"], kept = await _delete_evidence(
        db, evidence_root, days["evidence"], cutoff("evidence"), actor
    )
    held = {
        "access_requests": {r["request_id"] for r in kept},
        "incidents": {r["incident_id"] for r in kept},
    }
    for kind in TABLES:
        deleted[kind] = (
            0
            if days[kind] == 0
            else await _delete_table_kind(
                db, kind, days[kind], cutoff(kind), held.get(kind, set()), actor
            )
        )
    deleted["credentials"] = (
        0
        if days["credentials"] == 0
        else await _delete_credentials(db, days["credentials"], cutoff("credentials"), actor)
    )
    return deleted


async def run_periodically(db: Database, settings: Settings, evidence_root: Path) -> None:
    """Forever: a retention pass every ``retention_sweep_s`` (the hub process runs this)."""
    while True:
        try:
            deleted = await enforce(db, settings, evidence_root)
            if any(deleted.values()):
                _LOGGER.info("retention deleted %s", deleted)
        except Exception:  # a database hiccup must not stop future passes
            _LOGGER.exception("retention pass failed")
        await asyncio.sleep(settings.retention_sweep_s)
