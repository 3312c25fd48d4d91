"""Talking to the hub: the enrollment HTTP calls and the one outbound WebSocket.

No Home Assistant import here, so the client can be tested against a plain aiohttp server
and reused by scripts. The private key never leaves this object and is never logged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .protocol import (
    KeySet,
    ProtocolError,
    decode_message,
    encode_message,
    public_key_to_b64,
    sign_auth_challenge,
)
from .protocol.messages import (
    Auth,
    AuthOk,
    Challenge,
    Error,
    Hello,
    Message,
    Ping,
    Pong,
)

_LOGGER = logging.getLogger(__name__)

HUB_SERVICE = "connect-share-hub"
HEARTBEAT_S = 20.0
# No message at all for this long (the hub pings every 20 s): the link is dead.
DEAD_AFTER_S = 65.0
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 300.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)

# Errors from the hub after which reconnecting with the same key cannot help.
FATAL_AUTH_CODES = frozenset({"unknown_installation", "bad_signature", "installation_removed"})


class HubError(Exception):
    """Base of the client's errors; ``code`` is what the config flow shows."""

    code = "unknown"


class CannotConnect(HubError):
    code = "cannot_connect"


class NotAHub(HubError):
    code = "not_a_hub"


class InsecureUrl(HubError):
    """Plain http to a hub elsewhere: tokens, keys and frames would cross the network in clear."""

    code = "insecure_url"


class EnrollmentRefused(HubError):
    """403 from the enroll endpoint: ``reason`` is invalid_code, code_used or code_expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        known = ("invalid_code", "code_used", "code_expired", "key_in_use")
        self.code = reason if reason in known else "invalid_code"


class AuthFailed(HubError):
    """The hub refused our challenge signature; ``code`` is the hub's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class HubInfo:
    hub_id: str
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Enrollment:
    installation_id: str
    hub_id: str
    issuer: str
    jwks: dict[str, Any]
    ws_path: str

    @property
    def keyset(self) -> KeySet:
        return KeySet.from_jwks(self.jwks)

    def fingerprints(self) -> list[str]:
        return sorted(self.keyset.fingerprints().values())


def normalize_url(url: str) -> str:
    return url.strip().rstrip("/")


def check_hub_url(url: str) -> str:
    """The normalized URL if it may be used: https, or plain http only to this machine
    (a hub on the same host, as in development). Raises ``InsecureUrl`` otherwise."""
    url = normalize_url(url)
    parsed = urlsplit(url)
    if parsed.scheme == "https":
        return url
    if parsed.scheme == "http":
        host = (parsed.hostname or "").lower()
        if host == "localhost":
            return url
        try:
            if ipaddress.ip_address(host).is_loopback:
                return url
        except ValueError:
            pass
    raise InsecureUrl(url)


async def fetch_hub_info(session: aiohttp.ClientSession, url: str) -> HubInfo:
    """GET /api/v1/hub: tells a Connect Share hub from anything else."""
    try:
        async with session.get(f"{normalize_url(url)}/api/v1/hub", timeout=HTTP_TIMEOUT) as resp:
            if resp.status != 200:
                raise NotAHub(f"HTTP {resp.status}")
            try:
                body = await resp.json(content_type=None)
            except ValueError as err:
                raise NotAHub("not JSON") from err
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        if isinstance(err, aiohttp.InvalidURL | ValueError):
            raise CannotConnect("invalid URL") from err
        raise CannotConnect(str(err)) from err
    if not isinstance(body, dict) or body.get("service") != HUB_SERVICE:
        raise NotAHub("wrong service")
    hub_id = body.get("hub_id")
    if not isinstance(hub_id, str) or not hub_id:
        raise NotAHub("no hub_id")
    return HubInfo(
        hub_id=hub_id, name=str(body.get("name") or hub_id), version=str(body.get("version", ""))
    )


async def fetch_jwks(session: aiohttp.ClientSession, url: str) -> KeySet:
    """The hub's public signing keys, shown as fingerprints before the code is spent."""
    try:
        async with session.get(
            f"{normalize_url(url)}/.well-known/jwks.json", timeout=HTTP_TIMEOUT
        ) as resp:
            if resp.status != 200:
                raise NotAHub(f"jwks HTTP {resp.status}")
            body = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as err:
        raise CannotConnect(str(err)) from err
    except ValueError as err:
        raise NotAHub("jwks not JSON") from err
    try:
        return KeySet.from_jwks(body)
    except ProtocolError as err:
        raise NotAHub(f"bad jwks: {err.code}") from err


def same_keys(a: KeySet, b: KeySet) -> bool:
    return a.to_jwks() == b.to_jwks() or (
        sorted(a.fingerprints().items()) == sorted(b.fingerprints().items())
    )


