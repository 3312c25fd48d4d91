"""The message bus between hub instances: one interface, two engines.

``InProcessBus`` serves a single hub (SQLite or PostgreSQL): subjects are a dict, nothing
leaves the process. ``NatsBus`` (``nats-server``, ``nats-py``) connects several instances
behind a load balancer; see docs/architecture.md for why NATS. Subjects are plain strings
(``cs.inst.<installation_id>``, ``cs.sess.<session_id>``, ``cs.viewers.<installation_id>``,
``cs.events``); payloads bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

_LOGGER = logging.getLogger(__name__)

# A subscriber's handler: the payload in, an optional reply out (for ``request``).
Handler = Callable[[bytes], Awaitable[bytes | None]]


class Subscription:
    def __init__(self, close: Callable[[], Awaitable[None]]) -> None:
        self._close = close
        self.closed = False

    async def unsubscribe(self) -> None:
        if not self.closed:
            self.closed = True
            await self._close()


class Bus:
    kind = "abstract"

    async def start(self) -> None:
        """Connect (no-op for the in-process bus)."""

    async def close(self) -> None:
        """Disconnect."""

    async def ping(self) -> bool:
        """True when the bus is reachable (``/readyz``)."""
        raise NotImplementedError

    async def subscribe(self, subject: str, handler: Handler) -> Subscription:
        raise NotImplementedError

    async def publish(self, subject: str, data: bytes) -> None:
        """Fire and forget, in order per subject and publisher."""
        raise NotImplementedError

    async def request(self, subject: str, data: bytes, timeout_s: float) -> bytes | None:
        """Ask the subscriber of ``subject``; None when nobody answers in time."""
        raise NotImplementedError


class InProcessBus(Bus):
    """Handlers are awaited in the publisher's task: ordered, and nothing is lost."""

    kind = "in_process"

    def __init__(self) -> None:
        self._subs: dict[str, list[Handler]] = {}

    async def ping(self) -> bool:
        return True

    async def subscribe(self, subject: str, handler: Handler) -> Subscription:
        self._subs.setdefault(subject, []).append(handler)

        async def close() -> None:
            handlers = self._subs.get(subject, [])
            with contextlib.suppress(ValueError):
                handlers.remove(handler)
            if not handlers:
                self._subs.pop(subject, None)

        return Subscription(close)

    async def publish(self, subject: str, data: bytes) -> None:
        for handler in list(self._subs.get(subject, ())):
            try:
                await handler(data)
            except Exception:
                _LOGGER.exception("bus handler for %s failed", subject)

    async def request(self, subject: str, data: bytes, timeout_s: float) -> bytes | None:
        handlers = self._subs.get(subject)
        if not handlers:
            return None
        async with asyncio.timeout(timeout_s):
            return await handlers[0](data)


class NatsBus(Bus):
    kind = "nats"

    def __init__(self, url: str) -> None:
        self.url = url
        self._nc = None  # nats.aio.client.Client once started

    async def start(self) -> None:
        import nats  # the NATS client is needed only when a NATS URL is configured

        self._nc = await nats.connect(
            self.url,
            name="connect-share-hub",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            allow_reconnect=True,
        )

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None

    @property
    def _client(self):  # type: ignore[no-untyped-def]
        if self._nc is None:
            raise RuntimeError("the NATS bus is not started")
        return self._nc

    async def ping(self) -> bool:
        nc = self._client
        if not nc.is_connected:
            return False
        await nc.flush(timeout=2)
        return True

    async def subscribe(self, subject: str, handler: Handler) -> Subscription:
        nc = self._client

        async def on_message(msg) -> None:  # type: ignore[no-untyped-def]
            try:
                reply = await handler(msg.data)
            except Exception:
                _LOGGER.exception("bus handler for %s failed", subject)
                reply = b""
            # A handler returning None leaves a request to another subscriber's answer
            # (a session's owner answers, the instances only serving its stream do not).
            if msg.reply and reply is not None:
                await msg.respond(reply)

        sub = await nc.subscribe(subject, cb=on_message)

        async def close() -> None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

        return Subscription(close)

    async def publish(self, subject: str, data: bytes) -> None:
        from nats.errors import MaxPayloadError

        try:
            await self._client.publish(subject, data)
        except MaxPayloadError:
            # A frame over the server's max_payload is dropped (the viewer gets the next
            # one); set max_payload to 9 MiB in nats-server.conf (docs/architecture.md).
            _LOGGER.warning("dropped %d bytes on %s: over NATS max_payload", len(data), subject)

    async def request(self, subject: str, data: bytes, timeout_s: float) -> bytes | None:
        from nats.errors import NoRespondersError
        from nats.errors import TimeoutError as NatsTimeout

        try:
            msg = await self._client.request(subject, data, timeout=timeout_s)
        except (NoRespondersError, NatsTimeout, TimeoutError):
            return None
        return msg.data


def make_bus(url: str) -> Bus:
    """``""`` -> in-process; ``nats://host:port`` -> NATS."""
    if not url:
        return InProcessBus()
    if url.startswith(("nats://", "tls://")):
        return NatsBus(url)
    raise ValueError(f"unsupported bus URL {url!r} (use nats://host:port or leave it empty)")
