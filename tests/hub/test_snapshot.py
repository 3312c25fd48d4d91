"""Snapshots under a ``snapshot`` grant: one frame through the real hub, never stored.

Real hub, real database, real installation WebSocket; a simulated installation answers the
``session_open`` (scope ``snapshot``) with a frame, a refusal, or silence.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub_server.models import LiveSessionRow
from tests.hub_harness import (
    HubClient,
    HubHarness,
    HubUser,
    SimulatedInstallation,
    camera,
    running_hub,
    tiny_jpeg,
)

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)


@dataclass
class Setup:
    hub: HubHarness
    sim: SimulatedInstallation
    analyst: HubUser
    api: HubClient
    incident_id: str
    grant: dict[str, Any]


async def granted(hub: HubHarness, scope: str = "snapshot") -> Setup:
    """An analyst with an active grant of ``scope`` on the simulated installation's "cam"."""
    sim = await hub.simulated_installation([camera("cam", *NEAR)])
    analyst = await hub.create_user(role="analyst")
    api = hub.client(analyst)
    inc = await api.open_incident(*HOME)
    await api.request_access(inc["incident_id"], [(sim.installation_id, "cam")], scope=scope)
    await sim.approve(await sim.next_message("access_request"))
    grant = await api.wait_for_grant(inc["incident_id"], "cam", scope=scope)
    return Setup(hub, sim, analyst, api, inc["incident_id"], grant)


async def snapshot(api: HubClient, grant_id: str) -> tuple[int, dict[str, str], bytes]:
    path = f"/api/v1/grants/{grant_id}/snapshot"
    async with api.http.post(api.url + path, headers=api.headers) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def error_of(api: HubClient, grant_id: str) -> tuple[int, str, str]:
    status, _, body = await snapshot(api, grant_id)
    data = json.loads(body)
    return status, data["error"], data["message"]


async def stop_entries(setup: Setup) -> list[dict[str, Any]]:
    supervisor = setup.hub.client(await setup.hub.create_user(role="supervisor"))
    return await supervisor.audit(incident_id=setup.incident_id, action="session.stop")


