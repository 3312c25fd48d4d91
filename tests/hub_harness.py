"""Run the real hub on 127.0.0.1 for tests: HTTP helpers and a simulated installation.

Usage (any async test; the hub, its database and every socket are closed on exit)::

    from tests.hub_harness import running_hub

    async def test_something(tmp_path):
        async with running_hub(tmp_path) as hub:          # fresh SQLite file in tmp_path
            code = await hub.new_enrollment_code()          # one-time enrollment code (str)
            officer = await hub.create_user(role="analyst") # HubUser: id, username, password,
                                                            #   role, token (bearer), badge...
            api = hub.client(officer)                       # HubClient with a bearer token
            inc = await api.open_incident(lat=33.75, lon=-84.39, radius_m=300)
            cams = await api.cameras_in_incident(inc["incident_id"])
            await api.request_access(inc["incident_id"], [(inst_id, "cam-1")], scope="live")
            grant = await api.wait_for_grant(inc["incident_id"], "cam-1", scope="live")
            session = await api.open_session(grant["grant_id"], "cam-1")
            frames = await api.read_mjpeg(session["session_id"], count=3)
            await api.close_session(session["session_id"])
            await api.revoke_grant(grant["grant_id"])
            entries = await api.audit()                     # needs supervisor/admin
            report = await hub.verify_audit()               # ChainReport(ok=..., entries=...)

``running_hub(tmp_path, database_url=None, **settings)``: ``database_url`` picks another
database (e.g. the PostgreSQL fixture's URL); other keyword arguments override
``hub_server.settings.Settings`` fields. ``hub.url`` is ``http://127.0.0.1:<port>``,
``hub.ws_url`` the installation WebSocket URL, ``hub.app`` the aiohttp application and
``hub.state`` the ``hub_server.state.Hub``. It re-enables socket creation, which the
Home Assistant test plugin blocks (like pytest-socket's ``socket_enabled`` fixture).

``await hub.simulated_installation(cameras=[...])`` enrolls a protocol-level installation
(its own Ed25519 key), connects over the real WebSocket, authenticates and syncs cameras
(``camera(...)`` builds one). It records every message; ``await sim.next_message("type")``
waits for one; ``sim.approve(req)`` / ``sim.decline(req)`` answer an ``access_request``;
``sim.accept_session(msg)`` answers ``session_open``; ``sim.send_frame(session_id, jpeg)``
sends media; ``sim.verify(token)`` checks a token with the pinned JWKS. With
``auto_approve=True`` it approves every request and starts every session by itself.

Every HubClient method raises ``HubApiError`` (status + JSON body) on an unexpected status;
``await api.call(method, path, json=...)`` returns ``(status, body)`` without raising.
Other HubClient helpers: ``request_live`` / ``request_snapshot`` / ``request_footage``
(window), ``incident(id)``, ``outcomes(id)`` (camera_id -> approved | pending | no_footage),
``session(id)``, ``mjpeg(id)`` (async context manager; ``await reader.next_frame()`` gives
JPEG bytes, or None once the session ended), ``snapshot(grant_id)`` (JPEG bytes; the
installation must answer its ``session_open``), ``revoke_incident(id)``, ``expect(status,
method, path, json)``. ``await hub.login(user)`` gives a cookie-session client (with its
CSRF header) and its ``aiohttp.ClientSession`` to close. ``tiny_jpeg(seed)`` makes a real
small JPEG. Live tokens are issued one per approved camera; ``grant["token"]`` is included
for the officer the grant names. ``await hub.expire_requests(installation_id=None)`` brings
pending requests to their deadline (the hub's sweep then lapses them) and
``await hub.wait_for_audit(action, count=1)`` polls the audit table for entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select, update

from connect_share_protocol import (
    KeySet,
    decode_message,
    encode_message,
    generate_private_key,
    public_key_to_b64,
    sign_auth_challenge,
    verify_token,
)
from connect_share_protocol.messages import (
    AccessRequest,
    Auth,
    CameraInfo,
    CameraSync,
    Decision,
    FrameHeader,
    Hello,
    Message,
    Ping,
    Pong,
    Revoke,
    SessionClose,
    SessionOpen,
    SessionStarted,
    pack_frame,
)
from connect_share_protocol.tokens import AccessGrant
from hub_server import audit, enrollment, users
from hub_server.app import create_app
from hub_server.models import AccessRequestRow, AuditEntry
from hub_server.settings import Settings
from hub_server.state import HUB, Hub

PASSWORD = "correct horse battery staple"


def tiny_jpeg(seed: int = 0) -> bytes:
    """A real, small JPEG (Pillow), different per seed; falls back to a JPEG-shaped blob."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is in the test extras
        return b"\xff\xd8\xff\xe0" + bytes([seed % 256]) * 64 + b"\xff\xd9"
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), ((seed * 40) % 256, 80, 160)).save(buf, "JPEG")
    return buf.getvalue()


