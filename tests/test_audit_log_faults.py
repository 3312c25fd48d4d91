"""The local audit log under faults: a second writer, a damaged chain, a process killed
mid-write, a full disk. Pure pytest: the module is loaded from its file (no Home Assistant
import) here and in the child processes, which are real ``python`` processes."""

from __future__ import annotations

import errno
import hashlib
import importlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "custom_components" / "connect_share"

# The integration's package without its __init__ (which imports Home Assistant): audit_log.py
# and the protocol it uses are pure Python. The same in the child processes.
PRELUDE = f"""
import importlib, json, os, random, signal, sys, time, types
from pathlib import Path
pkg = types.ModuleType("cs_pkg"); pkg.__path__ = [{str(PACKAGE_DIR)!r}]; sys.modules["cs_pkg"] = pkg
mod = importlib.import_module("cs_pkg.audit_log")
path = Path(sys.argv[1])
"""


def _load_module() -> ModuleType:
    import types

    if "cs_pkg" not in sys.modules:
        pkg = types.ModuleType("cs_pkg")
        pkg.__path__ = [str(PACKAGE_DIR)]
        sys.modules["cs_pkg"] = pkg
    return importlib.import_module("cs_pkg.audit_log")


audit = _load_module()


def run_child(code: str, path: Path, timeout: float = 30) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + code, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_child(code: str, path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the child says when it holds the log
    assert line.startswith("ready"), (line, proc.stderr.read() if proc.stderr else "")
    return proc


def assert_chain(path: Path) -> list[Any]:
    """A fresh writer loads and verifies the file; returns its entries."""
    log = audit.AuditLog(path)
    try:
        v = log.load()
        assert v.ok, v.problems
        entries = log.entries
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        prev = audit.GENESIS
        for e in entries:
            assert e.prev == prev
            prev = e.hash
        return entries
    finally:
        log.close()


TRY_LOAD = """
try:
    log = mod.AuditLog(path)
    log.load()
    log.append("second_writer", {"pid": os.getpid()})
    log.close()
    print(json.dumps({"loaded": True}))
except mod.AuditLogLocked as err:
    print(json.dumps({"loaded": False, "pid": err.pid, "message": str(err)}))
"""


# --- 1. exclusive writer ----------------------------------------------------------------


def test_second_process_is_refused_until_the_writer_closes(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = audit.AuditLog(path)
    assert not log.writable  # not loaded yet
    log.load()
    assert log.writable
    log.append("started", {})
    assert log.lock_path == tmp_path / "audit.jsonl.lock"
    assert f"pid={os.getpid()}" in log.lock_path.read_text()

    refused = run_child(TRY_LOAD, path)
    assert refused["loaded"] is False
    assert refused["pid"] == os.getpid()
    assert "Another process" in refused["message"]
    assert f"pid {os.getpid()}" in refused["message"]
    assert len(path.read_text().splitlines()) == 1  # the refused process wrote nothing

    log.append("still_writing", {})
    log.close()
    assert not log.writable
    assert run_child(TRY_LOAD, path)["loaded"] is True
    assert [e.action for e in assert_chain(path)] == ["started", "still_writing", "second_writer"]


def test_writer_in_another_process_blocks_us_until_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    child = start_child(
        """
log = mod.AuditLog(path)
log.load()
log.append("child_started", {})
print("ready", flush=True)
sys.stdin.read()
""",
        path,
    )
    try:
        log = audit.AuditLog(path)
        with pytest.raises(audit.AuditLogLocked) as caught:
            log.load()
        assert caught.value.pid == child.pid
        assert f"pid {child.pid}" in str(caught.value)
        assert "Another process" in str(caught.value)
        assert not log.writable
        with pytest.raises(audit.AuditLogLocked):
            log.append("refused", {})  # append loads first, and is refused the same way
    finally:
        child.kill()  # SIGKILL: the kernel drops its lock; the stale pid in the file is moot
        child.communicate()
    assert log.load().ok
    log.append("parent_took_over", {})
    log.close()
    assert [e.action for e in assert_chain(path)] == ["child_started", "parent_took_over"]


def test_second_object_in_this_process(tmp_path: Path) -> None:
    """flock is per open file description, so a second object is a second writer too: in one
    process the newer object takes over (a reloaded config entry) and the older one can no
    longer write; never do both objects write."""
    path = tmp_path / "audit.jsonl"
    first = audit.AuditLog(path)
    first.load()
    first.append("first", {})
    second = audit.AuditLog(path)
    assert second.load().ok and len(second.entries) == 1
    assert not first.writable
    with pytest.raises(audit.AuditLogLocked, match="replaced by a newer one"):
        first.append("stale", {})
    second.append("second", {})
    # Another process is still refused while this process holds the log.
    assert run_child(TRY_LOAD, path)["loaded"] is False
    second.close()
    with pytest.raises(audit.AuditLogError, match="closed"):
        second.append("after_close", {})
    assert [e.action for e in assert_chain(path)] == ["first", "second"]
    with audit.AuditLog(path) as third:
        third.load()
        third.append("third", {})
    assert [e.seq for e in assert_chain(path)] == [1, 2, 3]


def test_lock_released_when_the_object_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = audit.AuditLog(path)
    log.load()
    del log  # never closed: the lock goes with the object
    assert run_child(TRY_LOAD, path)["loaded"] is True


# --- 2. damage recovery -----------------------------------------------------------------


def _damaged_log(path: Path) -> Any:
    log = audit.AuditLog(path)
    log.load()
    for i in range(4):
        log.append("request", {"request_id": f"r{i}"})
    log.close()
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], lines[1], lines[3]]) + "\n")  # 2 writers
    log = audit.AuditLog(path)
    v = log.load()
    assert not v.ok
    return log


