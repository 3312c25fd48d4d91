"""Group commit for installations' decisions.

Decisions from many installations arrive at once; committing each in its own transaction
costs one fsync (SQLite WAL) or one WAL flush (PostgreSQL) per decision. The batcher
collects every decision that arrives within ``window_s`` (and any that arrive while the
previous group is committing) and records them in one transaction: one commit, one fsync,
one audit-chain lock. Each caller gets its replies (grants with their tokens) only after
that commit returned, so no token leaves before its grant is durable.

If the group's transaction fails, each decision of the group is retried alone, so one bad
decision cannot take the others down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from connect_share_protocol.messages import Decision, Message

from . import audit, grants
from .state import Hub

_LOGGER = logging.getLogger(__name__)


# Records the message in the same transaction (the installation outbox's message id), so
# the decision and "processed once" commit together.
Mark = Callable[[AsyncSession], Awaitable[None]]


@dataclass(slots=True)
class _Pending:
    installation_id: str
    msg: Decision
    future: asyncio.Future[list[Message]] = field(repr=False)
    mark: Mark | None = None


@dataclass(slots=True)
class BatchStats:
    groups: int = 0
    decisions: int = 0
    largest: int = 0


class DecisionBatcher:
    def __init__(self, hub: Hub, window_s: float = 0.002, max_batch: int = 512) -> None:
        self.hub = hub
        self.window_s = window_s
        self.max_batch = max_batch
        self.stats = BatchStats()
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    async def submit(
        self, installation_id: str, msg: Decision, mark: Mark | None = None
    ) -> list[Message]:
        """Queue one decision; returns its replies once its group has committed."""
        started = time.perf_counter()
        replies = await self._submit(installation_id, msg, mark)
        metrics = getattr(self.hub, "metrics", None)
        if metrics is not None and any(m.TYPE == "grant" for m in replies):
            metrics.token_latency.observe(time.perf_counter() - started)
        return replies

    async def _submit(
        self, installation_id: str, msg: Decision, mark: Mark | None
    ) -> list[Message]:
        future: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(installation_id, msg, future, mark))
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(
                self._run(), name="decision-batcher"
            )
        return await future

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for item in self._queue:
            if not item.future.done():
                item.future.set_exception(RuntimeError("hub shutting down"))
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.window_s > 0:
                await asyncio.sleep(self.window_s)  # let the rest of the burst arrive
            while self._queue:
                group, self._queue = (
                    self._queue[: self.max_batch],
                    self._queue[self.max_batch :],
                )
                await self._commit_group(group)

    async def _commit_group(self, group: list[_Pending]) -> None:
        self.stats.groups += 1
        self.stats.decisions += len(group)
        self.stats.largest = max(self.stats.largest, len(group))
        try:
            results = await self._decide_all(group)
        except Exception:
            _LOGGER.warning("group of %d decisions failed; retrying one by one", len(group))
            for item in group:
                try:
                    result = await self._alone(item)
                except Exception as err:
                    if not item.future.done():
                        item.future.set_exception(err)
                else:
                    if not item.future.done():
                        item.future.set_result(result)
            return
        # Committed: only now do the tokens go out.
        for item, result in zip(group, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)

    async def _alone(self, item: _Pending) -> list[Message]:
        """One decision in its own transaction (the fallback when its group failed)."""
        keys = await self.hub.signing_keys()
        async with self.hub.db.write() as session:
            if item.mark is not None:
                await item.mark(session)
            return await grants.decide(
                self.hub, session, keys, item.installation_id, item.msg, time.time()
            )

    async def _decide_all(self, group: list[_Pending]) -> list[list[Message]]:
        hub = self.hub
        keys = await hub.signing_keys()
        now = time.time()
        async with hub.db.write() as session:
            loaded = await grants.Loaded.load(session, (item.msg.request_id for item in group))
            # No flush per lookup: everything is written by one INSERT per table at the end.
            with session.no_autoflush:
                async with audit.bulk_rows(session):
                    results = []
                    for item in group:
                        if item.mark is not None:
                            await item.mark(session)
                        results.append(
                            await grants.decide(
                                hub,
                                session,
                                keys,
                                item.installation_id,
                                item.msg,
                                now,
                                flush=False,
                                loaded=loaded,
                            )
                        )
        return results
