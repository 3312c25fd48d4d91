"""A small hub that speaks the installation protocol, for the integration's own tests.

It follows docs/architecture.md and uses the shared protocol package, so the integration is
tested against the contract even before (and independently of) the real hub server.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from custom_components.connect_share.protocol import (
    KeySet,
    decode_message,
    encode_message,
    generate_private_key,
    issue_token,
    public_key_from_b64,
    public_key_to_b64,
    verify_auth_challenge,
)
from custom_components.connect_share.protocol.errors import ProtocolError
from custom_components.connect_share.protocol.keys import HubKey, key_id
from custom_components.connect_share.protocol.messages import (
    AccessRequest,
    Ack,
    AuditEntries,
    AuditFetch,
    AuthOk,
    Challenge,
    Error,
    Grant,
    IncidentInfo,
    Message,
    Ping,
    Pong,
)
from custom_components.connect_share.protocol.tokens import new_claims


class FakeHub:
    def __init__(self, *, service: str = "connect-share-hub") -> None:
        self.service = service
        self.hub_id = "hub-" + uuid.uuid4().hex[:8]
        self.issuer = "https://hub.test"
        self.key = generate_private_key()
        self.kid = key_id(self.key.public_key())
        self.extra_keys: list[Any] = []
        self.codes: dict[str, bool] = {}
        self.expired_codes: set[str] = set()
        self.auto_ack = True
        self.msg_ids_seen: list[str] = []
        self.installations: dict[str, Any] = {}
        self.received: list[Message] = []
        self.errors_received: list[Error] = []
        self.binary_frames: list[bytes] = []
        self.audit: list[dict[str, Any]] = []
        self.ws: web.WebSocketResponse | None = None
        self.connections = 0
        self.authenticated = asyncio.Event()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.drop_next_auth = False
        self.silent = False  # stop answering pings (a half-dead link)
        self.pings = 0
        # The JWKS the enroll answer carries when it is not the one /.well-known serves
        # (keys swapped between the fingerprint check and the enrollment).
        self.enroll_jwks: dict[str, Any] | None = None

    @property
    def keyset(self) -> KeySet:
        extra = [HubKey(key_id(k.public_key()), k.public_key()) for k in self.extra_keys]
        return KeySet([HubKey(self.kid, self.key.public_key()), *extra])

    def rotate(self) -> None:
        """Sign with a new key from now on; the old one stays in the JWKS."""
        self.extra_keys.append(self.key)
        self.key = generate_private_key()
        self.kid = key_id(self.key.public_key())

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (``port`` 0: any free port; the same port to come back)."""
        app = web.Application()
        app.router.add_get("/api/v1/hub", self._hub_info)
        app.router.add_get("/.well-known/jwks.json", self._jwks)
        app.router.add_post("/api/v1/installations/enroll", self._enroll)
        app.router.add_get("/api/v1/installations/ws", self._ws)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self) -> None:
        """Back on the same port (the installation reconnects with its backoff)."""
        await self.start(int(self.url.rsplit(":", 1)[1]))

    def new_code(self) -> str:
        code = secrets.token_hex(4)
        self.codes[code] = False
        return code

    # --- HTTP --------------------------------------------------------------------------

    async def _hub_info(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"service": self.service, "version": "test", "hub_id": self.hub_id, "name": "Test hub"}
        )

    async def _jwks(self, _request: web.Request) -> web.Response:
        return web.json_response(self.keyset.to_jwks())

    async def _enroll(self, request: web.Request) -> web.Response:
        body = await request.json()
        code = body.get("code")
        # As the real hub (hub_server/enrollment.py): a public key enrolled already is
        # refused with 409 before the code is looked at, so the code is not spent.
        if any(public_key_to_b64(k) == body.get("public_key") for k in self.installations.values()):
            return web.json_response({"error": "key_in_use"}, status=409)
        if code in self.expired_codes:
            return web.json_response({"error": "code_expired"}, status=403)
        if code not in self.codes:
            return web.json_response({"error": "invalid_code"}, status=403)
        if self.codes[code]:
            return web.json_response({"error": "code_used"}, status=403)
        self.codes[code] = True
        installation_id = "inst-" + uuid.uuid4().hex[:12]
        self.installations[installation_id] = public_key_from_b64(body["public_key"])
        return web.json_response(
            {
                "installation_id": installation_id,
                "hub_id": self.hub_id,
                "issuer": self.issuer,
                "jwks": self.enroll_jwks or self.keyset.to_jwks(),
                "ws_path": "/api/v1/installations/ws",
            },
            status=201,
        )

    # --- WebSocket ---------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        try:
            hello = decode_message((await ws.receive()).data)
            installation_id = getattr(hello, "installation_id", "")
            nonce = secrets.token_urlsafe(16)
            await ws.send_str(encode_message(Challenge(nonce=nonce, hub_time=time.time())))
            auth = decode_message((await ws.receive()).data)
            public_key = self.installations.get(installation_id)
            if public_key is None or self.drop_next_auth:
                self.drop_next_auth = False
                await ws.send_str(encode_message(Error(code="unknown_installation")))
                await ws.close()
                return ws
            if not verify_auth_challenge(
                public_key, installation_id, nonce, getattr(auth, "signature", "")
            ):
                await ws.send_str(encode_message(Error(code="bad_signature")))
                await ws.close()
                return ws
            await ws.send_str(
                encode_message(
                    AuthOk(
                        installation_id=installation_id,
                        hub_time=time.time(),
                        jwks=self.keyset.to_jwks(),
                    )
                )
            )
            self.ws = ws
            self.installation_id = installation_id
            self.authenticated.set()
            async for raw in ws:
                if raw.type == WSMsgType.BINARY:
                    self.binary_frames.append(raw.data)
                    await self._notify()
                    continue
                if raw.type != WSMsgType.TEXT:
                    break
                try:
                    msg = decode_message(raw.data)
                except ProtocolError:
                    continue
                if isinstance(msg, Ping):
                    self.pings += 1
                    if not self.silent:
                        await ws.send_str(encode_message(Pong(ts=msg.ts)))
                    continue
                if isinstance(msg, AuditFetch):
                    await ws.send_str(encode_message(AuditEntries(entries=list(self.audit))))
                if isinstance(msg, Error):
                    self.errors_received.append(msg)
                msg_id = getattr(msg, "msg_id", None)
                if msg_id is not None:
                    # As the real hub: processed once per msg_id, acknowledged every time.
                    self.msg_ids_seen.append(msg_id)
                    if self.auto_ack:
                        await ws.send_str(encode_message(Ack(msg_id=msg_id)))
                self.received.append(msg)
                await self._notify()
        finally:
            if self.ws is ws:
                self.ws = None
                self.authenticated.clear()
        return ws

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self, msg_type: str, pred: Callable[[Any], bool] = lambda _m: True, *, start: int = 0
    ) -> Any:
        """Wait until a message of this type (matching ``pred``) arrived; 10 s safety net."""

        def find() -> Message | None:
            for msg in self.received[start:]:
                if msg_type == msg.TYPE and pred(msg):
                    return msg
            return None

        async with asyncio.timeout(10), self._changed:
            while (found := find()) is None:
                await self._changed.wait()
            return found

    async def wait_frames(self, n: int) -> None:
        async with asyncio.timeout(10), self._changed:
            while len(self.binary_frames) < n:
                await self._changed.wait()

    async def send(self, msg: Message | str) -> None:
        async with asyncio.timeout(10):
            await self.authenticated.wait()
        assert self.ws is not None
        await self.ws.send_str(msg if isinstance(msg, str) else encode_message(msg))

    # --- helpers for tests ---------------------------------------------------------------

    def incident(self, **kw: Any) -> IncidentInfo:
        base: dict[str, Any] = {
            "incident_id": "inc-" + uuid.uuid4().hex[:6],
            "case_number": "2026-0001",
            "incident_type": "burglary",
            "reason": "suspect seen",
            "lat": 52.3731,
            "lon": 4.8922,
            "radius_m": 500.0,
            "officer_id": "off-1",
            "officer_name": "Officer Test",
            "badge": "1234",
        }
        base.update(kw)
        return IncidentInfo(**base)

    def request(
        self, incident: IncidentInfo, cameras: list[str], scope: str = "live"
    ) -> AccessRequest:
        return AccessRequest(
            request_id="req-" + uuid.uuid4().hex[:8],
            incident=incident,
            camera_ids=cameras,
            scope=scope,
        )

    def token(
        self,
        incident: IncidentInfo,
        cameras: list[str],
        *,
        scope: str = "live",
        installation_id: str | None = None,
        key: Any = None,
        lifetime_s: int = 900,
        now: int | None = None,
    ) -> str:
        claims = new_claims(
            issuer=self.issuer,
            installation_id=installation_id or self.installation_id,
            officer_id=incident.officer_id,
            officer_name=incident.officer_name,
            badge=incident.badge,
            incident_id=incident.incident_id,
            case_number=incident.case_number,
            cameras=cameras,
            scopes=[scope],
            lifetime_s=lifetime_s,
            now=now,
            # As the real hub does: the token says why, as the request did.
            purpose=incident.purpose,
            reason=incident.reason,
        )
        return issue_token(key or self.key, self.kid, claims)

    def grant(self, request: AccessRequest, token: str) -> Grant:
        return Grant(request_id=request.request_id, token=token)
