"""Issue 12 item 2: what someone who reads the database file gets, and what they do not.

Signing keys are sealed with a key-encryption key kept outside the database; the SQLite
file and the KEK file are 0600; the hub refuses to start without the KEK once keys exist.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hub_server.kek import KekError
from hub_server.models import SigningKey
from tests.hub_harness import camera, running_hub

HOME = (33.7490, -84.3880)


async def test_database_holds_no_usable_private_key(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam-1", *HOME)], auto_approve=True)
        api = hub.client(await hub.create_user(role="analyst"))
        inc = await api.open_incident(*HOME, radius_m=200)
        await api.request_live(inc["incident_id"], [(sim.installation_id, "cam-1")])
        await api.wait_for_grant(inc["incident_id"], "cam-1")
        async with hub.state.db.read() as session:
            rows = (await session.scalars(select(SigningKey))).all()
        assert rows
        for row in rows:
            assert "PRIVATE KEY" not in row.private_pem
            assert row.private_pem.startswith("cs-kek-v1:")
        raw = (tmp_path / "hub.sqlite3").read_bytes()
        assert b"PRIVATE KEY" not in raw
        for name in ("hub.sqlite3", "hub.kek"):
            mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
            assert mode == 0o600, (name, oct(mode))


async def test_no_start_without_the_kek_once_keys_exist(tmp_path: Path) -> None:
    async with running_hub(tmp_path):
        pass
    (tmp_path / "hub.kek").rename(tmp_path / "elsewhere.kek")
    with pytest.raises(KekError):
        async with running_hub(tmp_path):
            pass
    # A wrong KEK is refused too, and a KEK file others can read.
    (tmp_path / "hub.kek").write_text("A" * 43 + "\n")
    os.chmod(tmp_path / "hub.kek", 0o600)
    with pytest.raises(KekError):
        async with running_hub(tmp_path):
            pass
    (tmp_path / "elsewhere.kek").replace(tmp_path / "hub.kek")
    os.chmod(tmp_path / "hub.kek", 0o644)
    with pytest.raises(KekError):
        async with running_hub(tmp_path):
            pass
    os.chmod(tmp_path / "hub.kek", 0o600)
    async with running_hub(tmp_path) as hub:
        assert await hub.client().expect(200, "GET", "/healthz") == {"status": "ok"}


def test_cli_creates_the_kek_then_requires_it(tmp_path: Path) -> None:
    env = {**os.environ, "CONNECT_SHARE_HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    env.pop("CONNECT_SHARE_HUB_KEK", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub_server.cli", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli("rotate-key").returncode == 0
    kek = tmp_path / "connect-share-hub.kek"
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "c.db").stat().st_mode) == 0o600
    kek.unlink()
    refused = cli("rotate-key")
    assert refused.returncode == 3 and "key-encryption key" in refused.stderr
    assert not kek.exists()  # not silently re-created once keys exist
