"""The resident's own audit log: append-only JSON lines, each entry hash-chained to the last.

Written with fsync before the action it records takes effect, so a crash cannot lose an
access that happened. On load the whole chain is verified; a broken chain (edited, deleted or
reordered lines) is reported, never silently repaired: the resident may choose to archive the
damaged file (kept, never deleted) and start a new chain that records the archive's name,
sha256 and last hash (``archive_and_restart``). A torn last line (crash mid-write) is the only
thing tolerated: it is moved aside and reported (``Verification.torn``), the chain still
verifies.

One writer only: ``load`` takes an exclusive ``flock`` on ``<log>.lock`` (holding the writer's
pid) for the object's lifetime, until ``close``. Another process (a second Home Assistant on
the same config) is refused with ``AuditLogLocked``. Within one process, the object that loads
last becomes the writer and an older object on the same file is closed (its appends raise
``AuditLogLocked``), so a reloaded config entry never writes through two objects.

A failed write (disk full, file size limit, I/O error) raises ``AuditWriteFailed`` and is
rolled back: nothing partial stays in the file, the in-memory chain is unchanged, and
``writable`` is False until a later append succeeds.

No Home Assistant import; file I/O is blocking, callers run it in an executor.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .protocol.policy import chain_hash

GENESIS = "0" * 64
CHAIN_RESTARTED = "chain_restarted"


def entry_hash(prev: str, seq: int, ts: float, action: str, detail: Mapping[str, Any]) -> str:
    return chain_hash({"prev": prev, "seq": seq, "ts": ts, "action": action, "detail": detail})


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
    """``ok`` is False only for a damaged chain. ``problems`` lists everything found, also a
    torn last line, which is moved aside (``torn`` names that file) and does not make the
    chain fail."""

    ok: bool
    entries: int
    problems: list[str] = field(default_factory=list)
    torn: str | None = None


class AuditLogError(Exception):
    pass


class AuditLogLocked(AuditLogError):
    """Another writer holds the log (another process, or a newer object in this one)."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class AuditWriteFailed(AuditLogError, OSError):
    """An append could not be made durable (``errno`` as the OS reported it, e.g. ENOSPC,
    EFBIG, EIO). Nothing of it stays in the file and the in-memory chain is unchanged."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - a regular file never returns 0 for len > 0
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def _create_exclusive(directory: Path, base: str, suffix: str) -> tuple[Path, int]:
    """A new file ``base + suffix`` (``base-2 + suffix``, ... if taken), opened for writing."""
    n = 1
    while True:
        name = f"{base}{suffix}" if n == 1 else f"{base}-{n}{suffix}"
        path = directory / name
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            n += 1


def _parse_holder(raw: bytes) -> tuple[int | None, str]:
    text = raw.decode(errors="replace")
    pid = re.search(r"\bpid=(\d+)", text)
    host = re.search(r"\bhost=(\S+)", text)
    return (int(pid.group(1)) if pid else None), (host.group(1) if host else "")


def _release_lock_fd(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# Writers in this process, by the lock file's (st_dev, st_ino): the newest load wins.
_HOLDERS: dict[tuple[int, int], weakref.ref[AuditLog]] = {}
_HOLDERS_LOCK = threading.Lock()


class AuditLog:
    """One file per installation. ``append`` is durable when it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: list[AuditEntry] = []
        self.verification = Verification(ok=True, entries=0)
        self._lock_fd: int | None = None
        self._lock_key: tuple[int, int] | None = None
        self._finalizer: weakref.finalize[[int], AuditLog] | None = None
        self._loaded = False
        self._closed = False
        self._write_failed = False
        self._superseded = False
        self._rollback_to: int | None = None  # a failed write's bytes still to cut off

    # --- state --------------------------------------------------------------------------

    @property
    def entries(self) -> list[AuditEntry]:
        return list(self._entries)

    @property
    def head(self) -> str:
        return self._entries[-1].hash if self._entries else GENESIS

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def writable(self) -> bool:
        """True while this object is the loaded, locked writer and its last write succeeded.
        Callers refuse access while it is False."""
        return self._loaded and self._lock_fd is not None and not self._write_failed

    def tail(self, n: int) -> list[AuditEntry]:
        return self._entries[-n:] if n > 0 else []

    # --- the writer lock ----------------------------------------------------------------

    def _acquire(self) -> None:
        """Take the exclusive lock (no-op when held). Raises ``AuditLogLocked``."""
        with self._lock:
            if self._lock_fd is not None:
                return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino)
            with _HOLDERS_LOCK:
                ref = _HOLDERS.get(key)
            older = ref() if ref is not None else None
            if older is not None and older is not self:
                older._supersede()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise self._locked_error(os.pread(fd, 512, 0)) from None
            since = datetime.now(UTC).isoformat(timespec="seconds")
            holder = f"pid={os.getpid()} host={socket.gethostname()} since={since}\n"
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        with self._lock:
            self._lock_fd = fd
            self._lock_key = key
            self._superseded = False
            self._closed = False
            self._finalizer = weakref.finalize(self, _release_lock_fd, fd)
        with _HOLDERS_LOCK:
            _HOLDERS[key] = weakref.ref(self)

    def _locked_error(self, raw: bytes) -> AuditLogLocked:
        pid, host = _parse_holder(raw)
        if pid is None:
            who = "Another process"
        elif pid == os.getpid():
            who = f"Another audit log object in this process (pid {pid})"
        else:
            who = f"Another process (pid {pid}{' on ' + host if host else ''})"
        return AuditLogLocked(
            f"{who} holds the audit log {self.path} (lock {self.lock_path.name}); a second "
            "writer would break the chain. Stop the other Home Assistant first.",
            pid,
        )

    def _supersede(self) -> None:
        with self._lock:
            if self._lock_fd is not None:
                self._release()
                self._superseded = True

    def _release(self) -> None:
        """Drop the lock; call with ``self._lock`` held."""
        if self._finalizer is not None:
            self._finalizer()  # closes the lock file (once)
            self._finalizer = None
        self._lock_fd = None

    def close(self) -> None:
        """Release the writer lock. Appends then fail until ``load`` is called again."""
        with self._lock:
            key = self._lock_key
            self._release()
            self._loaded = False
            self._closed = True
        if key is None:
            return
        with _HOLDERS_LOCK:
            ref = _HOLDERS.get(key)
            if ref is not None and ref() in (self, None):
                del _HOLDERS[key]

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _never_loaded(self) -> bool:
        return not (self._loaded or self._closed or self._superseded) and self._lock_fd is None

    def _check_writer(self) -> None:
        """Call with ``self._lock`` held."""
        if self._lock_fd is not None and self._loaded:
            return
        if self._superseded:
            raise AuditLogLocked(
                f"This audit log object for {self.path} was replaced by a newer one in this "
                f"process (pid {os.getpid()}) that loaded the same file; it no longer writes.",
                os.getpid(),
            )
        raise AuditLogError(f"The audit log {self.path} is closed")

    # --- reading and verifying ----------------------------------------------------------

    def load(self) -> Verification:
        """Take the writer lock, read and verify the chain. Problems are recorded; appending
        continues on the tail. Raises ``AuditLogLocked`` if another process writes the log."""
        self._acquire()
        with self._lock:
            self._check_lock_held()
            torn_problem: str | None = None
            torn_name: str | None = None
            lines: list[bytes] = []
            if self.path.exists():
                lines = self.path.read_bytes().split(b"\n")
                if lines and lines[-1] == b"":
                    lines.pop()
                elif lines:
                    # Crash mid-write: keep the torn bytes aside for inspection, drop them
                    # from the chain. They never returned from append, so nothing they
                    # record took effect.
                    torn = lines.pop()
                    aside = self._set_aside(torn)
                    self._rewrite(lines)
                    torn_name = aside.name
                    torn_problem = f"torn last line moved to {aside.name} ({len(torn)} bytes)"
            entries, problems = _verify(lines)
            self._entries = entries
            self._loaded = True
            self._write_failed = False
            self._rollback_to = None
            self.verification = Verification(
                ok=not problems,
                entries=len(entries),
                problems=[*([torn_problem] if torn_problem else []), *problems],
                torn=torn_name,
            )
            return self.verification

    def _check_lock_held(self) -> None:
        if self._lock_fd is None:  # superseded between _acquire and here
            raise AuditLogLocked(f"The audit log {self.path} was taken over while loading")

    def _set_aside(self, torn: bytes) -> Path:
        aside, fd = _create_exclusive(
            self.path.parent, f"{self.path.stem}.torn-{int(time.time())}", ""
        )
        try:
            _write_all(fd, torn)
            os.fsync(fd)
        finally:
            os.close(fd)
        return aside

    def _rewrite(self, lines: list[bytes]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            for line in lines:
                fh.write(line + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    # --- writing ------------------------------------------------------------------------

    def append(self, action: str, detail: Mapping[str, Any], ts: float | None = None) -> AuditEntry:
        """Append one entry and fsync. Detail must be JSON (never tokens or keys).

        Raises ``AuditWriteFailed`` if the entry could not be made durable (the log is then
        unchanged and ``writable`` is False), ``AuditLogLocked`` if this object is no longer
        the writer. Loads the log first if that was not done."""
        clean = json.loads(json.dumps(dict(detail), default=str))
        if self._never_loaded():
            self.load()
        with self._lock:
            self._check_writer()
            seq = self._entries[-1].seq + 1 if self._entries else 1
            ts = round(time.time() if ts is None else ts, 3)
            prev = self.head
            entry = AuditEntry(
                seq, ts, action, clean, prev, entry_hash(prev, seq, ts, action, clean)
            )
            try:
                self._write_line((entry.to_json() + "\n").encode())
            except OSError as err:
                self._write_failed = True
                code = err.errno if err.errno is not None else errno.EIO
                raise AuditWriteFailed(
                    code,
                    f"The audit log could not be written ({err.strerror or err}); "
                    f"entry {seq} ({action}) was not recorded",
                    str(self.path),
                ) from err
            self._entries.append(entry)
            self.verification.entries = len(self._entries)
            self._write_failed = False
            return entry

    def _write_line(self, data: bytes) -> None:
        """Append ``data`` durably, or leave the file as it was and raise ``OSError``."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if self._rollback_to is not None:
                # An earlier failed write could not be cut off then; do it before writing on.
                if os.fstat(fd).st_size > self._rollback_to:
                    os.ftruncate(fd, self._rollback_to)
                os.fsync(fd)
                self._rollback_to = None
            start = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError:
                # Cut off what part of the line made it: the file must end at a full entry.
                try:
                    os.ftruncate(fd, start)
                    os.fsync(fd)
                except OSError:
                    self._rollback_to = start
                raise
        finally:
            os.close(fd)

    # --- damage recovery ----------------------------------------------------------------

    def archive_and_restart(self, reason: str) -> Path:
        """After a failed verification: move the damaged file aside (kept, never deleted) to
        ``<name>.damaged-<UTC timestamp>.jsonl`` and start a new chain whose first entry
        (``chain_restarted``) records the archive's file name, sha256, entry count and the
        last hash found in it, and ``reason``. The new chain is verified from disk before this
        returns the archive's path. Raises ``AuditLogError`` if the chain verifies."""
        if self._never_loaded():
            self.load()
        with self._lock:
            self._check_writer()
            if self.verification.ok:
                raise AuditLogError("The audit log verifies; there is nothing to archive")
            damaged = self.path.read_bytes() if self.path.exists() else b""
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            archive = self._archive(damaged, f"{self.path.stem}.damaged-{stamp}")
            detail: dict[str, Any] = {
                "reason": str(reason),
                "archive": archive.name,
                "archive_sha256": hashlib.sha256(damaged).hexdigest(),
                "archive_last_hash": self._entries[-1].hash if self._entries else None,
                "archive_entries": len(self._entries),
                "archive_problems": self.verification.problems[:20],
            }
            ts = round(time.time(), 3)
            first = AuditEntry(
                1,
                ts,
                CHAIN_RESTARTED,
                detail,
                GENESIS,
                entry_hash(GENESIS, 1, ts, CHAIN_RESTARTED, detail),
            )
            try:
                self._rewrite([first.to_json().encode()])
            except OSError as err:
                self._write_failed = True
                raise AuditWriteFailed(
                    err.errno if err.errno is not None else errno.EIO,
                    f"The new audit chain could not be written ({err.strerror or err}); "
                    f"the damaged log is still in place (copy kept as {archive.name})",
                    str(self.path),
                ) from err
            entries, problems = _verify(self.path.read_bytes().splitlines())
            if problems or [e.hash for e in entries] != [first.hash]:
                raise AuditLogError(f"The new audit chain does not verify: {problems}")
            self._entries = entries
            self._write_failed = False
            self._rollback_to = None
            self.verification = Verification(ok=True, entries=len(entries))
            return archive

    def _archive(self, damaged: bytes, base: str) -> Path:
        """A durable copy of the damaged file under a new name, never overwriting one."""
        directory = self.path.parent
        suffix = ".jsonl"
        n = 1
        while self.path.exists():
            name = f"{base}{suffix}" if n == 1 else f"{base}-{n}{suffix}"
            try:
                os.link(self.path, directory / name)  # same inode: the bytes as they are
            except FileExistsError:
                n += 1
                continue
            except OSError:
                break  # no hard links on this file system: copy below
            _fsync_dir(directory)
            return directory / name
        archive, fd = _create_exclusive(directory, base, suffix)
        try:
            _write_all(fd, damaged)
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(directory)
        return archive


def _verify(lines: list[bytes]) -> tuple[list[AuditEntry], list[str]]:
    problems: list[str] = []
    entries: list[AuditEntry] = []
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
        if entry_hash(entry.prev, entry.seq, entry.ts, entry.action, entry.detail) != entry.hash:
            problems.append(f"line {n}: hash mismatch (entry altered)")
        entries.append(entry)
        prev = entry.hash
    return entries, problems


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
