"""Limits for installation sockets that have not authenticated yet.

aiohttp's WebSocket reader buffers a whole frame before it checks ``max_msg_size``, so a
stranger announcing an 8 MiB message costs 8 MiB of memory however small the limit. The
``ByteBudget`` sits in front of that reader: until ``lift()`` (called when the socket has
authenticated) it lets through at most ``budget`` bytes in total and cuts the connection
at the first byte over. ``UnauthenticatedSockets`` caps how many such sockets one address
(and everybody together) may hold open.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from aiohttp import web

_LOGGER = logging.getLogger(__name__)

# hello + auth (and a few error replies' worth of junk) fit many times over.
PRE_AUTH_BUDGET_BYTES = 16 * 1024


class ByteBudget:
    """A payload parser wrapper: counts bytes until lifted; over budget closes the socket."""

    def __init__(self, inner: Any, protocol: Any, budget: int) -> None:
        self.inner = inner
        self.protocol = protocol
        self.budget = budget
        self.received = 0
        self.lifted = False
        self.tripped = False

    def lift(self) -> None:
        self.lifted = True

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.tripped:
            return True, b""
        if not self.lifted:
            self.received += len(data)
            if self.received > self.budget:
                self.tripped = True
                _LOGGER.info("installation socket over its pre-auth budget: closed")
                self.protocol.force_close()
                return True, b""
        return self.inner.feed_data(data)

    def feed_eof(self) -> None:
        self.inner.feed_eof()


class GuardedWebSocketResponse(web.WebSocketResponse):
    """A ``WebSocketResponse`` whose reader is behind a ``ByteBudget`` from the first byte."""

    def __init__(self, *, budget: int = PRE_AUTH_BUDGET_BYTES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._budget_bytes = budget
        self.guard: ByteBudget | None = None

    def _post_start(self, request: web.BaseRequest, protocol: Any, writer: Any) -> None:
        handler = request.protocol
        # Bytes that came with the upgrade request go through the guard too.
        tail, handler._message_tail = handler._message_tail, b""
        super()._post_start(request, protocol, writer)
        self.guard = ByteBudget(handler._payload_parser, handler, self._budget_bytes)
        handler._payload_parser = self.guard
        if tail:
            eof, _ = self.guard.feed_data(tail)
            if eof:
                handler.force_close()

    def authenticated(self) -> None:
        """Lift the byte budget (call before sending ``auth_ok``)."""
        if self.guard is not None:
            self.guard.lift()


class UnauthenticatedSockets:
    """How many sockets are waiting to authenticate, per address and in total."""

    def __init__(self, per_address: int, total: int) -> None:
        self.per_address = per_address
        self.total = total
        self._by_address: Counter[str] = Counter()

    def try_add(self, address: str) -> bool:
        if self._by_address[address] >= self.per_address:
            return False
        if sum(self._by_address.values()) >= self.total:
            return False
        self._by_address[address] += 1
        return True

    def remove(self, address: str) -> None:
        self._by_address[address] -= 1
        if self._by_address[address] <= 0:
            del self._by_address[address]

    def __len__(self) -> int:
        return sum(self._by_address.values())
