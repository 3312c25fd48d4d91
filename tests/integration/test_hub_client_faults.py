"""The hub client against hubs that misbehave: answers that are not a Connect Share hub,
refusals and garbage during the handshake, pings, pongs and binary frames from the hub, a
callback bug, and a hub that disappears while connected and comes back on the same port.

Each hub here is a real aiohttp server on 127.0.0.1 whose socket follows a script, one per
connection, so every case is deterministic (no timing asserted)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web

from custom_components.connect_share import hub_client
from custom_components.connect_share.protocol import (
    decode_message,
    encode_message,
    generate_private_key,
    verify_auth_challenge,
)
from custom_components.connect_share.protocol.messages import (
    Ack,
    Auth,
    AuthOk,
    Challenge,
    Error,
    Hello,
    Message,
    Ping,
    Pong,
)

from .fake_hub import FakeHub

pytestmark = pytest.mark.usefixtures("socket_enabled")

INSTALLATION = "inst-faults"
KEY = generate_private_key()

Script = Callable[["ScriptedHub", web.WebSocketResponse], Awaitable[None]]


class ScriptedHub:
    """HTTP answers set per path; the socket runs ``scripts[n]`` for the n-th connection
    (the last script for any later one)."""

    def __init__(self) -> None:
        self.http: dict[str, Callable[[], web.Response]] = {}
        self.scripts: list[Script] = []
        self.connections = 0
        self.received: list[Message | bytes] = []
        self.changed = asyncio.Condition()
        self.runner: web.AppRunner | None = None
        self.open: list[web.Request] = []
        self.url = ""

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/api/v1/installations/ws", self._ws)
        app.router.add_route("*", "/{tail:.*}", self._http)
        self.runner = web.AppRunner(app, shutdown_timeout=1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Gone as a crashed process is: connections cut without a close frame."""
        for request in self.open:
            if request.transport is not None:
                request.transport.abort()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def _http(self, request: web.Request) -> web.Response:
        answer = self.http.get(request.path)
        return answer() if answer else web.Response(status=404)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        index = self.connections
        self.connections += 1
        self.open.append(request)
        await self._notify()
        try:
            await self.scripts[min(index, len(self.scripts) - 1)](self, ws)
        finally:
            self.open.remove(request)
            await ws.close()
        return ws

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def receive(self, ws: web.WebSocketResponse) -> Message | bytes | None:
        """The next frame from the installation (None once the socket is closed)."""
        raw = await ws.receive()
        if raw.type == WSMsgType.BINARY:
            item: Message | bytes = raw.data
        elif raw.type == WSMsgType.TEXT:
            item = decode_message(raw.data)
        else:
            return None
        self.received.append(item)
        await self._notify()
        return item

    async def wait_for(self, pred: Callable[[Any], bool]) -> Any:
        async with asyncio.timeout(10), self.changed:
            while True:
                for item in self.received:
                    if pred(item):
                        return item
                await self.changed.wait()

    async def wait_connections(self, n: int) -> None:
        async with asyncio.timeout(10), self.changed:
            while self.connections < n:
                await self.changed.wait()


async def send(ws: web.WebSocketResponse, msg: Message) -> None:
    await ws.send_str(encode_message(msg))


async def challenge(hub: ScriptedHub, ws: web.WebSocketResponse) -> str:
    hello = await hub.receive(ws)
    assert isinstance(hello, Hello) and hello.installation_id == INSTALLATION
    nonce = secrets.token_urlsafe(16)
    await send(ws, Challenge(nonce=nonce, hub_time=time.time()))
    return nonce


async def handshake(hub: ScriptedHub, ws: web.WebSocketResponse) -> None:
    nonce = await challenge(hub, ws)
    auth = await hub.receive(ws)
    assert isinstance(auth, Auth)
    assert verify_auth_challenge(KEY.public_key(), INSTALLATION, nonce, auth.signature)
    await send(ws, AuthOk(installation_id=INSTALLATION, hub_time=time.time(), jwks={"keys": []}))


