"""Append-only, hash-chained audit log.

Each entry's ``hash`` is SHA-256 over the canonical JSON of its fields and the previous
entry's hash, so changing, inserting or dropping any entry breaks every later hash. The
database triggers refuse UPDATE and DELETE; ``verify_chain`` recomputes everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from connect_share_protocol.policy import canonical_json, chain_hash

from .database import Database
from .models import AuditEntry, Base

GENESIS_HASH = "0" * 64
_HEAD_KEY = "connect_share_audit_head"
BULK_KEY = "connect_share_bulk_rows"


def canonical(data: Any) -> str:
    # The hub's chain has always been hashed with non-ASCII kept as is (one shared definition).
    return canonical_json(data, ascii_only=False)


def entry_hash(
    *,
    seq: int,
    ts: float,
    action: str,
    actor: str,
    installation_id: str | None,
    incident_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    return chain_hash(
        {
            "seq": seq,
            "ts": ts,
            "action": action,
            "actor": actor,
            "installation_id": installation_id,
            "incident_id": incident_id,
            "detail": detail,
            "prev_hash": prev_hash,
        },
        ascii_only=False,
    )


async def append(
    db: Database,
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    installation_id: str | None = None,
    incident_id: str | None = None,
    now: float | None = None,
    flush: bool = True,
    **detail: Any,
) -> None:
    """Add one entry inside the caller's write transaction (so both commit or neither).

    Not inside a savepoint that may roll back: the cached chain head would outlive it.
    ``flush=False`` leaves the INSERT to the next flush, or, inside ``bulk_rows(session)``,
    to one multi-row INSERT at its end (group commit); the chain head is cached either way.
    """
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD_KEY)
    head = cached[1] if cached is not None and cached[0] is transaction else None
    if head is None:  # first entry of this transaction: lock, then read the chain's head
        await db.lock_audit(session)
        head = (
            await session.execute(
                select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            )
        ).first() or (0, GENESIS_HASH)
    seq, prev_hash = head[0] + 1, head[1]
    # A plain row, not an ORM object: group commit appends thousands per second.
    row: dict[str, Any] = {
        "seq": seq,
        "ts": round(time.time() if now is None else now, 6),
        "action": action,
        "actor": actor,
        "installation_id": installation_id,
        "incident_id": incident_id,
        "detail": canonical(detail),
        "prev_hash": prev_hash,
    }
    row["hash"] = entry_hash(**row)
    bulk = session.info.get(BULK_KEY)
    if not flush and bulk is not None:
        bulk.setdefault(AuditEntry, []).append(row)
    else:
        session.add(AuditEntry(**row))
        if flush:
            await session.flush()
    # Later entries in the same transaction (which holds the lock) chain on from here.
    session.info[_HEAD_KEY] = (transaction, (seq, row["hash"]))


@asynccontextmanager
async def bulk_rows(
    session: AsyncSession,
) -> AsyncIterator[dict[type[Base], list[dict[str, Any]]]]:
    """Collect rows added with ``flush=False`` and insert them per table, in one statement
    each, when the block ends (audit entries last: they record what the others did)."""
    rows: dict[type[Base], list[dict[str, Any]]] = {}
    session.info[BULK_KEY] = rows
    try:
        yield rows
        await session.flush()  # ORM changes (e.g. answered requests) first
        for model in sorted(rows, key=lambda m: m is AuditEntry):
            if rows[model]:  # Core executemany: no ORM bookkeeping per row
                await session.execute(insert(model.__table__), rows[model])
    finally:
        session.info.pop(BULK_KEY, None)


def entry_to_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "ts": entry.ts,
        "action": entry.action,
        "actor": entry.actor,
        "installation_id": entry.installation_id,
        "incident_id": entry.incident_id,
        "detail": json.loads(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""
    head_hash: str = GENESIS_HASH


async def iter_entries(db: Database, batch: int = 1000) -> AsyncIterator[AuditEntry]:
    after = 0
    while True:
        async with db.read() as session:
            rows = (
                await session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.seq > after)
                    .order_by(AuditEntry.seq)
                    .limit(batch)
                )
            ).all()
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1].seq


async def verify_chain(db: Database) -> ChainReport:
    expected_seq, prev = 1, GENESIS_HASH
    count = 0
    async for e in iter_entries(db):
        if e.seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"missing entry {expected_seq}", prev)
        if e.prev_hash != prev:
            return ChainReport(False, count, e.seq, "prev_hash does not match", prev)
        recomputed = entry_hash(
            seq=e.seq,
            ts=e.ts,
            action=e.action,
            actor=e.actor,
            installation_id=e.installation_id,
            incident_id=e.incident_id,
            detail=e.detail,
            prev_hash=e.prev_hash,
        )
        if recomputed != e.hash:
            return ChainReport(False, count, e.seq, "hash does not match the content", prev)
        prev, expected_seq, count = e.hash, expected_seq + 1, count + 1
    return ChainReport(True, count, head_hash=prev)