async def enroll(
    session: aiohttp.ClientSession,
    url: str,
    code: str,
    private_key: Ed25519PrivateKey,
    name: str,
    client_version: str,
) -> Enrollment:
    """POST the enrollment code with our public key; returns the pinned hub keys."""
    body = {
        "code": code.strip(),
        "public_key": public_key_to_b64(private_key.public_key()),
        "name": name,
        "client_version": client_version,
    }
    try:
        async with session.post(
            f"{normalize_url(url)}/api/v1/installations/enroll", json=body, timeout=HTTP_TIMEOUT
        ) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as err:
        raise CannotConnect(str(err)) from err
    if status == 403:
        reason = data.get("error") if isinstance(data, dict) else None
        raise EnrollmentRefused(str(reason))
    if status == 409:
        # A fresh key is made for every attempt, so this is a retry race, not a stolen key.
        raise EnrollmentRefused("key_in_use")
    if status not in (200, 201) or not isinstance(data, dict):
        raise NotAHub(f"enroll answered HTTP {status}")
    try:
        enrollment = Enrollment(
            installation_id=_text(data, "installation_id"),
            hub_id=_text(data, "hub_id"),
            issuer=_text(data, "issuer"),
            jwks=data["jwks"],
            ws_path=_text(data, "ws_path"),
        )
        enrollment.keyset  # noqa: B018 - validates the JWKS before we pin it
    except (KeyError, ProtocolError, TypeError) as err:
        raise NotAHub(f"bad enrollment answer: {err}") from err
    return enrollment