async def serve(hub: ScriptedHub, ws: web.WebSocketResponse) -> None:
    """Authenticate and keep the link until the installation closes it."""
    await handshake(hub, ws)
    while await hub.receive(ws) is not None:
        pass


class Recorder:
    def __init__(self, *, fail_first_connect: bool = False) -> None:
        self.messages: list[Message] = []
        self.connects = 0
        self.disconnects: list[str] = []
        self.fatal: list[str] = []
        self.fail_first_connect = fail_first_connect
        self.event = asyncio.Event()

    async def on_message(self, msg: Message) -> None:
        self.messages.append(msg)
        self.event.set()

    async def on_connected(self, _ok: AuthOk) -> None:
        self.connects += 1
        self.event.set()
        if self.fail_first_connect and self.connects == 1:
            raise RuntimeError("a bug in the connect handler")

    def on_disconnected(self, reason: str) -> None:
        self.disconnects.append(reason)
        self.event.set()

    def on_fatal(self, code: str) -> None:
        self.fatal.append(code)
        self.event.set()

    async def until(self, pred: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not pred():
                self.event.clear()
                await self.event.wait()


@pytest.fixture
async def hub() -> AsyncIterator[ScriptedHub]:
    hub = ScriptedHub()
    await hub.start()
    yield hub
    await hub.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def connection(
    hub: ScriptedHub, session: aiohttp.ClientSession, rec: Recorder
) -> hub_client.HubConnection:
    conn = hub_client.HubConnection(
        session,
        hub.url,
        "api/v1/installations/ws",  # without the leading slash: joined all the same
        INSTALLATION,
        KEY,
        "0.1",
        on_message=rec.on_message,
        on_connected=rec.on_connected,
        on_disconnected=rec.on_disconnected,
        on_fatal=rec.on_fatal,
        backoff=lambda _attempt: 0.01,
    )
    conn.start()
    return conn


def test_only_https_or_this_machine() -> None:
    assert hub_client.check_hub_url(" https://hub.city.gov/ ") == "https://hub.city.gov"
    assert hub_client.check_hub_url("http://localhost:8080") == "http://localhost:8080"
    assert hub_client.check_hub_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert hub_client.check_hub_url("http://[::1]:8080") == "http://[::1]:8080"
    for url in ("http://hub.city.gov", "http://192.168.1.5", "ftp://127.0.0.1", "hub.city.gov"):
        with pytest.raises(hub_client.InsecureUrl):
            hub_client.check_hub_url(url)


async def test_answers_that_are_not_a_hub(hub: ScriptedHub, session: aiohttp.ClientSession) -> None:
    """What the config flow turns into "not a Connect Share hub" / "cannot connect"."""
    info = "/api/v1/hub"
    hub.http[info] = lambda: web.Response(text="<html>router login</html>")
    with pytest.raises(hub_client.NotAHub, match="not JSON"):
        await hub_client.fetch_hub_info(session, hub.url)
    hub.http[info] = lambda: web.json_response({"service": hub_client.HUB_SERVICE})
    with pytest.raises(hub_client.NotAHub, match="no hub_id"):
        await hub_client.fetch_hub_info(session, hub.url)
    hub.http[info] = lambda: web.json_response(
        {"service": hub_client.HUB_SERVICE, "hub_id": "hub-1"}
    )
    found = await hub_client.fetch_hub_info(session, hub.url)
    assert (found.hub_id, found.name, found.version) == ("hub-1", "hub-1", "")
    with pytest.raises(hub_client.CannotConnect, match="invalid URL"):
        await hub_client.fetch_hub_info(session, "not a url")

    jwks = "/.well-known/jwks.json"
    with pytest.raises(hub_client.NotAHub, match="jwks HTTP 404"):
        await hub_client.fetch_jwks(session, hub.url)
    hub.http[jwks] = lambda: web.Response(text="{{")
    with pytest.raises(hub_client.NotAHub, match="jwks not JSON"):
        await hub_client.fetch_jwks(session, hub.url)
    hub.http[jwks] = lambda: web.json_response({"keys": [{"kty": "RSA", "n": "x", "e": "y"}]})
    with pytest.raises(hub_client.NotAHub, match="bad jwks"):
        await hub_client.fetch_jwks(session, hub.url)
    with pytest.raises(hub_client.CannotConnect):
        await hub_client.fetch_jwks(session, "http://127.0.0.1:1")

    enroll = "/api/v1/installations/enroll"

    async def enroll_with(answer: Callable[[], web.Response]) -> hub_client.Enrollment:
        hub.http[enroll] = answer
        return await hub_client.enroll(
            session, hub.url, " code ", generate_private_key(), "Home", "0.1"
        )

    with pytest.raises(hub_client.EnrollmentRefused) as refused:
        await enroll_with(lambda: web.json_response({"error": "key_in_use"}, status=409))
    assert refused.value.code == "key_in_use"
    # An unknown refusal reason reads as an invalid code, not as something else.
    with pytest.raises(hub_client.EnrollmentRefused) as refused:
        await enroll_with(lambda: web.json_response({"error": "??"}, status=403))
    assert refused.value.code == "invalid_code"
    with pytest.raises(hub_client.NotAHub, match="HTTP 500"):
        await enroll_with(lambda: web.Response(text="Internal Server Error", status=500))
    good = {
        "installation_id": "inst-1",
        "hub_id": "hub-1",
        "issuer": "https://hub.test",
        "jwks": FakeHub().keyset.to_jwks(),
        "ws_path": "/api/v1/installations/ws",
    }
    for broken in (
        {k: v for k, v in good.items() if k != "jwks"},
        {**good, "installation_id": ""},
        {**good, "hub_id": 7},
        {**good, "jwks": {"keys": "none"}},
    ):
        with pytest.raises(hub_client.NotAHub, match="bad enrollment answer"):
            await enroll_with(lambda b=broken: web.json_response(b, status=201))  # type: ignore[misc]
    enrolled = await enroll_with(lambda: web.json_response(good, status=201))
    assert enrolled.installation_id == "inst-1" and len(enrolled.fingerprints()) == 1
    with pytest.raises(hub_client.CannotConnect):
        await hub_client.enroll(
            session, "http://127.0.0.1:1", "c", generate_private_key(), "H", "0"
        )


async def test_refusals_and_garbage_in_the_handshake_then_connected(
    hub: ScriptedHub, session: aiohttp.ClientSession
) -> None:
    async def busy(hub: ScriptedHub, ws: web.WebSocketResponse) -> None:
        await hub.receive(ws)  # hello
        await send(ws, Error(code="hub_starting"))

    async def pong_instead_of_challenge(hub: ScriptedHub, ws: web.WebSocketResponse) -> None:
        await hub.receive(ws)
        await send(ws, Pong(ts=1.0))

    async def binary_then_no_auth_ok(hub: ScriptedHub, ws: web.WebSocketResponse) -> None:
        await hub.receive(ws)
        await ws.send_bytes(b"\x00garbage")  # answered with an error, the handshake goes on
        nonce = secrets.token_urlsafe(16)
        await send(ws, Challenge(nonce=nonce, hub_time=time.time()))
        while not isinstance(await hub.receive(ws), Auth):
            pass
        await send(ws, Challenge(nonce=nonce, hub_time=time.time()))

    hub.scripts = [busy, pong_instead_of_challenge, binary_then_no_auth_ok, serve]
    rec = Recorder()
    conn = connection(hub, session, rec)
    try:
        await rec.until(lambda: rec.connects == 1)
        # A refusal that is not about this installation is retried, never fatal.
        assert rec.disconnects == ["hub_starting", "protocol:unexpected", "protocol:unexpected"]
        assert rec.fatal == [] and hub.connections == 4
        error = await hub.wait_for(lambda m: isinstance(m, Error))
        assert error.code == "bad_message" and "binary" in error.message
        assert conn.is_connected and conn.last_error is None
        assert conn.failures == 0 and conn.attempt == 0 and conn.connected_since is not None
    finally:
        await conn.stop()
    assert not conn.is_connected and conn.stopped
    assert not await conn.send(Pong(ts=1.0))
    assert not await conn.send_bytes(b"frame")


@pytest.mark.parametrize("code", ["bad_signature", "installation_removed"])
async def test_auth_refusal_about_this_installation_is_fatal(
    hub: ScriptedHub, session: aiohttp.ClientSession, code: str
) -> None:
    async def refuse(hub: ScriptedHub, ws: web.WebSocketResponse) -> None:
        await challenge(hub, ws)
        await hub.receive(ws)  # the signed answer
        await send(ws, Error(code=code))

    hub.scripts = [refuse]
    rec = Recorder()
    conn = connection(hub, session, rec)
    try:
        await rec.until(lambda: rec.fatal)
        assert rec.fatal == [code] and rec.connects == 0
        assert conn.last_error == code
        # No retry: the hub does not know this installation any more.
        assert conn._task is not None
        await conn._task
        assert hub.connections == 1
    finally:
        await conn.stop()


async def test_link_survives_pings_pongs_binary_and_a_callback_bug(
    hub: ScriptedHub, session: aiohttp.ClientSession
) -> None:
    leave = asyncio.Event()

    async def talk(hub: ScriptedHub, ws: web.WebSocketResponse) -> None:
        await handshake(hub, ws)
        await send(ws, Ping(ts=123.5))
        await send(ws, Pong(ts=1.0))
        await ws.send_bytes(b"\xff\xd8 media from the hub?")
        await send(ws, Ack(msg_id="m-1"))
        while not leave.is_set():
            if await hub.receive(ws) is None:
                return
        # ... and then the hub goes away mid-stream (the socket is closed by the hub).

    # 1st link: the connect handler has a bug -> reconnect. 2nd: pings, pongs, binary.
    hub.scripts = [serve, talk, serve]
    rec = Recorder(fail_first_connect=True)
    conn = connection(hub, session, rec)
    try:
        await rec.until(lambda: rec.messages)
        assert rec.disconnects == ["internal_error"]
        # The hub's ping is answered with its own ts; its pong and the binary are not
        # handed on; the binary is answered with an error; the ack is delivered.
        pong = await hub.wait_for(lambda m: isinstance(m, Pong))
        assert pong.ts == 123.5
        error = await hub.wait_for(lambda m: isinstance(m, Error))
        assert error.code == "bad_message"
        assert [m.TYPE for m in rec.messages] == ["ack"]
        assert conn.is_connected and rec.connects == 2

        # The hub drops the link: reported, and the installation is back on a new socket.
        leave.set()
        assert await conn.send(Ack(msg_id="wake"))  # makes the talking hub read, then leave
        await rec.until(lambda: rec.connects == 3)
        assert rec.disconnects == ["internal_error", "ConnectionError"]

        # A key change asks for a new link: the run loop opens it.
        await conn.reconnect()
        await rec.until(lambda: rec.connects == 4)
        assert hub.connections == 4
    finally:
        await conn.stop()


async def test_hub_that_disappears_and_comes_back(
    hub: ScriptedHub, session: aiohttp.ClientSession
) -> None:
    hub.scripts = [serve]
    rec = Recorder()
    conn = connection(hub, session, rec)
    try:
        await rec.until(lambda: rec.connects == 1)
        port = int(hub.url.rsplit(":", 1)[1])
        await hub.stop()  # the whole hub is gone, not just the socket
        await rec.until(lambda: conn.failures >= 2)
        assert not conn.is_connected and conn.last_error == "cannot_connect"
        assert not await conn.send(Ack(msg_id="while-down"))
        assert not await conn.send_bytes(b"frame")
        await hub.start(port)
        await rec.until(lambda: rec.connects == 2)
        assert conn.failures == 0 and conn.last_error is None
        assert rec.fatal == []
    finally:
        await conn.stop()
