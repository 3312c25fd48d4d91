"""No viewer, no session: a live session ends when no officer's player receives its frames.

The MJPEG stream attaches and detaches its viewer here. Each change of a live session's
viewer count is sent to the installation as ``session_viewers`` (so the resident's "being
viewed" means a person is receiving frames). When the last viewer leaves and none comes
back within ``no_viewer_grace_s`` (``NO_VIEWER_GRACE_S``), or when a session never gets a
first viewer within ``first_viewer_grace_s``, the hub ends it on both sides: relay stopped,
``session_close`` with reason ``no_viewer`` to the installation, ``session.stop`` audited.
A player that goes away without a frame to write is noticed by polling its connection
(``watch_interval``). Snapshots take their one frame without a stream and are not watched.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from connect_share_protocol.messages import SessionViewers

from .relay import RelaySession, Viewer
from .sessions import end_session
from .state import Hub

NO_VIEWER = "no_viewer"


def watch_interval(hub: Hub) -> float:
    """How often a waiting stream checks that its player is still connected."""
    return max(0.05, min(1.0, hub.settings.no_viewer_grace_s / 4))


async def session_live(hub: Hub, live: RelaySession) -> None:
    """A live session just started: it ends unless a viewer attaches within the grace (or
    the installation learns of the viewers that attached while it was opening)."""
    if not live.active:
        return
    if live.viewers:
        await _tell(hub, live)
    else:
        _arm(hub, live, hub.settings.first_viewer_grace_s)


async def attach(hub: Hub, live: RelaySession) -> Viewer:
    viewer = hub.relay.attach(live)
    _disarm(live)
    await _tell(hub, live)
    return viewer


async def detach(hub: Hub, live: RelaySession, viewer: Viewer) -> None:
    hub.relay.detach(live, viewer)
    if not live.active:
        return
    await _tell(hub, live)  # viewers=0 reaches the installation before any session_close
    if not live.viewers and live.active:
        _arm(hub, live, hub.settings.no_viewer_grace_s)


async def next_frame(request: web.Request, viewer: Viewer, interval: float) -> bytes | None:
    """The viewer's next frame; None once the session ended. Raises ``ConnectionResetError``
    when the player has gone away (there may be no frame to write that would notice it)."""
    while True:
        try:
            async with asyncio.timeout(interval):
                return await viewer.next_frame()
        except TimeoutError:
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the viewer went away") from None


async def _tell(hub: Hub, live: RelaySession) -> None:
    conn = hub.connections.get(live.installation_id)
    if conn is not None and live.state == "live":
        await conn.send(SessionViewers(session_id=live.id, viewers=len(live.viewers)))


def _arm(hub: Hub, live: RelaySession, delay: float) -> None:
    _disarm(live)
    live.viewer_timer = asyncio.get_running_loop().call_later(
        max(0.0, delay), _nobody_watches, hub, live
    )


def _disarm(live: RelaySession) -> None:
    if live.viewer_timer is not None:
        live.viewer_timer.cancel()
        live.viewer_timer = None


def _nobody_watches(hub: Hub, live: RelaySession) -> None:
    live.viewer_timer = None
    if live.active and not live.viewers:
        hub.spawn(end_session(hub, live, NO_VIEWER), "no-viewer")