def camera(
    camera_id: str,
    lat: float | None,
    lon: float | None,
    *,
    mode: str = "on_request",
    name: str | None = None,
    heading_deg: float | None = 90.0,
    fov_deg: float | None = 100.0,
    masked: bool = False,
    scopes: Iterable[str] = (),
) -> CameraInfo:
    return CameraInfo(
        camera_id=camera_id,
        name=name or camera_id,
        mode=mode,
        lat=lat,
        lon=lon,
        heading_deg=heading_deg,
        fov_deg=fov_deg,
        masked=masked,
        scopes=list(scopes),
    )


class HubApiError(AssertionError):
    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} -> {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class HubUser:
    id: str
    username: str
    password: str
    role: str
    token: str
    display_name: str
    badge: str


class HubClient:
    """Small async helpers over the hub's HTTP API for one user."""

    def __init__(self, http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        self.http = http
        self.url = url
        self.headers = headers

    async def call(
        self, method: str, path: str, json: Any = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        async with self.http.request(
            method, self.url + path, json=json, headers=headers, **kwargs
        ) as resp:
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = await resp.text()
            return resp.status, body

    async def expect(self, status: int, method: str, path: str, json: Any = None) -> Any:
        got, body = await self.call(method, path, json)
        if got != status:
            raise HubApiError(method, path, got, body)
        return body

    async def open_incident(
        self,
        lat: float,
        lon: float,
        radius_m: float = 300.0,
        *,
        case_number: str = "2026-000123",
        incident_type: str = "burglary",
        offense_code: str = "220",
        reason: str = "Break-in reported at the corner store",
        window: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "case_number": case_number,
            "incident_type": incident_type,
            "offense_code": offense_code,
            "reason": reason,
            "lat": lat,
            "lon": lon,
            "radius_m": radius_m,
        }
        if window:
            body["window_start"], body["window_end"] = window
        return (await self.expect(201, "POST", "/api/v1/incidents", body))["incident"]

    async def cameras_in_incident(self, incident_id: str) -> list[dict[str, Any]]:
        body = await self.expect(200, "GET", f"/api/v1/incidents/{incident_id}/cameras")
        return body["cameras"]

    async def request_access(
        self,
        incident_id: str,
        cameras: Iterable[tuple[str, str]],
        scope: str = "live",
        window: tuple[float, float] | None = None,
        *,
        legal_basis: str | None = None,
        warrant: tuple[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "scope": scope,
            "cameras": [{"installation_id": i, "camera_id": c} for i, c in cameras],
        }
        if legal_basis is not None:
            body["legal_basis"] = legal_basis
        if warrant is not None:
            body["warrant_ref"], body["warrant_court"] = warrant
        if window:
            body["window_start"], body["window_end"] = window
        path = f"/api/v1/incidents/{incident_id}/requests"
        return (await self.expect(201, "POST", path, body))["requests"]

    async def request_live(self, incident_id: str, cameras: Iterable[tuple[str, str]]) -> Any:
        return await self.request_access(incident_id, cameras, "live")

    async def request_snapshot(self, incident_id: str, cameras: Iterable[tuple[str, str]]) -> Any:
        return await self.request_access(incident_id, cameras, "snapshot")

    async def request_footage(
        self, incident_id: str, cameras: Iterable[tuple[str, str]], window: tuple[float, float]
    ) -> Any:
        return await self.request_access(incident_id, cameras, "clip", window)

    async def incident(self, incident_id: str) -> dict[str, Any]:
        return await self.expect(200, "GET", f"/api/v1/incidents/{incident_id}")

    async def wait_for_grant(
        self, incident_id: str, camera_id: str, scope: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll the incident until an active grant covers ``camera_id``."""
        async with asyncio.timeout(timeout):
            while True:
                for req in (await self.incident(incident_id))["requests"]:
                    for grant in req["grants"]:
                        if (
                            camera_id in grant["camera_ids"]
                            and grant["state"] == "active"
                            and (scope is None or grant["scope"] == scope)
                        ):
                            return grant
                await asyncio.sleep(0.05)

    async def outcomes(self, incident_id: str) -> dict[str, str]:
        """camera_id -> "approved" | "pending" | "no_footage" across the incident's requests."""
        result: dict[str, str] = {}
        for req in (await self.incident(incident_id))["requests"]:
            for cam in req["cameras"]:
                result[cam["camera_id"]] = cam["outcome"]
        return result

    async def open_session(self, grant_id: str, camera_id: str, fps: float = 5.0) -> dict:
        body = {"grant_id": grant_id, "camera_id": camera_id, "fps": fps}
        return await self.expect(201, "POST", "/api/v1/sessions", body)

    async def session(self, session_id: str) -> dict[str, Any]:
        return (await self.expect(200, "GET", f"/api/v1/sessions/{session_id}"))["session"]

    async def close_session(self, session_id: str) -> dict[str, Any]:
        return await self.expect(200, "POST", f"/api/v1/sessions/{session_id}/close")

    @asynccontextmanager
    async def mjpeg(self, session_id: str) -> AsyncIterator[MjpegReader]:
        """Open the MJPEG relay; ``await reader.next_frame()`` returns JPEG bytes or None."""
        path = f"/api/v1/sessions/{session_id}/stream"
        async with self.http.get(self.url + path, headers=self.headers) as resp:
            if resp.status != 200:
                raise HubApiError("GET", path, resp.status, await resp.text())
            yield MjpegReader(resp)

    async def read_mjpeg(self, session_id: str, count: int, timeout: float = 10.0) -> list[bytes]:
        frames: list[bytes] = []
        async with self.mjpeg(session_id) as reader, asyncio.timeout(timeout):
            while len(frames) < count:
                frame = await reader.next_frame()
                if frame is None:
                    break
                frames.append(frame)
        return frames

    async def snapshot(self, grant_id: str) -> bytes:
        """One JPEG under a snapshot grant (the installation must answer the session_open)."""
        path = f"/api/v1/grants/{grant_id}/snapshot"
        async with self.http.post(self.url + path, headers=self.headers) as resp:
            if resp.status != 200:
                raise HubApiError("POST", path, resp.status, await resp.text())
            return await resp.read()

    async def revoke_grant(self, grant_id: str, reason: str = "test") -> list[str]:
        path = f"/api/v1/grants/{grant_id}/revoke"
        return (await self.expect(200, "POST", path, {"reason": reason}))["revoked"]

    async def revoke_incident(self, incident_id: str, reason: str = "test") -> list[str]:
        path = f"/api/v1/incidents/{incident_id}/revoke"
        return (await self.expect(200, "POST", path, {"reason": reason}))["revoked"]

    async def audit(self, **filters: Any) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        body = await self.expect(200, "GET", "/api/v1/audit" + (f"?{query}" if query else ""))
        return body["entries"]


class MjpegReader:
    """Parses ``multipart/x-mixed-replace`` parts (each with Content-Length)."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.resp = resp
        self.content_type = resp.headers.get("Content-Type", "")

    async def next_frame(self) -> bytes | None:
        stream = self.resp.content
        while True:
            line = await stream.readline()
            if not line:
                return None
            line = line.strip()
            if line.endswith(b"--") and line.startswith(b"--"):
                return None  # closing boundary: the session ended
            if line.startswith(b"--"):
                break
        length = None
        while True:
            header = (await stream.readline()).strip()
            if not header:
                break
            name, _, value = header.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length is None:
            return None
        data = await stream.readexactly(length)
        await stream.readline()
        return data


@dataclass
class SimulatedInstallation:
    """A protocol-level installation: enrolls, authenticates, answers, sends frames."""

    hub: HubHarness
    name: str
    cameras: list[CameraInfo]
    auto_approve: bool = False
    key: Any = field(default_factory=generate_private_key)
    installation_id: str = ""
    jwks: dict[str, Any] = field(default_factory=dict)
    issuer: str = ""
    ws: aiohttp.ClientWebSocketResponse | None = None
    messages: list[Message] = field(default_factory=list)
    _queue: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    _reader: asyncio.Task[None] | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def enroll(self, code: str | None = None) -> None:
        code = code or await self.hub.new_enrollment_code()
        async with self.hub.http.post(
            self.hub.url + "/api/v1/installations/enroll",
            json={
                "code": code,
                "public_key": public_key_to_b64(self.key.public_key()),
                "name": self.name,
                "client_version": "sim-1",
            },
        ) as resp:
            body = await resp.json()
            if resp.status != 201:
                raise HubApiError("POST", "/api/v1/installations/enroll", resp.status, body)
        self.installation_id = body["installation_id"]
        self.jwks = body["jwks"]
        self.issuer = body["issuer"]

    async def connect(self, *, sync: bool = True) -> None:
        """Open the WebSocket, do hello/challenge/auth, start reading, sync cameras."""
        self.ws = await self.hub.http.ws_connect(self.hub.ws_url, heartbeat=None)
        await self.send(Hello(installation_id=self.installation_id, client_version="sim-1"))
        challenge = decode_message((await self.ws.receive(timeout=10)).data)
        assert challenge.TYPE == "challenge", challenge
        signature = sign_auth_challenge(self.key, self.installation_id, challenge.nonce)  # type: ignore[attr-defined]
        await self.send(
            Auth(
                installation_id=self.installation_id,
                nonce=challenge.nonce,  # type: ignore[attr-defined]
                signature=signature,
            )
        )
        ok = decode_message((await self.ws.receive(timeout=10)).data)
        assert ok.TYPE == "auth_ok", ok
        self.jwks = ok.jwks  # type: ignore[attr-defined]
        self._reader = asyncio.get_running_loop().create_task(self._read())
        if sync:
            await self.sync()

    async def sync(self, cameras: list[CameraInfo] | None = None) -> None:
        if cameras is not None:
            self.cameras = cameras
        await self.send(CameraSync(cameras=self.cameras))
        # A ping round trip proves the hub processed the sync (messages are handled in order).
        await self.roundtrip()

    async def roundtrip(self) -> None:
        ts = time.time()
        await self.send(Ping(ts=ts))
        while True:
            msg = await self.next_message("pong")
            if msg.ts == ts:  # type: ignore[attr-defined]
                return

    async def send(self, msg: Message) -> None:
        assert self.ws is not None
        await self.ws.send_str(encode_message(msg))

    async def send_raw(self, data: str | bytes) -> None:
        assert self.ws is not None
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    async def _read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            if raw.type != aiohttp.WSMsgType.TEXT:
                continue
            msg = decode_message(raw.data)
            self.messages.append(msg)
            if isinstance(msg, Ping):
                await self.send(Pong(ts=msg.ts))
                continue
            if self.auto_approve and isinstance(msg, AccessRequest):
                self._spawn(self.approve(msg))
            elif self.auto_approve and isinstance(msg, SessionOpen):
                self._spawn(self.accept_session(msg))
            self._queue.put_nowait(msg)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def next_message(self, msg_type: str | None = None, timeout: float = 10.0) -> Any:
        """The next received message (of ``msg_type``), skipping others."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self._queue.get()
                if msg_type in (None, msg.TYPE):
                    return msg

    async def approve(
        self,
        request: AccessRequest,
        camera_ids: list[str] | None = None,
        max_session_s: int = 900,
        max_fps: float = 5.0,
    ) -> None:
        await self.send(
            Decision(
                request_id=request.request_id,
                approved_camera_ids=list(request.camera_ids if camera_ids is None else camera_ids),
                max_session_s=max_session_s,
                max_fps=max_fps,
            )
        )

    async def decline(self, request: AccessRequest) -> None:
        """What an old installation sent for a decline (the hub treats it as no answer)."""
        await self.send(Decision(request_id=request.request_id, approved_camera_ids=[]))

    def verify(self, token: str) -> AccessGrant:
        return verify_token(
            token,
            KeySet.from_jwks(self.jwks),
            installation_id=self.installation_id,
            issuer=self.issuer or None,
        )

    async def accept_session(self, msg: SessionOpen, fps: float | None = None) -> None:
        self.verify(msg.token).require(msg.camera_id, msg.scope)
        await self.send(SessionStarted(session_id=msg.session_id, fps=fps or msg.fps))

    async def refuse_session(self, msg: SessionOpen, reason: str = "paused") -> None:
        await self.send(SessionClose(session_id=msg.session_id, reason=reason))

    async def send_frame(self, session_id: str, jpeg: bytes | None = None, seq: int = 0) -> None:
        assert self.ws is not None
        header = FrameHeader(session_id=session_id, seq=seq, captured_ms=int(time.time() * 1000))
        await self.ws.send_bytes(pack_frame(header, jpeg if jpeg is not None else tiny_jpeg(seq)))

    async def revoke(self, token_ids: list[str] | None = None, *, all: bool = False) -> None:
        await self.send(Revoke(reason="resident", token_ids=token_ids or [], all=all))
        await self.roundtrip()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


@dataclass
class HubHarness:
    url: str
    app: web.Application
    http: aiohttp.ClientSession
    installations: list[SimulatedInstallation] = field(default_factory=list)

    @property
    def state(self) -> Hub:
        return self.app[HUB]

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/v1/installations/ws"

    async def new_enrollment_code(self, ttl_s: int = 3600) -> str:
        db = self.state.db
        async with db.write() as session:
            code, _ = await enrollment.create_code(db, session, ttl_s=ttl_s, created_by=None)
        return code

    async def create_user(
        self,
        role: str = "officer",
        username: str | None = None,
        password: str = PASSWORD,
        display_name: str | None = None,
        badge: str | None = None,
    ) -> HubUser:
        username = username or f"{role}-{uuid.uuid4().hex[:8]}"
        db = self.state.db
        async with db.write() as session:
            user = await users.create_user(
                db,
                session,
                username=username,
                password=password,
                role=role,
                display_name=display_name or f"Test {role.title()}",
                badge=badge or str(1000 + len(username)),
            )
            token = await users.create_api_token(db, session, user, name="test", ttl_days=1)
        return HubUser(user.id, username, password, role, token, user.display_name, user.badge)

    def client(self, user: HubUser | None = None) -> HubClient:
        headers = {"Authorization": f"Bearer {user.token}"} if user else {}
        return HubClient(self.http, self.url, headers)

    async def login(self, user: HubUser) -> tuple[HubClient, aiohttp.ClientSession]:
        """A cookie-session client (like the console). Close the returned session yourself."""
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for a bare IP address
        http = aiohttp.ClientSession(cookie_jar=jar)
        async with http.post(
            self.url + "/api/v1/auth/login",
            json={"username": user.username, "password": user.password},
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                await http.close()
                raise HubApiError("POST", "/api/v1/auth/login", resp.status, body)
        return HubClient(http, self.url, {"X-CSRF-Token": body["csrf_token"]}), http

    async def simulated_installation(
        self,
        cameras: list[CameraInfo] | None = None,
        *,
        name: str = "Sim house",
        auto_approve: bool = False,
        connect: bool = True,
    ) -> SimulatedInstallation:
        sim = SimulatedInstallation(self, name, cameras or [], auto_approve=auto_approve)
        self.installations.append(sim)
        await sim.enroll()
        if connect:
            await sim.connect()
        return sim

    async def verify_audit(self) -> audit.ChainReport:
        return await audit.verify_chain(self.state.db)

    async def expire_requests(self, installation_id: str | None = None) -> None:
        """Bring the deadline of pending requests (of one installation) to now, as if
        ``live_request_ttl_s`` / ``footage_request_ttl_s`` had passed; the hub's sweep
        (every ``request_sweep_s``) then closes them."""
        query = update(AccessRequestRow).where(AccessRequestRow.status == "pending")
        if installation_id is not None:
            query = query.where(AccessRequestRow.installation_id == installation_id)
        async with self.state.db.write() as session:
            await session.execute(query.values(expires_at=time.time()))

    async def wait_for_audit(self, action: str, count: int = 1, timeout: float = 15.0) -> list:
        """Poll the audit table until ``count`` entries with ``action`` exist; returns them."""
        async with asyncio.timeout(timeout):
            while True:
                async with self.state.db.read() as session:
                    rows = (
                        await session.scalars(
                            select(AuditEntry)
                            .where(AuditEntry.action == action)
                            .order_by(AuditEntry.seq)
                        )
                    ).all()
                if len(rows) >= count:
                    return [audit.entry_to_json(r) for r in rows]
                await asyncio.sleep(0.05)


@asynccontextmanager
async def running_hub(
    tmp_path: Path, *, database_url: str | None = None, **settings: Any
) -> AsyncIterator[HubHarness]:
    """Start the real hub app on 127.0.0.1 (free port) with a fresh SQLite file."""
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    _allow_local_sockets()
    settings.setdefault("kek_file", str(tmp_path / "hub.kek"))
    app = create_app(Settings(database_url=url, **settings))
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    http: aiohttp.ClientSession | None = None
    harness: HubHarness | None = None
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        http = aiohttp.ClientSession()
        harness = HubHarness(f"http://127.0.0.1:{port}", app, http)
        yield harness
    finally:
        if harness is not None:
            for sim in harness.installations:
                await sim.close()
        if http is not None:
            await http.close()
        await runner.cleanup()


def _allow_local_sockets() -> None:
    """The Home Assistant test plugin blocks socket creation; the hub needs 127.0.0.1.

    Same effect as requesting pytest-socket's ``socket_enabled`` fixture; connections stay
    limited to 127.0.0.1 by the plugin's host allow-list.
    """
    try:
        import pytest_socket
    except ImportError:  # pragma: no cover - outside the test environment
        return
    pytest_socket.enable_socket()
