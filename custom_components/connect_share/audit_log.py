"""The resident's own audit log: append-only JSON lines, each entry hash-chained to the last.

Written with fsync before the action it records takes effect, so a crash cannot lose an
access that happened. On load the whole chain is verified; a broken chain (edited, deleted or
reordered lines) is reported, never silently repaired. A torn last line (crash mid-write) is
the only thing tolerated: it is moved aside and reported.

No Home Assistant import; file I/O is blocking, callers run it in an executor.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def entry_hash(prev: str, seq: int, ts: float, action: str, detail: Mapping[str, Any]) -> str:
    body = json.dumps(
        {"prev": prev, "seq": seq, "ts": ts, "action": action, "detail": detail},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts: float
    action: str
    detail: dict[str, Any]
    prev: str
    hash: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "ts": self.ts,
                "action": self.action,
                "detail": self.detail,
                "prev": self.prev,
                "hash": self.hash,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


@dataclass(slots=True)
class Verification:
    ok: bool
    entries: int
    problems: list[str] = field(default_factory=list)


class AuditLogError(Exception):
    pass


class AuditLog:
    """One file per installation. ``append`` is durable when it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: list[AuditEntry] = []
        self.verification = Verification(ok=True, entries=0)

    @property
    def entries(self) -> list[AuditEntry]:
        return list(self._entries)

    @property
    def head(self) -> str:
        return self._entries[-1].hash if self._entries else GENESIS

    def load(self) -> Verification:
        """Read and verify the chain. Problems are recorded; appending continues on the tail."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        problems: list[str] = []
        entries: list[AuditEntry] = []
        if self.path.exists():
            raw = self.path.read_bytes()
            lines = raw.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            elif lines:
                # Crash mid-write: keep the torn bytes aside for inspection, drop from the chain.
                torn = lines.pop()
                aside = self.path.with_suffix(f".torn-{int(time.time())}")
                aside.write_bytes(torn)
                problems.append(f"torn last line moved to {aside.name}")
                self._rewrite(lines)
            prev = GENESIS
            for n, line in enumerate(lines, 1):
                try:
                    data = json.loads(line)
                    entry = AuditEntry(
                        seq=int(data["seq"]),
                        ts=float(data["ts"]),
                        action=str(data["action"]),
                        detail=dict(data["detail"]),
                        prev=str(data["prev"]),
                        hash=str(data["hash"]),
                    )
                except (ValueError, KeyError, TypeError):
                    problems.append(f"line {n}: not a valid entry")
                    continue
                expected_seq = entries[-1].seq + 1 if entries else 1
                if entry.seq != expected_seq:
                    problems.append(f"line {n}: seq {entry.seq}, expected {expected_seq}")
                if entry.prev != prev:
                    problems.append(f"line {n}: chain broken (prev hash differs)")
                if (
                    entry_hash(entry.prev, entry.seq, entry.ts, entry.action, entry.detail)
                    != entry.hash
                ):
                    problems.append(f"line {n}: hash mismatch (entry altered)")
                entries.append(entry)
                prev = entry.hash
        self._entries = entries
        self.verification = Verification(ok=not problems, entries=len(entries), problems=problems)
        return self.verification

    def _rewrite(self, lines: list[bytes]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            for line in lines:
                fh.write(line + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def append(self, action: str, detail: Mapping[str, Any], ts: float | None = None) -> AuditEntry:
        """Append one entry and fsync. Detail must be JSON (never tokens or keys)."""
        clean = json.loads(json.dumps(dict(detail), default=str))
        with self._lock:
            seq = self._entries[-1].seq + 1 if self._entries else 1
            ts = round(time.time() if ts is None else ts, 3)
            prev = self.head
            entry = AuditEntry(
                seq, ts, action, clean, prev, entry_hash(prev, seq, ts, action, clean)
            )
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (entry.to_json() + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self._entries.append(entry)
            self.verification.entries = len(self._entries)
            return entry

    def tail(self, n: int) -> list[AuditEntry]:
        return self._entries[-n:]


# --- cross-check with the hub's log -----------------------------------------------------

# The hub and the integration name their actions differently (``session.start`` at the hub,
# ``session_started`` here); what both must agree on are the session and token ids.
_LOCAL_SERVED = frozenset({"session_started"})
_LOCAL_GRANTS = frozenset({"grant_accepted"})
# A session the hub opened but could not deliver never reached this house: not a mismatch.
_HUB_UNDELIVERED = ("installation_offline", "installation_timeout")


@dataclass(slots=True)
class CrossCheck:
    ok: bool
    missing_locally: list[str] = field(default_factory=list)  # the hub claims, we have no record
    missing_at_hub: list[str] = field(default_factory=list)  # we served, the hub does not say

    def summary(self) -> str:
        parts = []
        if self.missing_locally:
            parts.append("hub-only: " + ", ".join(self.missing_locally[:10]))
        if self.missing_at_hub:
            parts.append("local-only: " + ", ".join(self.missing_at_hub[:10]))
        return "; ".join(parts) or "in agreement"


def _ids(
    entries: Iterable[Mapping[str, Any]], key: str, actions: frozenset[str] | None = None
) -> set[str]:
    out: set[str] = set()
    for e in entries:
        if actions is not None and str(e.get("action", "")) not in actions:
            continue
        detail = e.get("detail")
        if isinstance(detail, Mapping) and isinstance(detail.get(key), str):
            out.add(detail[key])
    return out


def cross_check(
    local: Iterable[AuditEntry],
    hub_entries: Iterable[Mapping[str, Any]],
    *,
    since_ts: float = 0.0,
) -> CrossCheck:
    """Compare who-watched records both ways.

    - every live session the hub records for this installation must be in our log (served
      or refused), unless the hub itself says it never reached us;
    - every session we served and every token we accepted must be known to the hub (a token
      the hub never issued but that verified here would mean a stolen signing key).
    """
    local_list = [{"action": e.action, "detail": e.detail} for e in local if e.ts >= since_ts]
    hub_list = [e for e in hub_entries if float(e.get("ts", 0) or 0) >= since_ts]
    hub_sessions = _ids(hub_list, "session_id")
    undelivered = {
        e["detail"]["session_id"]
        for e in hub_list
        if isinstance(e.get("detail"), Mapping)
        and isinstance(e["detail"].get("session_id"), str)
        and str(e["detail"].get("reason", "")).endswith(_HUB_UNDELIVERED)
    }
    local_sessions = _ids(local_list, "session_id")
    missing_locally = sorted(f"session {s}" for s in hub_sessions - local_sessions - undelivered)
    missing_at_hub = sorted(
        f"session {s}" for s in _ids(local_list, "session_id", _LOCAL_SERVED) - hub_sessions
    )
    missing_at_hub += sorted(
        f"token {t}"
        for t in _ids(local_list, "token_id", _LOCAL_GRANTS) - _ids(hub_list, "token_id")
    )
    return CrossCheck(
        ok=not missing_locally and not missing_at_hub,
        missing_locally=missing_locally,
        missing_at_hub=missing_at_hub,
    )