def _text(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise TypeError(key)
    return value


def backoff_delay(
    attempt: int, *, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_MAX_S
) -> float:
    """Exponential backoff with full jitter: a whole street reconnecting does not stampede."""
    return random.uniform(0, min(cap, base * (2 ** min(attempt, 20))))


MessageHandler = Callable[[Message], Awaitable[None]]


class HubConnection:
    """One outbound WebSocket with challenge auth, heartbeat and reconnection.

    Callbacks: ``on_message`` for every decoded message after auth (except ping/pong),
    ``on_connected(auth_ok)`` after auth (sync cameras there), ``on_disconnected(reason)``,
    ``on_fatal(code)`` when the hub no longer knows us (reconnecting is pointless).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        ws_path: str,
        installation_id: str,
        private_key: Ed25519PrivateKey,
        client_version: str,
        *,
        on_message: MessageHandler,
        on_connected: Callable[[AuthOk], Awaitable[None]],
        on_disconnected: Callable[[str], None],
        on_fatal: Callable[[str], None],
        heartbeat_s: float = HEARTBEAT_S,
        dead_after_s: float = DEAD_AFTER_S,
        backoff: Callable[[int], float] | None = None,
    ) -> None:
        self._session = session
        self._ws_url = normalize_url(url) + (ws_path if ws_path.startswith("/") else "/" + ws_path)
        self._installation_id = installation_id
        self._key = private_key
        self._client_version = client_version
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_fatal = on_fatal
        self._heartbeat_s = heartbeat_s
        self._dead_after_s = dead_after_s
        self._backoff = backoff
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._send_lock = asyncio.Lock()
        self.connected = asyncio.Event()
        self.attempt = 0
        self._reported_down = False
        self.last_error: str | None = None
        self.connected_since: float | None = None
        self.failures = 0

    @property
    def is_connected(self) -> bool:
        return self.connected.is_set()

    @property
    def stopped(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stopped

    def start(self, create_task: Callable[..., asyncio.Task[None]] | None = None) -> None:
        self._stopped = False
        coro = self._run()
        self._task = create_task(coro) if create_task else asyncio.create_task(coro)

    async def stop(self) -> None:
        self._stopped = True
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self.connected.clear()

    async def reconnect(self) -> None:
        """Drop the socket; the run loop connects again (used after key changes)."""
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

    async def send(self, msg: Message) -> bool:
        """Send a control message; False when not connected (callers decide what that means)."""
        ws = self._ws
        if ws is None or ws.closed or not self.is_connected:
            return False
        try:
            async with self._send_lock:
                await ws.send_str(encode_message(msg))
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            _LOGGER.debug("send %s failed: %s", msg.TYPE, err)
            return False
        return True

    async def send_bytes(self, data: bytes, guard: Callable[[], bool] = lambda: True) -> bool:
        """Send a media frame. ``guard`` runs right before the write, so a revoke applied
        after the pump's own check still stops this frame."""
        ws = self._ws
        if ws is None or ws.closed or not self.is_connected:
            return False
        # No lock: aiohttp writes the whole frame to the transport before its first await
        # (the media pump counts a frame as sent when handed over), and an uncompressed
        # frame cannot interleave with a control message.
        try:
            if not guard():
                return False
            await ws.send_bytes(data)
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            return False
        return True

    async def _run(self) -> None:
        while not self._stopped:
            reason = "closed"
            try:
                await self._connect_once()
            except AuthFailed as err:
                self.last_error = err.code
                if err.code in FATAL_AUTH_CODES:
                    _LOGGER.warning("Hub refused this installation: %s", err.code)
                    self._on_fatal(err.code)
                    return
                reason = err.code
            except (aiohttp.ClientError, TimeoutError, ConnectionError, OSError) as err:
                reason = type(err).__name__
                self.last_error = "cannot_connect"
            except ProtocolError as err:
                reason = f"protocol:{err.code}"
                self.last_error = reason
            except asyncio.CancelledError:
                raise
            except Exception:
                # A bug or hostile input in one message must not end the installation's only
                # link to the hub for good: log it and reconnect like any other failure.
                _LOGGER.exception("Unexpected error on the hub connection; reconnecting")
                reason = "internal_error"
                self.last_error = reason
            finally:
                was_connected = self.is_connected
                self.connected.clear()
                self.connected_since = None
                self._ws = None
            if self.stopped:  # the property: mypy would keep the loop test's narrowing
                return
            if not was_connected:
                self.failures += 1
            if not self._reported_down:
                # Once per outage (quality scale: log-when-unavailable); recovery logs once too.
                _LOGGER.warning("Connection to the hub lost (%s); reconnecting", reason)
                self._reported_down = True
            self._on_disconnected(reason)
            # Looked up at call time so tests (and scripts) can swap the policy.
            delay = (self._backoff or backoff_delay)(self.attempt)
            self.attempt += 1
            _LOGGER.debug("Hub connection lost (%s); retrying in %.1f s", reason, delay)
            await asyncio.sleep(delay)

    async def _connect_once(self) -> None:
        async with self._session.ws_connect(
            self._ws_url,
            heartbeat=None,
            compress=0,
            timeout=aiohttp.ClientWSTimeout(ws_close=10),
        ) as ws:
            self._ws = ws
            await ws.send_str(encode_message(Hello(self._installation_id, self._client_version)))
            auth_ok = await self._authenticate(ws)
            self.connected.set()
            self.connected_since = time.time()
            if self._reported_down:
                _LOGGER.info("Connection to the hub restored")
                self._reported_down = False
            self.attempt = 0
            self.failures = 0
            self.last_error = None
            await self._on_connected(auth_ok)
            await self._read_loop(ws)

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse, timeout: float) -> Message | None:
        """One text message decoded; None for a malformed one (answered with ``error``)."""
        raw = await ws.receive(timeout=timeout)
        if raw.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        ):
            raise ConnectionError("socket closed")
        if raw.type == aiohttp.WSMsgType.ERROR:
            raise ConnectionError(str(ws.exception()))
        if raw.type != aiohttp.WSMsgType.TEXT:
            # The hub never sends media to us; binary from it is malformed input.
            await self._reply_error(ws, "bad_message", "unexpected binary frame")
            return None
        try:
            return decode_message(raw.data)
        except ProtocolError as err:
            # Logged without the payload: it may carry a token.
            _LOGGER.warning("Malformed message from hub refused: %s", err.code)
            await self._reply_error(ws, err.code, err.detail[:200])
            return None

    async def _reply_error(
        self, ws: aiohttp.ClientWebSocketResponse, code: str, message: str
    ) -> None:
        try:
            async with self._send_lock:
                await ws.send_str(encode_message(Error(code=code, message=message)))
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            pass

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> AuthOk:
        msg = await self._expect(ws)
        if isinstance(msg, Error):
            raise AuthFailed(msg.code)
        if not isinstance(msg, Challenge):
            raise ProtocolError("unexpected", f"expected challenge, got {msg.TYPE}")
        signature = sign_auth_challenge(self._key, self._installation_id, msg.nonce)
        await ws.send_str(encode_message(Auth(self._installation_id, msg.nonce, signature)))
        msg = await self._expect(ws)
        if isinstance(msg, Error):
            raise AuthFailed(msg.code)
        if not isinstance(msg, AuthOk):
            raise ProtocolError("unexpected", f"expected auth_ok, got {msg.TYPE}")
        return msg

    async def _expect(self, ws: aiohttp.ClientWebSocketResponse) -> Message:
        while True:
            msg = await self._receive(ws, timeout=30)
            if msg is not None:
                return msg

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        pinger = asyncio.get_running_loop().create_task(self._ping_loop(ws))
        try:
            while True:
                try:
                    msg = await self._receive(ws, timeout=self._dead_after_s)
                except TimeoutError as err:
                    raise ConnectionError("heartbeat lost") from err
                if msg is None:
                    continue
                if isinstance(msg, Ping):
                    await self.send(Pong(ts=msg.ts))
                    continue
                if isinstance(msg, Pong):
                    continue
                try:
                    await self._on_message(msg)
                except Exception:  # a handler bug must not kill the link
                    _LOGGER.exception("Error handling hub message %s", msg.TYPE)
        finally:
            pinger.cancel()
            try:
                await pinger
            except asyncio.CancelledError:
                pass

    async def _ping_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self._heartbeat_s)
            await self.send(Ping(ts=time.time()))
