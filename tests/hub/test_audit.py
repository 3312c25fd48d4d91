"""The audit chain: append-only in the database, tamper-evident, checked by the CLI."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub_server import audit
from hub_server.cli import main
from tests.hub_harness import running_hub

ROOT = Path(__file__).resolve().parents[2]


async def test_database_refuses_update_and_delete(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        await hub.create_user(role="officer")
        db = hub.state.db
        for statement in ("UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.write() as session:
                    await session.execute(text(statement))
        assert (await hub.verify_audit()).ok


async def test_tampering_is_detected(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        for role in ("officer", "analyst", "supervisor"):
            await hub.create_user(role=role)
        db = hub.state.db
        assert (await audit.verify_chain(db)).ok
        async with db.write() as session:  # someone with database access edits an entry
            await session.execute(text("DROP TRIGGER audit_no_update"))
            await session.execute(
                text('UPDATE audit_entries SET detail = \'{"role":"admin"}\' WHERE seq = 3')
            )
        report = await audit.verify_chain(db)
        assert not report.ok and report.first_bad_seq == 3
        assert report.problem == "hash does not match the content"


async def test_chain_links_every_entry(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        for _ in range(3):
            await hub.create_user(role="officer")
        admin = hub.client(await hub.create_user(role="admin"))
        entries = await admin.audit()
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
        assert entries[0]["prev_hash"] == audit.GENESIS_HASH
        for before, after in itertools.pairwise(entries):
            assert after["prev_hash"] == before["hash"]
        verdict = await admin.expect(200, "GET", "/api/v1/audit/verify")
        assert verdict["ok"] and verdict["entries"] == len(entries)
        assert verdict["head_hash"] == entries[-1]["hash"]


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub_server.cli", "--database-url", f"sqlite:///{db}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=os.environ,
    )


def cli(capsys: pytest.CaptureFixture[str], *args: str, db: Path) -> tuple[int, str, str]:
    """Run ``connect-share-hub`` in this process (each call is its own asyncio.run)."""
    code = main(["--database-url", f"sqlite:///{db}", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_entry_point_runs(tmp_path: Path) -> None:
    done = run_cli("migrate", db=tmp_path / "cli.sqlite3")
    assert done.returncode == 0 and "up to date" in done.stdout


def test_cli_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cli.sqlite3"
    assert cli(capsys, "migrate", db=db)[0] == 0
    monkeypatch.setenv("PW", "a long test password")
    code, out, err = cli(
        capsys,
        "create-user", "dana", "--role", "supervisor", "--badge", "4471",
        "--password-env", "PW", "--api-token",
        db=db,
    )  # fmt: skip
    assert code == 0, err
    user = json.loads(out)
    assert user["role"] == "supervisor" and user["api_token"].startswith("csh_")
    assert "a long test password" not in out + err
    monkeypatch.setenv("PW", "short")
    code, _, err = cli(
        capsys, "create-user", "x1", "--role", "officer", "--password-env", "PW", db=db
    )
    assert code == 2 and "12 characters" in err
    code, out, _ = cli(capsys, "enrollment-code", "--ttl-hours", "2", db=db)
    assert code == 0 and len(json.loads(out)["code"]) == 23
    first = json.loads(cli(capsys, "rotate-key", db=db)[1])["kid"]
    second = json.loads(cli(capsys, "rotate-key", db=db)[1])["kid"]
    assert first != second
    code, out, _ = cli(capsys, "verify-audit", db=db)
    assert code == 0 and json.loads(out)["ok"] is True

    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("DELETE FROM audit_entries WHERE seq = 2")
    code, out, _ = cli(capsys, "verify-audit", db=db)
    assert code == 1 and json.loads(out)["first_bad_seq"] == 2


def test_serve_alone_works_on_a_fresh_machine(tmp_path: Path) -> None:
    """`connect-share-hub serve` with no flags: SQLite file in the working directory."""
    import time
    import urllib.request

    from tests.hub.postgres import free_port

    port = free_port()
    script = Path(sys.executable).with_name("connect-share-hub")
    server = subprocess.Popen(
        [str(script), "serve"],
        cwd=tmp_path,
        env={**os.environ, "CONNECT_SHARE_HUB_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert json.loads(r.read())["status"] == "ok"
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the hub did not start"
                time.sleep(0.3)
        assert (tmp_path / "connect-share-hub.sqlite3").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()
