"""Fault test (issue 10): the hub process is SIGKILLed while a decision, a revoke and a session
end are in flight. The resident's Home Assistant (the test plugin's real instance) keeps all
three in its durable outbox; after the hub comes back on the same database they arrive once,
and the hub's state and both audit logs agree, with no duplicate.

The hub runs as a real process (``connect-share-hub serve``) on a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from homeassistant.core import HomeAssistant

from custom_components.connect_share import hub_client
from custom_components.connect_share.audit_log import AuditLog
from custom_components.connect_share.const import DOMAIN
from tests.hub_harness import HubClient

from .conftest import camera_options, enroll, set_cameras, until
from .helpers import audit_actions

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras", "socket_enabled")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HubProcess:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = f"sqlite+aiosqlite:///{folder / 'hub.sqlite3'}"
        self.proc: asyncio.subprocess.Process | None = None
        self.env = {
            **os.environ,
            "CONNECT_SHARE_HUB_KEK_FILE": str(folder / "kek"),
            "TEST_PASSWORD": "correct horse battery staple",
        }

    async def cli(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub_server.cli", "--database-url", self.db, *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env,
        )  # fmt: skip
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        return out.decode()

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub_server.cli", "--database-url", self.db,
            "serve", "--host", "127.0.0.1", "--port", str(self.port),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=self.env,
        )  # fmt: skip
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(self.url + "/api/v1/hub") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the hub did not start")

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()


@asynccontextmanager
async def hub_process(folder: Path) -> AsyncIterator[HubProcess]:
    hub = HubProcess(folder)
    await hub.cli("migrate")
    try:
        yield hub
    finally:
        if hub.proc is not None and hub.proc.returncode is None:
            hub.proc.terminate()
            await hub.proc.wait()


async def test_hub_killed_with_a_decision_a_revoke_and_a_session_end_in_flight(
    hass: HomeAssistant, tmp_path: Path, config_dir: Path
) -> None:
    async with hub_process(tmp_path) as hub, aiohttp.ClientSession() as http:
        users = {}
        for name, role in (("dana", "analyst"), ("ada", "admin")):
            out = await hub.cli(
                "create-user", name, "--role", role, "--display-name", name.title(),
                "--badge", "4711", "--password-env", "TEST_PASSWORD", "--api-token",
            )  # fmt: skip
            users[role] = json.loads(out)["api_token"]
        code = json.loads(await hub.cli("enrollment-code"))["code"]
        await hub.start()
        api = HubClient(http, hub.url, {"Authorization": f"Bearer {users['analyst']}"})
        entry = await enroll(hass, hub.url, code)
        await set_cameras(
            hass, entry, {"camera.front": camera_options(), "camera.back": camera_options()}
        )
        inst = entry.runtime_data
        iid = entry.data["installation_id"]
        await until(lambda: inst.connection.is_connected, "connected")
        home = hass.config.latitude, hass.config.longitude

        # A live view runs under one incident; another incident waits for the resident.
        watched = await api.open_incident(*home, case_number="2026-1", reason="Break-in reported")
        await api.request_access(watched["incident_id"], [(iid, "camera.front")], scope="live")
        await until(lambda: len(inst.pending) == 1, "first request")
        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": next(iter(inst.pending))}, blocking=True
        )
        grant = await api.wait_for_grant(watched["incident_id"], "camera.front", scope="live")
        session = await api.open_session(grant["grant_id"], "camera.front", fps=5)
        async with api.mjpeg(session["session_id"]) as reader:
            assert await reader.next_frame() is not None
            waiting = await api.open_incident(*home, case_number="2026-2", reason="Robbery nearby")
            await api.request_access(waiting["incident_id"], [(iid, "camera.back")], scope="live")
            await until(lambda: len(inst.pending) == 1, "second request")
            request_id = next(iter(inst.pending))

            # The hub dies. The session ends here (its end is in flight), the resident
            # approves the waiting request and revokes the watched incident meanwhile.
            await hub.kill()
        await until(lambda: not inst.connection.is_connected, "hub gone")
        await until(lambda: not inst.sessions, "session ended locally")
        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": request_id}, blocking=True
        )
        await hass.services.async_call(
            DOMAIN, "revoke_grant", {"incident_id": watched["incident_id"]}, blocking=True
        )
        in_flight = sorted(m.TYPE for m in inst.ctx.outbox.pending)
        assert in_flight == ["decision", "revoke", "session_close"]

        # The hub comes back on the same database: everything arrives, once.
        await hub.start()
        await until(lambda: inst.connection.is_connected, "reconnected")
        await until(lambda: not inst.ctx.outbox.pending, "all acknowledged")
        back = await api.wait_for_grant(waiting["incident_id"], "camera.back", scope="live")
        assert back["revoked_at"] is None
        ended = await api.session(session["session_id"])
        assert ended["ended_at"] is not None
        status, _ = await api.call(
            "POST", "/api/v1/sessions",
            json={"grant_id": grant["grant_id"], "camera_id": "camera.front", "fps": 5},
        )  # fmt: skip
        assert status == 403  # the revoke made while the hub was dead took effect there

        # Once each at the hub, and both logs agree.
        auditor = HubClient(http, hub.url, {"Authorization": f"Bearer {users['admin']}"})
        hub_audit = await auditor.audit()

        def count(action: str, **detail: object) -> int:
            return len([
                e for e in hub_audit
                if e["action"] == action and all(e["detail"].get(k) == v for k, v in detail.items())
            ])  # fmt: skip

        assert count("request.answered", approved_camera_ids=["camera.back"]) == 1
        assert count("session.stop", session_id=session["session_id"]) == 1
        assert count("token.revoked", token_id=grant["grant_id"]) == 1
        before = inst.audit_check.get("checked")
        assert await inst.async_request_audit_check()
        await until(lambda: inst.audit_check.get("checked") != before, "cross-check")
        assert inst.audit_check["status"] == "ok", inst.audit_check
        verify = await hub.cli("verify-audit")
        assert "ok" in verify.lower(), verify
        assert audit_actions(entry).count("request_approved") == 2
        path = inst.audit.path
        assert await hass.config_entries.async_unload(entry.entry_id)
        assert AuditLog(path).load().ok
