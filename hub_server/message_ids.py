"""Outbox acks: each installation message with a ``msg_id`` is processed at most once.

The installation's outbox keeps a ``decision``, ``revoke`` or ``session_close`` until the
hub answers ``ack`` with its ``msg_id``, and replays it after every reconnect. The hub
records ``(installation_id, msg_id)`` in ``processed_messages`` inside the transaction that
processes the message (``Once.mark``, passed down to the handler), or right after it when
the handler wrote nothing, and sends the ack only then. A replayed id is not processed
again, only acked again. A message whose handling failed (an exception) is neither recorded
nor acked, so the replay tries again. Messages without ``msg_id`` are handled as before.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connect_share_protocol.messages import Ack, Error, Message

from .models import ProcessedMessage
from .state import Hub

_LOGGER = logging.getLogger(__name__)
MSG_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Marks the message as processed inside the caller's write transaction.
Mark = Callable[[AsyncSession], Awaitable[None]]
Replies = list[Message]


class Once:
    """The record of one message, written by the first transaction that calls ``mark``."""

    __slots__ = ("installation_id", "marked", "msg_id")

    def __init__(self, installation_id: str, msg_id: str) -> None:
        self.installation_id = installation_id
        self.msg_id = msg_id
        self.marked = False

    async def mark(self, session: AsyncSession) -> None:
        if self.marked:
            return
        session.add(
            ProcessedMessage(
                installation_id=self.installation_id,
                msg_id=self.msg_id,
                processed_at=time.time(),
            )
        )
        await session.flush()  # a concurrent duplicate fails here and rolls everything back
        self.marked = True


def msg_id_of(msg: Message) -> str | None:
    value = getattr(msg, "msg_id", None)
    return value if isinstance(value, str) else None


async def already_processed(hub: Hub, installation_id: str, msg_id: str) -> bool:
    async with hub.db.read() as session:
        found = await session.scalar(
            select(ProcessedMessage.msg_id).where(
                ProcessedMessage.installation_id == installation_id,
                ProcessedMessage.msg_id == msg_id,
            )
        )
    return found is not None


async def process_once(
    hub: Hub,
    installation_id: str,
    msg_id: str,
    handle: Callable[[Mark], Awaitable[Replies]],
) -> Replies:
    """Run ``handle`` unless this id was processed; the replies end with the ``ack``."""
    if not MSG_ID_RE.match(msg_id):
        return [Error(code="bad_field", message="msg_id: 1..64 of [A-Za-z0-9_-]")]
    ack = Ack(msg_id=msg_id)
    if await already_processed(hub, installation_id, msg_id):
        return [ack]
    once = Once(installation_id, msg_id)
    try:
        replies = await handle(once.mark)
        if not once.marked:
            async with hub.db.write() as session:
                await once.mark(session)
    except IntegrityError:
        # Another socket of this installation (or another hub instance) recorded the id
        # first: its processing counts, this one was rolled back.
        if not await already_processed(hub, installation_id, msg_id):
            raise
        _LOGGER.info("message %s from %s processed elsewhere", msg_id, installation_id)
        return [ack]
    return [*replies, ack]


async def prune(hub: Hub, now: float | None = None) -> int:
    """Forget processed ids older than the retention period; returns how many."""
    now = time.time() if now is None else now
    cutoff = now - hub.settings.processed_message_retention_days * 86400
    async with hub.db.write() as session:
        result = await session.execute(
            delete(ProcessedMessage).where(ProcessedMessage.processed_at < cutoff)
        )
    return int(getattr(result, "rowcount", 0) or 0)
