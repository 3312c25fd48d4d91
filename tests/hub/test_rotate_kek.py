"""``connect-share-hub rotate-kek``: the signing keys re-sealed under a new KEK.

After the rotation the old KEK opens nothing, the hub starts with the new one, publishes
the same keys, and re-signs the grants it issued before (issue 12 item 2).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from hub_server.cli import main as cli_main
from hub_server.grant_tokens import grant_token
from hub_server.kek import KekError, load_kek, unseal
from hub_server.models import GrantRow, SigningKey
from tests.hub_harness import camera, running_hub


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(cli_main, list(argv))


async def test_rotate_kek_reseals_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kek_file = tmp_path / "hub.kek"
    monkeypatch.setenv("CONNECT_SHARE_HUB_KEK_FILE", str(kek_file))
    monkeypatch.delenv("CONNECT_SHARE_HUB_KEK", raising=False)
    async with running_hub(tmp_path) as hub:
        url = hub.settings.database_url
        sim = await hub.simulated_installation([camera("cam-1", 33.7491, -84.3880)])
        api = hub.client(await hub.create_user(role="analyst"))
        incident = await api.open_incident(33.7490, -84.3880, radius_m=300)
        await api.request_live(incident["incident_id"], [(sim.installation_id, "cam-1")])
        await sim.approve(await sim.next_message("access_request"))
        issued = (await sim.next_message("grant")).token
        jwks = await api.expect(200, "GET", "/.well-known/jwks.json")
    old_kek = load_kek(kek_file, create=False, environ={})
    assert old_kek is not None
    assert await cli("--database-url", url, "rotate-key") == 0  # two keys to re-seal
    capsys.readouterr()

    assert await cli("--database-url", url, "rotate-kek") == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"kek_file": str(kek_file), "keys_resealed": 2}
    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
    assert not kek_file.with_name("hub.kek.new").exists()
    new_kek = load_kek(kek_file, create=False, environ={})
    assert new_kek is not None and new_kek != old_kek

    async with running_hub(tmp_path) as hub:
        async with hub.state.db.read() as session:
            keys = (await session.scalars(select(SigningKey))).all()
            [row] = (await session.scalars(select(GrantRow))).all()
        for key in keys:
            unseal(new_kek, key.kid, key.private_pem)
            with pytest.raises(KekError):
                unseal(old_kek, key.kid, key.private_pem)
        # The grant issued under the old KEK is re-signed to the very same token.
        assert await grant_token(hub.state, row) == issued
        admin = hub.client(await hub.create_user(role="admin"))
        published = await admin.expect(200, "GET", "/.well-known/jwks.json")
        old_kids = {k["kid"] for k in jwks["keys"]}
        assert old_kids <= {k["kid"] for k in published["keys"]}
        assert [e["action"] for e in await admin.audit(action="kek.rotated")] == ["kek.rotated"]
        assert (await hub.verify_audit()).ok

    # The old KEK no longer starts anything.
    old_file = tmp_path / "old.kek"
    old_file.write_text(base64.urlsafe_b64encode(old_kek).decode() + "\n")
    old_file.chmod(0o600)
    monkeypatch.setenv("CONNECT_SHARE_HUB_KEK_FILE", str(old_file))
    assert await cli("--database-url", url, "verify-audit") == 3


async def test_rotate_kek_needs_a_file_when_the_kek_is_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("CONNECT_SHARE_HUB_KEK", kek)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    assert await cli("--database-url", url, "rotate-kek") == 2
    assert "--new-kek-file" in capsys.readouterr().err
    target = tmp_path / "next.kek"
    assert await cli("--database-url", url, "rotate-kek", "--new-kek-file", str(target)) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kek_file"] == str(target) and "CONNECT_SHARE_HUB_KEK" in out["next"]
    monkeypatch.setenv("CONNECT_SHARE_HUB_KEK", target.read_text().strip())
    assert await cli("--database-url", url, "verify-audit") == 0
    monkeypatch.setenv("CONNECT_SHARE_HUB_KEK", kek)
    assert await cli("--database-url", url, "verify-audit") == 3