def test_archive_and_restart(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _damaged_log(path)
    damaged = path.read_bytes()
    last_hash = log.entries[-1].hash
    problems = list(log.verification.problems)

    archive = log.archive_and_restart("two writers on one config")

    assert re.fullmatch(r"audit\.damaged-\d{8}T\d{6}Z\.jsonl", archive.name)
    assert archive.parent == tmp_path
    assert archive.read_bytes() == damaged  # kept as it was
    assert log.verification.ok and log.verification.entries == 1
    (first,) = log.entries
    assert first.seq == 1 and first.prev == audit.GENESIS
    assert first.action == "chain_restarted"
    assert first.detail["archive"] == archive.name
    assert first.detail["archive_sha256"] == hashlib.sha256(damaged).hexdigest()
    assert first.detail["archive_last_hash"] == last_hash
    assert first.detail["archive_entries"] == 4
    assert first.detail["reason"] == "two writers on one config"
    assert first.detail["archive_problems"] == problems
    assert log.writable and log.head == first.hash
    log.append("request", {"request_id": "r9"})
    log.close()
    assert [e.action for e in assert_chain(path)] == ["chain_restarted", "request"]
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == first.detail["archive_sha256"]

    # A second damage in the same second gets its own archive, the first is kept.
    path.write_text(path.read_text().replace('"r9"', '"forged"'))
    log = audit.AuditLog(path)
    assert not log.load().ok
    again = log.archive_and_restart("edited")
    assert again != archive and archive.read_bytes() == damaged
    assert len(list(tmp_path.glob("audit.damaged-*.jsonl"))) == 2
    # A chain that verifies is not archived.
    with pytest.raises(audit.AuditLogError, match="nothing to archive"):
        log.archive_and_restart("by mistake")
    log.close()
    assert len(assert_chain(path)) == 1


# --- 3. killed mid-write ----------------------------------------------------------------

APPEND_FOREVER = """
log = mod.AuditLog(path)
v = log.load()
assert v.ok, v.problems
rng = random.Random(os.getpid())
print("ready", flush=True)
i = 0
while True:
    i += 1
    # Large entries: a write takes long enough for the kill to land in the middle of one.
    log.append("tick", {"i": i, "pad": "x" * rng.choice((10, 1000, 200_000, 900_000))})
"""


def test_sigkill_during_appends_leaves_a_chain_that_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    rng = random.Random()
    total = 0
    torn = 0
    for _ in range(4):
        child = start_child(APPEND_FOREVER, path)
        time.sleep(rng.uniform(0.05, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
        assert child.returncode == -signal.SIGKILL
        log = audit.AuditLog(path)
        v = log.load()
        assert v.ok, v.problems
        assert len(log.entries) >= total  # nothing that was written before is lost
        total = len(log.entries)
        torn += v.torn is not None
        log.close()
        assert_chain(path)
    assert total > 0
    # Torn tails (if a kill landed mid-write) were kept aside, not deleted.
    assert len(list(tmp_path.glob("audit.torn-*"))) == torn


def test_torn_tail_is_set_aside_and_the_chain_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with audit.AuditLog(path) as log:
        log.load()
        log.append("request", {"request_id": "r1"})
        complete = log.append("request", {"request_id": "r2"}).to_json().encode()
    # Killed just before the newline of entry 2: a whole entry, but its append never returned.
    path.write_bytes(path.read_bytes()[:-1])
    log = audit.AuditLog(path)
    v = log.load()
    assert v.ok and v.entries == 1
    assert v.torn is not None and any("torn" in p for p in v.problems)
    assert (tmp_path / v.torn).read_bytes() == complete
    log.append("request", {"request_id": "r3"})
    log.close()
    assert [e.detail["request_id"] for e in assert_chain(path)] == ["r1", "r3"]


# --- 4. disk full -----------------------------------------------------------------------

FILE_SIZE_LIMIT = """
import resource
log = mod.AuditLog(path)
log.load()
for i in range(3):
    log.append("before", {"i": i})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
size = path.stat().st_size
out = {"head": log.head, "n": len(log.entries), "attempts": []}
# Room for part of an entry (a short write, then EFBIG), then for none of it.
for room in (60, 0):
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + room, hard))
    try:
        log.append("blocked", {"pad": "y" * 500})
        out["attempts"].append({"raised": None})
    except mod.AuditWriteFailed as err:
        out["attempts"].append({
            "raised": type(err).__name__, "oserror": isinstance(err, OSError),
            "errno": err.errno, "message": str(err), "head": log.head, "n": len(log.entries),
            "verification_entries": log.verification.entries, "writable": log.writable,
            "size": path.stat().st_size,
        })
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
entry = log.append("after", {"i": 3})
out.update(size=size, after_seq=entry.seq, after_prev=entry.prev, writable_after=log.writable)
log.close()
print(json.dumps(out))
"""


def test_file_size_limit_fails_the_write_and_rolls_it_back(tmp_path: Path) -> None:
    """A real write failure: RLIMIT_FSIZE with SIGXFSZ ignored makes writes past the limit
    fail with EFBIG, as a full disk fails them with ENOSPC."""
    path = tmp_path / "audit.jsonl"
    out = run_child(FILE_SIZE_LIMIT, path)
    assert len(out["attempts"]) == 2
    for attempt in out["attempts"]:
        assert attempt["raised"] == "AuditWriteFailed" and attempt["oserror"]
        assert attempt["errno"] == errno.EFBIG
        assert "entry 4 (blocked) was not recorded" in attempt["message"]
        assert attempt["head"] == out["head"] and attempt["n"] == out["n"] == 3
        assert attempt["verification_entries"] == 3
        assert attempt["writable"] is False
        assert attempt["size"] == out["size"]  # the partial line was cut off
    assert out["after_seq"] == 4 and out["after_prev"] == out["head"]
    assert out["writable_after"] is True
    entries = assert_chain(path)
    assert [e.action for e in entries] == ["before"] * 3 + ["after"]
    assert not list(tmp_path.glob("audit.torn-*"))


def test_disk_full_with_a_partial_write_and_a_failed_rollback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC after half the line reached the file, and even cutting it off fails: the next
    append cuts it off first, so no entry is glued to a fragment."""
    path = tmp_path / "audit.jsonl"
    log = audit.AuditLog(path)
    log.load()
    log.append("before", {})
    size, head = path.stat().st_size, log.head
    real_write = os.write
    calls: list[int] = []

    def half_then_full(fd: int, data: Any) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    def truncate_fails(fd: int, length: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as m:
        m.setattr(os, "write", half_then_full)
        m.setattr(os, "ftruncate", truncate_fails)
        with pytest.raises(audit.AuditWriteFailed) as caught:
            log.append("blocked", {"pad": "z" * 300})
    assert isinstance(caught.value, OSError) and caught.value.errno == errno.ENOSPC
    assert path.stat().st_size > size  # the fragment is still there
    assert log.head == head and len(log.entries) == 1 and log.verification.entries == 1
    assert not log.writable
    entry = log.append("after", {})
    assert entry.seq == 2 and entry.prev == head and log.writable
    log.close()
    assert [e.action for e in assert_chain(path)] == ["before", "after"]


def test_fsync_failure_is_a_failed_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "audit.jsonl"
    log = audit.AuditLog(path)
    log.load()
    log.append("before", {})
    size = path.stat().st_size
    real_fsync = os.fsync
    failures = iter([True])

    def fsync_fails_once(fd: int) -> None:
        if next(failures, False):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_fails_once)
    with pytest.raises(audit.AuditWriteFailed) as caught:
        log.append("unsure", {})
    monkeypatch.undo()
    assert caught.value.errno == errno.EIO
    assert path.stat().st_size == size and len(log.entries) == 1 and not log.writable
    log.append("after", {})
    assert log.writable
    log.close()
    assert [e.action for e in assert_chain(path)] == ["before", "after"]
