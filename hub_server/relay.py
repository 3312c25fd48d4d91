"""Live relay: frames from an installation's socket to the officers' HTTP streams.

Nothing is stored. Each viewer has a small bounded queue; when a viewer is slower than the
camera the oldest queued frame is dropped, so memory stays bounded and the viewer always
gets the newest picture.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

# A JPEG starts with the SOI marker; anything else is not relayed as image/jpeg.
JPEG_SOI = b"\xff\xd8"

_END = None  # sentinel put into viewer queues when the session ends


class Viewer:
    __slots__ = ("dropped", "queue")

    def __init__(self, max_frames: int) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=max_frames)
        self.dropped = 0

    def offer(self, item: bytes | None) -> None:
        """Queue without waiting: drop the oldest frame when full."""
        while True:
            try:
                self.queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                try:
                    self.queue.get_nowait()
                    self.dropped += 1
                except asyncio.QueueEmpty:  # pragma: no cover - single-threaded loop
                    pass

    async def next_frame(self) -> bytes | None:
        return await self.queue.get()


@dataclass(eq=False)
class RelaySession:
    id: str
    installation_id: str
    camera_id: str
    grant_id: str
    incident_id: str
    opened_by: str
    expires_at: float
    state: str = "opening"  # opening -> live -> ended
    end_reason: str | None = None
    frames: int = 0
    # A snapshot takes one frame; anything the installation sends after it is dropped.
    frame_limit: int | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    viewers: set[Viewer] = field(default_factory=set)
    timer: asyncio.TimerHandle | None = None
    opened_monotonic: float = field(default_factory=time.monotonic)
    # The bus subscription that brings this session's frames from the socket's instance.
    bus_subscription: object | None = None

    @property
    def active(self) -> bool:
        return self.state != "ended"


class LiveRelay:
    def __init__(self, viewer_queue_frames: int) -> None:
        self.viewer_queue_frames = max(1, viewer_queue_frames)
        self.sessions: dict[str, RelaySession] = {}
        # Sessions owned (recorded, ended) by another instance whose stream is also served
        # here, because a player's request was balanced here: frames only (sessions.replicate).
        self.replicas: dict[str, RelaySession] = {}
        self.frames_total = 0  # frames handed to viewers (metrics)

    def add(self, session: RelaySession) -> None:
        self.sessions[session.id] = session

    def get(self, session_id: str) -> RelaySession | None:
        return self.sessions.get(session_id)

    def for_grants(self, grant_ids: set[str]) -> list[RelaySession]:
        return [s for s in self.sessions.values() if s.grant_id in grant_ids and s.active]

    def for_installation(self, installation_id: str) -> list[RelaySession]:
        return [
            s for s in self.sessions.values() if s.installation_id == installation_id and s.active
        ]

    def attach(self, session: RelaySession) -> Viewer:
        viewer = Viewer(self.viewer_queue_frames)
        session.viewers.add(viewer)
        return viewer

    def detach(self, session: RelaySession, viewer: Viewer) -> None:
        session.viewers.discard(viewer)

    def deliver(self, installation_id: str, session_id: str, jpeg: bytes) -> bool:
        """Hand a frame to every viewer. False when the session is not live for this sender."""
        session = self.sessions.get(session_id) or self.replicas.get(session_id)
        if (
            session is None
            or session.installation_id != installation_id  # never cross installations
            or session.state != "live"
            or not jpeg.startswith(JPEG_SOI)
            or (session.frame_limit is not None and session.frames >= session.frame_limit)
        ):
            return False
        session.frames += 1
        self.frames_total += 1
        for viewer in session.viewers:
            viewer.offer(jpeg)
        return True

    def finish(self, session_id: str, reason: str) -> RelaySession | None:
        """Mark ended and wake the viewers. Returns the session if it was active."""
        session = self.sessions.pop(session_id, None) or self.replicas.pop(session_id, None)
        if session is None or not session.active:
            return None
        session.state = "ended"
        session.end_reason = reason
        session.started.set()
        if session.timer is not None:
            session.timer.cancel()
            session.timer = None
        for viewer in session.viewers:
            viewer.offer(_END)
        return session
