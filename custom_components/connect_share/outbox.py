"""Durable outbox: what the resident decided reaches the hub, even if the hub is away.

Decisions, revocations and session ends are put here, not sent directly. Each gets a
``msg_id``, is written to disk (atomically, fsync'd) before the first attempt to send it, and
stays until the hub acknowledges that id (``Ack``). After a reconnect, and after a Home
Assistant restart, everything not acknowledged is sent again in the original order; the hub
processes each ``msg_id`` once, so a replay never counts twice.

No Home Assistant import: blocking file work runs through ``run_blocking``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from .protocol.errors import ProtocolError
from .protocol.messages import Message, decode_message, encode_message

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
RunBlocking = Callable[[Callable[[], T]], Awaitable[T]]
# A resident who stays offline for weeks must not fill the disk: past this, the oldest
# messages are dropped (their effect is already applied locally and in the local log).
MAX_PENDING = 5000


class Outbox:
    def __init__(
        self,
        path: Path,
        run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]],
        send: Callable[[Message], Awaitable[bool]],
    ) -> None:
        self.path = path
        self._run_blocking = run_blocking
        self._send = send
        self._items: list[Message] = []
        # Sent on the current connection and waiting for the ack: not sent twice on it.
        self._in_flight: set[str] = set()
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> list[Message]:
        return list(self._items)

    async def load(self) -> None:
        self._items = await self._run_blocking(self._read)

    async def put(self, msg: Message) -> str:
        """Persist ``msg`` with a fresh ``msg_id``, then try to send it (in order)."""
        msg_id = uuid.uuid4().hex
        stamped = dataclasses.replace(msg, msg_id=msg_id)  # type: ignore[call-arg]
        async with self._lock:
            self._items.append(stamped)
            if len(self._items) > MAX_PENDING:
                dropped = self._items[: len(self._items) - MAX_PENDING]
                del self._items[: len(dropped)]
                _LOGGER.warning("Outbox full: %d oldest messages dropped", len(dropped))
            await self._persist()
            await self._flush_locked()
        return msg_id

    async def replay(self) -> None:
        """Send everything not yet acknowledged, oldest first (after each (re)connect)."""
        async with self._lock:
            self._in_flight.clear()  # a new connection: the hub may not have seen them
            await self._flush_locked()

    async def ack(self, msg_id: str) -> None:
        async with self._lock:
            self._in_flight.discard(msg_id)
            before = len(self._items)
            self._items = [m for m in self._items if getattr(m, "msg_id", None) != msg_id]
            if len(self._items) != before:
                await self._persist()

    async def _flush_locked(self) -> None:
        for msg in list(self._items):
            msg_id = str(getattr(msg, "msg_id", ""))
            if msg_id in self._in_flight:
                continue
            if not await self._send(msg):
                return  # not connected: the next replay goes on from here
            self._in_flight.add(msg_id)

    async def _persist(self) -> None:
        lines = [encode_message(m) for m in self._items]
        await self._run_blocking(lambda: self._write(lines))

    # --- file (executor) ------------------------------------------------------------------

    def _read(self) -> list[Message]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as err:
            _LOGGER.error("Outbox %s unreadable (%s); starting empty", self.path, err)
            return []
        items: list[Message] = []
        for line in raw if isinstance(raw, list) else []:
            try:
                items.append(decode_message(line))
            except ProtocolError as err:
                _LOGGER.error("Outbox entry dropped: %s", err.code)
        return items

    def _write(self, lines: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(lines, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
