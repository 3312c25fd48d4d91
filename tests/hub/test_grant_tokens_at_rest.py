"""Grants keep the token's hash and claims, never the token (issue 12 item 2, grants part).

Whoever copies the database must get no token an installation would accept. The hub signs
the token again when it needs it (Ed25519 is deterministic: the same bytes as issued),
and refuses when the stored claims no longer match the issued token's hash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import text, update

from hub_server.database import alembic_config, make_engine, migrate
from hub_server.grant_tokens import grant_token
from hub_server.models import GrantRow
from tests.hub_harness import HubHarness, SimulatedInstallation, camera, running_hub

HOME = (33.7490, -84.3880)


def database_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("hub.sqlite3*")))


async def live_grant(hub: HubHarness) -> tuple[SimulatedInstallation, Any, dict[str, Any], str]:
    sim = await hub.simulated_installation([camera("cam-1", 33.7491, -84.3880)])
    api = hub.client(await hub.create_user(role="analyst"))
    incident = await api.open_incident(*HOME, radius_m=300)
    await api.request_live(incident["incident_id"], [(sim.installation_id, "cam-1")])
    await sim.approve(await sim.next_message("access_request"))
    issued = (await sim.next_message("grant")).token
    grant = await api.wait_for_grant(incident["incident_id"], "cam-1", scope="live")
    return sim, api, grant, issued


async def test_database_holds_no_token_and_session_open_gets_the_same_token(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path) as hub:
        sim, api, grant, issued = await live_grant(hub)
        # The officer named in the grant still gets the token, signed again: the same bytes.
        assert grant["token"] == issued
        opening = hub.state.spawn(api.open_session(grant["grant_id"], "cam-1"))
        session_open = await sim.next_message("session_open")
        assert session_open.token == issued
        await sim.accept_session(session_open)
        await opening
        async with hub.state.db.read() as session:
            row = await session.get(GrantRow, grant["grant_id"])
            assert row is not None
            columns = set(GrantRow.__table__.columns.keys())
        assert "token" not in columns
        assert json.loads(row.claims)["jti"] == grant["grant_id"]
    signature = issued.rsplit(".", 1)[1]
    stored = database_bytes(tmp_path)
    assert issued.encode() not in stored
    assert signature.encode() not in stored


async def test_edited_claims_give_no_token(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim, api, grant, _issued = await live_grant(hub)
        async with hub.state.db.read() as session:
            row = await session.get(GrantRow, grant["grant_id"])
            assert row is not None
        claims = json.loads(row.claims)
        claims["cams"] = ["cam-1", "cam-2"]  # someone with database access widens the grant
        async with hub.state.db.write() as session:
            await session.execute(
                update(GrantRow)
                .where(GrantRow.id == grant["grant_id"])
                .values(claims=json.dumps(claims, separators=(",", ":")))
            )
        status, body = await api.call(
            "POST", "/api/v1/sessions", json={"grant_id": grant["grant_id"], "camera_id": "cam-1"}
        )
        assert (status, body["error"]) == (409, "grant_token_unavailable")
        assert "token" not in await api.expect(200, "GET", f"/api/v1/grants/{grant['grant_id']}")
        await sim.roundtrip()
        assert not [m for m in sim.messages if m.TYPE == "session_open"]


def _downgrade(sync_connection: Any, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_connection
    command.downgrade(cfg, revision)


async def test_migration_moves_tokens_to_hashes_and_blanks_them(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        _sim, _api, grant, issued = await live_grant(hub)
        url = hub.settings.database_url
        async with hub.state.db.read() as session:
            row = await session.get(GrantRow, grant["grant_id"])
            assert row is not None
        expected = (row.token_sha256, row.token_header, row.claims)
    # The schema before: the token in the row, as an older hub wrote it.
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, "0005")
            await conn.execute(
                text("UPDATE grants SET token = :t WHERE id = :i"),
                {"t": issued, "i": grant["grant_id"]},
            )
    finally:
        await engine.dispose()
    assert issued.encode() in database_bytes(tmp_path)
    await migrate(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            got = (
                await conn.execute(
                    text("SELECT token_sha256, token_header, claims FROM grants WHERE id = :i"),
                    {"i": grant["grant_id"]},
                )
            ).one()
    finally:
        await engine.dispose()
    assert tuple(got) == expected
    stored = database_bytes(tmp_path)
    assert issued.rsplit(".", 1)[1].encode() not in stored
    # The hub on the migrated database still opens sessions with the re-signed token.
    async with running_hub(tmp_path) as hub:
        async with hub.state.db.read() as session:
            row = await session.get(GrantRow, grant["grant_id"])
            assert row is not None
        assert await grant_token(hub.state, row) == issued