async def test_snapshot_returns_one_frame_and_closes(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        s = await granted(hub)
        taking = asyncio.ensure_future(snapshot(s.api, s.grant["grant_id"]))
        opened = await s.sim.next_message("session_open")
        assert opened.scope == "snapshot" and opened.camera_id == "cam"
        assert opened.token == s.grant["token"]
        await s.sim.accept_session(opened)
        first, second = tiny_jpeg(1), tiny_jpeg(2)
        await s.sim.send_frame(opened.session_id, first, seq=0)
        await s.sim.send_frame(opened.session_id, second, seq=1)  # not relayed: one frame only
        status, headers, body = await taking
        assert status == 200 and body == first
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Cache-Control"] == "no-store"

        closed = await s.sim.next_message("session_close")
        assert closed.session_id == opened.session_id and closed.reason == "snapshot_taken"
        assert hub.state.relay.get(opened.session_id) is None
        async with hub.state.db.read() as db:
            row = await db.get(LiveSessionRow, opened.session_id)
        assert row is not None and row.end_reason == "snapshot_taken"
        assert row.frames_relayed == 1 and row.started_at is not None

        supervisor = hub.client(await hub.create_user(role="supervisor"))
        starts = await supervisor.audit(incident_id=s.incident_id, action="session.start")
        assert [e["detail"]["scope"] for e in starts] == ["snapshot"]
        assert starts[0]["detail"]["token_id"] == s.grant["grant_id"]
        (stop,) = await stop_entries(s)
        assert stop["detail"]["frames_relayed"] == 1
        assert stop["detail"]["reason"] == "snapshot_taken"
        assert (await hub.verify_audit()).ok

        # Public counts: a snapshot delivered, not a live session.
        (month,) = (await hub.client().expect(200, "GET", "/api/v1/transparency"))["months"]
        assert month["snapshots"] == 1
        assert month["live_sessions"] == 0 and month["minutes_watched"] == 0


async def test_refused_by_the_installation(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        s = await granted(hub)
        taking = asyncio.ensure_future(error_of(s.api, s.grant["grant_id"]))
        await s.sim.refuse_session(await s.sim.next_message("session_open"), "paused")
        status, code, message = await taking
        assert (status, code) == (403, "snapshot_refused") and "unavailable" in message
        assert "paused" not in message  # the installation's own reason stays with it
        (stop,) = await stop_entries(s)
        assert stop["detail"]["reason"] == "installation:unavailable"
        assert stop["detail"]["frames_relayed"] == 0


async def test_one_snapshot_per_grant_at_a_time(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        s = await granted(hub)
        taking = asyncio.ensure_future(snapshot(s.api, s.grant["grant_id"]))
        opened = await s.sim.next_message("session_open")
        assert (await error_of(s.api, s.grant["grant_id"]))[:2] == (429, "snapshot_pending")
        await s.sim.accept_session(opened)
        await s.sim.send_frame(opened.session_id, tiny_jpeg(4))
        assert (await taking)[0] == 200
        # Done: the next one may go.
        again = asyncio.ensure_future(s.api.snapshot(s.grant["grant_id"]))
        opened = await s.sim.next_message("session_open")
        await s.sim.accept_session(opened)
        await s.sim.send_frame(opened.session_id, tiny_jpeg(6))
        assert await again == tiny_jpeg(6)


async def test_installation_closes_after_start_without_a_frame(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        s = await granted(hub)
        taking = asyncio.ensure_future(error_of(s.api, s.grant["grant_id"]))
        opened = await s.sim.next_message("session_open")
        await s.sim.accept_session(opened)
        await s.sim.refuse_session(opened, "camera_unavailable")
        status, code, message = await taking
        assert (status, code) == (403, "snapshot_refused")
        # Started, then ended: the neutral "ended", never the installation's own words.
        assert "ended" in message and "camera_unavailable" not in message


async def test_timeout_when_no_frame_comes(tmp_path: Path) -> None:
    async with running_hub(tmp_path, snapshot_timeout_s=0.3) as hub:
        s = await granted(hub)
        taking = asyncio.ensure_future(error_of(s.api, s.grant["grant_id"]))
        silent = await s.sim.next_message("session_open")  # never answered
        status, code, _ = await taking
        assert (status, code) == (504, "installation_timeout")
        closed = await s.sim.next_message("session_close")
        assert closed.session_id == silent.session_id and closed.reason == "installation_timeout"

        # Started but no frame: the same bounded wait.
        taking = asyncio.ensure_future(error_of(s.api, s.grant["grant_id"]))
        await s.sim.accept_session(await s.sim.next_message("session_open"))
        assert (await taking)[:2] == (504, "installation_timeout")
        assert not hub.state.relay.sessions
        assert [e["detail"]["reason"] for e in await stop_entries(s)] == [
            "installation_timeout",
            "installation_timeout",
        ]


async def test_offline_installation(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        s = await granted(hub)
        await s.sim.close()
        async with asyncio.timeout(10):
            while hub.state.connections.get(s.sim.installation_id) is not None:
                await asyncio.sleep(0.01)
        status, code, _ = await error_of(s.api, s.grant["grant_id"])
        assert (status, code) == (409, "installation_offline")
        assert not hub.state.relay.sessions


async def test_disconnect_while_waiting(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        s = await granted(hub)
        taking = asyncio.ensure_future(error_of(s.api, s.grant["grant_id"]))
        await s.sim.next_message("session_open")
        await s.sim.close()
        assert (await taking)[:2] == (409, "installation_offline")


async def test_who_may_take_a_snapshot(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        s = await granted(hub)
        grant_id = s.grant["grant_id"]
        officer = hub.client(await hub.create_user(role="officer"))
        status, code, _ = await error_of(officer, grant_id)
        assert status == 403 and code != "snapshot_refused"
        other = hub.client(await hub.create_user(role="analyst"))
        assert (await error_of(other, grant_id))[:2] == (403, "not_your_grant")
        admin = hub.client(await hub.create_user(role="admin"))
        assert (await error_of(admin, grant_id))[:2] == (403, "not_your_grant")
        assert (await error_of(s.api, "0" * 32))[:2] == (404, "not_found")
        assert (await error_of(hub.client(), grant_id))[0] == 401
        # Nothing reached the installation for any of these.
        assert not [m for m in s.sim.messages if m.TYPE == "session_open"]


async def test_cookie_session_needs_csrf(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        s = await granted(hub)
        console, http = await hub.login(s.analyst)
        try:
            no_csrf = HubClient(http, hub.url, {})
            assert (await error_of(no_csrf, s.grant["grant_id"]))[0] == 403
            taking = asyncio.ensure_future(snapshot(console, s.grant["grant_id"]))
            opened = await s.sim.next_message("session_open")
            await s.sim.accept_session(opened)
            await s.sim.send_frame(opened.session_id, tiny_jpeg(5))
            status, _, body = await taking
            assert status == 200 and body == tiny_jpeg(5)
        finally:
            await http.close()


async def test_live_grant_is_not_a_snapshot_grant(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        s = await granted(hub, scope="live")
        assert (await error_of(s.api, s.grant["grant_id"]))[:2] == (403, "scope_not_granted")


async def test_revoked_grant(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        s = await granted(hub)
        grant_id = s.grant["grant_id"]

        # Revoked while the installation is taking the picture: refused, nothing relayed.
        taking = asyncio.ensure_future(error_of(s.api, grant_id))
        opened = await s.sim.next_message("session_open")
        await s.sim.accept_session(opened)
        await s.api.revoke_grant(grant_id)
        assert (await taking)[:2] == (403, "grant_revoked")
        await s.sim.send_frame(opened.session_id, tiny_jpeg(3))
        await s.sim.roundtrip()
        (stop,) = await stop_entries(s)
        assert stop["detail"]["reason"] == "revoked" and stop["detail"]["frames_relayed"] == 0

        # And afterwards the grant cannot be used at all.
        assert (await error_of(s.api, grant_id))[:2] == (403, "grant_revoked")
        assert [m.TYPE for m in s.sim.messages].count("session_open") == 1
