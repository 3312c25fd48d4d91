"""The running live sessions of one installation, so every kind of revocation can cut them.

The pause switch stops a camera's sessions, the "revoke all" button and a blueprint stop
all, a per-grant revoke (local or from the hub) stops the sessions of those token ids, an
incident revoke stops its sessions, and schedule end / token expiry arrive as each pump's
``deadline``. Every stop is synchronous: when the call returns no further frame is sent.
``on_closed`` gets each session's final stats exactly once (write the resident's audit log
and send ``stats.close_message()`` to the hub there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .masks import Masks
from .pump import FramePump, PumpStats
from .sources import CameraSource

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveSession:
    session_id: str
    camera_id: str
    token_id: str
    incident_id: str
    pump: FramePump


class LiveSessions:
    def __init__(self, on_closed: Callable[[LiveSession, PumpStats], object] | None = None):
        self._sessions: dict[str, LiveSession] = {}
        self._ending: set[asyncio.Task[Any]] = set()
        self._on_closed = on_closed

    def start(
        self,
        *,
        session_id: str,
        camera_id: str,
        token_id: str,
        incident_id: str,
        source: CameraSource,
        masks: Masks,
        fps: float,
        allowed: Callable[[], bool | str],
        send: Callable[[bytes], Awaitable[object]],
        deadline: float | None = None,
        **pump_options: Any,
    ) -> FramePump:
        """Start pumping frames for an accepted ``session_open``."""
        if session_id in self._sessions:
            raise ValueError(f"session {session_id} is already running")
        live: LiveSession | None = None

        def closed(stats: PumpStats) -> None:
            self._sessions.pop(session_id, None)
            if self._on_closed is not None and live is not None:
                try:
                    result = self._on_closed(live, stats)
                    if asyncio.iscoroutine(result):
                        task = asyncio.get_running_loop().create_task(result)
                        self._ending.add(task)
                        task.add_done_callback(self._ending.discard)
                except Exception:
                    _LOGGER.exception("on_closed failed for session %s", session_id)

        pump = FramePump(
            session_id=session_id,
            source=source,
            masks=masks,
            fps=fps,
            allowed=allowed,
            send=send,
            deadline=deadline,
            on_stop=closed,
            **pump_options,
        )
        live = LiveSession(session_id, camera_id, token_id, incident_id, pump)
        self._sessions[session_id] = live
        pump.start()
        return pump

    def active(self) -> list[LiveSession]:
        return list(self._sessions.values())

    def _stop(self, match: Callable[[LiveSession], bool], reason: str) -> list[PumpStats]:
        return [s.pump.stop(reason) for s in list(self._sessions.values()) if match(s)]

    def stop(self, session_id: str, reason: str) -> PumpStats | None:
        stopped = self._stop(lambda s: s.session_id == session_id, reason)
        return stopped[0] if stopped else None

    def stop_camera(self, camera_id: str, reason: str) -> list[PumpStats]:
        """Pause switch, camera mode set to off/registered, masks changed."""
        return self._stop(lambda s: s.camera_id == camera_id, reason)

    def stop_tokens(self, token_ids: Iterable[str], reason: str) -> list[PumpStats]:
        """Per-grant revoke, locally or by the hub (``revoke`` message's ``token_ids``)."""
        ids = set(token_ids)
        return self._stop(lambda s: s.token_id in ids, reason)

    def stop_incident(self, incident_id: str, reason: str) -> list[PumpStats]:
        return self._stop(lambda s: s.incident_id == incident_id, reason)

    def stop_all(self, reason: str) -> list[PumpStats]:
        """ "Revoke all" button, blueprint, hub connection lost, unload."""
        return self._stop(lambda s: True, reason)

    async def close(self, reason: str = "shutdown") -> None:
        """Stop everything and wait until every pump and ``on_closed`` task has ended."""
        pumps = [s.pump for s in self._sessions.values()]
        self.stop_all(reason)
        await asyncio.gather(*(p.wait_closed() for p in pumps), return_exceptions=True)
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)
