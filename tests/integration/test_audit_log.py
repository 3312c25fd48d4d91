"""The local audit log: durable, hash-chained, tamper-evident, cross-checked."""

from __future__ import annotations

import json
from pathlib import Path

from custom_components.connect_share.audit_log import AuditLog, cross_check


def test_append_and_reload(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    assert log.load().ok
    log.append("request", {"request_id": "r1"})
    log.append("session_started", {"session_id": "s1"})
    again = AuditLog(tmp_path / "audit.jsonl")
    v = again.load()
    assert v.ok and v.entries == 2
    assert [e.seq for e in again.entries] == [1, 2]
    assert again.entries[1].prev == again.entries[0].hash
    again.append("session_closed", {"session_id": "s1"})
    assert AuditLog(tmp_path / "audit.jsonl").load().ok


def test_edit_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.load()
    for i in range(3):
        log.append("request", {"request_id": f"r{i}"})
    lines = path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["detail"]["request_id"] = "forged"
    lines[1] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    v = AuditLog(path).load()
    assert not v.ok
    assert any("hash mismatch" in p for p in v.problems)


def test_deleted_line_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.load()
    for i in range(3):
        log.append("request", {"request_id": f"r{i}"})
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    v = AuditLog(path).load()
    assert not v.ok
    assert any("chain broken" in p for p in v.problems)
    assert any("seq" in p for p in v.problems)


def test_torn_last_line_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.load()
    log.append("request", {"request_id": "r1"})
    with path.open("a") as fh:
        fh.write('{"seq": 2, "ts"')  # crash mid-write
    again = AuditLog(path)
    v = again.load()
    assert v.entries == 1
    assert any("torn" in p for p in v.problems)
    again.append("request", {"request_id": "r2"})
    assert AuditLog(path).load().ok
    assert list(tmp_path.glob("audit.torn-*"))


def test_cross_check() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        log = AuditLog(Path(d) / "a.jsonl")
        log.load()
        log.append("session_started", {"session_id": "s1"})
        log.append("session_refused", {"session_id": "s2", "reason": "paused"})
        hub = [
            {"action": "session_started", "ts": 1, "detail": {"session_id": "s1"}},
            {"action": "session_open", "ts": 1, "detail": {"session_id": "s2"}},
        ]
        assert cross_check(log.entries, hub).ok
        hub.append({"action": "session_started", "ts": 2, "detail": {"session_id": "s3"}})
        result = cross_check(log.entries, hub)
        assert not result.ok and result.missing_locally == ["session s3"]
        log.append("session_started", {"session_id": "s4"})
        result = cross_check(log.entries, hub[:2])
        assert result.missing_at_hub == ["session s4"]
        # A session the hub could not deliver is not a mismatch.
        undelivered = {
            "action": "session.stop",
            "ts": 3,
            "detail": {"session_id": "s5", "reason": "installation_offline"},
        }
        log.append("session_started", {"session_id": "s6", "token_id": "t1"})
        log.append("grant_accepted", {"token_id": "t9"})
        hub2 = [
            *hub[:2],
            undelivered,
            {"action": "session.start", "ts": 3, "detail": {"session_id": "s4"}},
            {"action": "session.start", "ts": 3, "detail": {"session_id": "s6"}},
        ]
        result = cross_check(log.entries, hub2)
        assert result.missing_locally == []
        assert result.missing_at_hub == ["token t9"]
