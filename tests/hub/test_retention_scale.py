"""Retention at a city's scale: tens of thousands of stored evidence items must not break a
pass. Each SQL statement takes at most ~32,766 parameters (SQLite's limit; asyncpg's is
32,767), so a pass that names every kept item in one ``IN``/``NOT IN`` failed every hour,
for ever, once the evidence store grew past it, and nothing expired any more."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from hub_server import retention
from hub_server.database import Database, migrate
from hub_server.settings import Settings

DAY = 86400.0
KEPT = 33_000  # above both databases' parameter limits


def _write(root: Path, received_at: float) -> str:
    evidence_id = uuid.uuid4().hex
    directory = root / evidence_id
    directory.mkdir()
    (directory / "record.json").write_text(
        json.dumps(
            {
                "evidence_id": evidence_id,
                # Each item under its own incident and request, as a busy year would have.
                "incident_id": uuid.uuid4().hex,
                "request_id": uuid.uuid4().hex,
                "installation_id": "inst-1",
                "camera_id": "cam-1",
                "received_at": received_at,
            }
        )
    )
    return evidence_id


async def test_a_pass_over_more_evidence_than_one_statement_can_name(
    database_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "evidence"
    root.mkdir()
    now = time.time()
    kept = {_write(root, now - DAY) for _ in range(KEPT)}
    expired = _write(root, now - 400 * DAY)  # its incident is unknown: nothing holds it
    await migrate(database_url)
    db = Database(database_url)
    try:
        deleted = await retention.enforce(db, Settings(database_url=database_url), root)
    finally:
        await db.close()
    assert deleted["evidence"] == 1
    left = {p.name for p in root.iterdir() if p.name != ".incoming"}
    assert expired not in left
    assert left == kept
