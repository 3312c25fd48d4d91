"""The running hub's shared state, stored on the aiohttp application under ``HUB``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from .auth import LoginRateLimiter
from .connections import Connections
from .database import Database
from .relay import LiveRelay
from .settings import Settings
from .signing import KeyStore
from .ws_guard import UnauthenticatedSockets

_LOGGER = logging.getLogger(__name__)


class Hub:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.keys = KeyStore()
        self.hub_id = ""
        self.kek: bytes | None = None  # set at start-up (bootstrap.resolve_kek)
        self.connections = Connections()
        self.relay = LiveRelay(settings.viewer_queue_frames)
        self.login_limiter = LoginRateLimiter(
            settings.login_max_failures,
            settings.login_window_s,
            address_max=settings.login_max_failures_per_address,
            base_delay_s=settings.login_base_delay_s,
        )
        self.unauthenticated = UnauthenticatedSockets(
            settings.max_unauthenticated_per_address, settings.max_unauthenticated_sockets
        )
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def issuer(self) -> str:
        return self.settings.issuer or f"connect-share-hub:{self.hub_id}"

    async def signing_keys(self) -> KeyStore:
        if self.keys.needs_reload():
            async with self.db.read() as session:
                if self.kek is None:
                    raise RuntimeError("the key-encryption key is not loaded")
                await self.keys.load(session, self.kek)
        return self.keys

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        """Run in the background; kept so shutdown can cancel and await it."""
        task = asyncio.get_running_loop().create_task(coro, name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("background task failed", exc_info=task.exception())

    async def stop_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


HUB = web.AppKey("connect_share_hub", Hub)


def get_hub(request: web.Request) -> Hub:
    return request.app[HUB]
