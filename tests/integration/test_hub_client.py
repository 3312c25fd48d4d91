"""The HA-free hub client against a fake hub that speaks the protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.connect_share import hub_client
from custom_components.connect_share.protocol import generate_private_key
from custom_components.connect_share.protocol.messages import AuthOk, CameraSync, Message

from .fake_hub import FakeHub

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    hub = FakeHub()
    await hub.start()
    yield hub
    await hub.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_hub_info_and_errors(hub: FakeHub, session: aiohttp.ClientSession) -> None:
    info = await hub_client.fetch_hub_info(session, hub.url + "/")
    assert info.hub_id == hub.hub_id
    with pytest.raises(hub_client.NotAHub):
        await hub_client.fetch_hub_info(session, hub.url + "/nothing")
    with pytest.raises(hub_client.CannotConnect):
        await hub_client.fetch_hub_info(session, "http://127.0.0.1:1")
    other = FakeHub(service="something-else")
    await other.start()
    try:
        with pytest.raises(hub_client.NotAHub):
            await hub_client.fetch_hub_info(session, other.url)
    finally:
        await other.stop()


async def test_enroll_codes(hub: FakeHub, session: aiohttp.ClientSession) -> None:
    key = generate_private_key()
    code = hub.new_code()
    enrollment = await hub_client.enroll(session, hub.url, code, key, "Home", "0.1")
    assert enrollment.hub_id == hub.hub_id
    assert enrollment.fingerprints() == sorted(hub.keyset.fingerprints().values())
    # Every attempt makes a fresh key (as the config flow does): a spent code is refused.
    with pytest.raises(hub_client.EnrollmentRefused) as err:
        await hub_client.enroll(session, hub.url, code, generate_private_key(), "Home", "0.1")
    assert err.value.code == "code_used"
    with pytest.raises(hub_client.EnrollmentRefused) as err:
        await hub_client.enroll(session, hub.url, "nope", generate_private_key(), "Home", "0.1")
    assert err.value.code == "invalid_code"
    # A key enrolled already is refused before the code is looked at (the code stays unspent).
    fresh = hub.new_code()
    with pytest.raises(hub_client.EnrollmentRefused) as err:
        await hub_client.enroll(session, hub.url, fresh, key, "Home", "0.1")
    assert err.value.code == "key_in_use"
    assert hub.codes[fresh] is False


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.connects = 0
        self.disconnects: list[str] = []
        self.fatal: list[str] = []
        self.event = asyncio.Event()

    async def on_message(self, msg: Message) -> None:
        self.messages.append(msg)
        self.event.set()

    async def on_connected(self, _ok: AuthOk) -> None:
        self.connects += 1
        self.event.set()

    def on_disconnected(self, reason: str) -> None:
        self.disconnects.append(reason)

    def on_fatal(self, code: str) -> None:
        self.fatal.append(code)
        self.event.set()

    async def until(self, pred) -> None:
        async with asyncio.timeout(10):
            while not pred():
                self.event.clear()
                await self.event.wait()


async def _connection(
    hub: FakeHub, session, rec: Recorder, key=None, installation_id=None, **kwargs
):
    key = key or generate_private_key()
    if installation_id is None:
        enrollment = await hub_client.enroll(session, hub.url, hub.new_code(), key, "Home", "0.1")
        installation_id = enrollment.installation_id
    conn = hub_client.HubConnection(
        session,
        hub.url,
        "/api/v1/installations/ws",
        installation_id,
        key,
        "0.1",
        on_message=rec.on_message,
        on_connected=rec.on_connected,
        on_disconnected=rec.on_disconnected,
        on_fatal=rec.on_fatal,
        backoff=lambda _attempt: 0.01,
        **kwargs,
    )
    conn.start()
    return conn


async def test_connect_dispatch_and_malformed(hub: FakeHub, session) -> None:
    rec = Recorder()
    conn = await _connection(hub, session, rec)
    try:
        await rec.until(lambda: rec.connects == 1)
        assert await conn.send(CameraSync(cameras=[]))
        await hub.wait_for("camera_sync")
        await hub.send('{"v": 1, "type": "access_request", "request_id": 5}')
        await hub.send("not json")
        err = await hub.wait_for("error")
        assert err.code == "bad_field"
        await hub.wait_for("error", lambda m: m.code == "bad_json")
        incident = hub.incident()
        await hub.send(hub.request(incident, ["camera.front"]))
        await rec.until(lambda: rec.messages)
        assert rec.messages[0].TYPE == "access_request"
        assert hub.connections == 1  # the socket survived the garbage
    finally:
        await conn.stop()


async def test_reconnects_after_drop(hub: FakeHub, session) -> None:
    rec = Recorder()
    conn = await _connection(hub, session, rec)
    try:
        await rec.until(lambda: rec.connects == 1)
        assert hub.ws is not None
        await hub.ws.close()
        await rec.until(lambda: rec.connects == 2)
        assert rec.disconnects
    finally:
        await conn.stop()


async def test_unknown_installation_is_fatal(hub: FakeHub, session) -> None:
    rec = Recorder()
    conn = await _connection(hub, session, rec, installation_id="inst-unknown")
    try:
        await rec.until(lambda: rec.fatal)
        assert rec.fatal == ["unknown_installation"]
        assert rec.connects == 0
    finally:
        await conn.stop()


def test_backoff_grows_and_is_capped() -> None:
    assert all(0 <= hub_client.backoff_delay(0) <= 1 for _ in range(50))
    assert max(hub_client.backoff_delay(30) for _ in range(200)) <= hub_client.BACKOFF_MAX_S
    assert max(hub_client.backoff_delay(5) for _ in range(200)) > 1


async def test_silent_hub_is_detected_and_replaced(hub: FakeHub, session) -> None:
    """Heartbeat: a link that carries nothing (not even pongs) is dropped and reopened."""
    rec = Recorder()
    hub.silent = True
    conn = await _connection(hub, session, rec, heartbeat_s=0.05, dead_after_s=0.3)
    try:
        await rec.until(lambda: rec.connects == 2)
        assert hub.pings >= 1
        assert "ConnectionError" in rec.disconnects
    finally:
        await conn.stop()
