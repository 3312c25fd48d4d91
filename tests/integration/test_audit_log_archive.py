"""The resident's local audit log when it is damaged: every damaged copy is kept under its
own name (never overwritten, also twice in the same second, also on a file system without
hard links), and a line that is JSON but not an entry is reported, not skipped silently."""

from __future__ import annotations

import errno
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from custom_components.connect_share import audit_log


class _SameSecond(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC)


def _damage(path: Path, action: str) -> bytes:
    """Append an entry, then edit it on disk (as a second writer or a person would)."""
    log = audit_log.AuditLog(path)
    log.load()
    log.append(action, {"request_id": "r1"})
    log.close()
    path.write_text(path.read_text().replace('"r1"', '"forged"'))
    return path.read_bytes()


@pytest.mark.parametrize("hard_links", [True, False])
def test_every_damaged_copy_is_kept_under_its_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool
) -> None:
    monkeypatch.setattr(audit_log, "datetime", _SameSecond)
    if not hard_links:

        def no_links(src: Any, dst: Any) -> None:
            raise OSError(errno.EPERM, "hard links not supported")

        monkeypatch.setattr(audit_log.os, "link", no_links)
    path = tmp_path / "audit.jsonl"
    kept: dict[Path, bytes] = {}
    for action in ("first", "second"):
        damaged = _damage(path, action)
        log = audit_log.AuditLog(path)
        assert not log.load().ok
        archive = log.archive_and_restart(f"damaged {action}")
        kept[archive] = damaged
        assert log.verification.ok and log.entries[0].detail["archive"] == archive.name
        log.close()

    assert sorted(p.name for p in kept) == [
        "audit.damaged-20261201T000000Z-2.jsonl",
        "audit.damaged-20261201T000000Z.jsonl",
    ]
    for archive, damaged in kept.items():
        assert archive.read_bytes() == damaged  # each exactly as it was
    # The live log is a fresh chain that verifies.
    log = audit_log.AuditLog(path)
    assert log.load().ok and [e.action for e in log.entries] == ["chain_restarted"]
    log.close()


@pytest.mark.parametrize(
    "line",
    [
        "[]",
        '{"seq": "one", "ts": 1, "action": "x", "detail": {}, "prev": "", "hash": ""}',
        '{"seq": 2, "ts": 1, "action": "x", "prev": "", "hash": ""}',
    ],
)
def test_a_line_that_is_not_an_entry_is_reported(tmp_path: Path, line: str) -> None:
    path = tmp_path / "audit.jsonl"
    log = audit_log.AuditLog(path)
    log.load()
    log.append("started", {})
    log.close()
    with path.open("a") as f:
        f.write(line + "\n")
    log = audit_log.AuditLog(path)
    verification = log.load()
    assert not verification.ok
    assert any("line 2: not a valid entry" in p for p in verification.problems)
    assert json.loads(path.read_text().splitlines()[0])["action"] == "started"
    log.close()
