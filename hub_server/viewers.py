"""No viewer, no session: a live session ends when no officer's player receives its frames.

Two sides, which are one process with the in-process bus and may be two instances with NATS:

* an instance serving MJPEG players of a session (the stream attaches and detaches them
  here) reports its number of players on ``cs.viewers.<installation_id>`` at every change
  and renews it every ``viewer_lease_s / 3`` while it is above zero;
* the instance holding the installation's socket (``ViewerTally``) adds up the reports of
  every instance. A report not renewed within ``viewer_lease_s`` counts as zero, so the
  players of an instance killed with SIGKILL stop counting. Each change of the total of a
  live session is sent to the installation as ``session_viewers`` (so the resident's "being
  viewed" means a person is receiving frames). When the total falls to zero and stays
  there for ``no_viewer_grace_s`` (``NO_VIEWER_GRACE_S``), or a session gets no first
  viewer within ``first_viewer_grace_s``, the hub ends it on both sides: relay stopped,
  ``session_close`` with reason ``no_viewer`` to the installation, ``session.stop``
  audited (by the instance owning the session; by the holder if that instance is gone).

A player that goes away without a frame to write is noticed by polling its connection
(``watch_interval``). Snapshots take their one frame without a stream and are not watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from connect_share_protocol.messages import SessionViewers

from .bus import Subscription
from .relay import RelaySession, Viewer
from .sessions import end_remotely, end_replica, end_session

if TYPE_CHECKING:
    from .connections import InstallationConnection
    from .state import Hub

NO_VIEWER = "no_viewer"


def viewers_subject(installation_id: str) -> str:
    return f"cs.viewers.{installation_id}"


def watch_interval(hub: Hub) -> float:
    """How often a waiting stream checks that its player is still connected."""
    return max(0.05, min(1.0, hub.settings.no_viewer_grace_s / 4))


# --- the instance serving the players ----------------------------------------------------


async def attach(hub: Hub, live: RelaySession) -> Viewer:
    viewer = hub.relay.attach(live)
    _keep_renewing(hub)
    await _report(hub, live)
    return viewer


async def detach(hub: Hub, live: RelaySession, viewer: Viewer) -> None:
    hub.relay.detach(live, viewer)
    if live.active:  # an ended session's players leaving is not news
        await _report(hub, live)
    if not live.viewers and hub.relay.replicas.get(live.id) is live:
        await end_replica(hub, live, "no_viewer_here")  # its owner keeps the session


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


async def _report(hub: Hub, live: RelaySession) -> None:
    payload = {"session_id": live.id, "instance": hub.router.instance_id, "n": len(live.viewers)}
    with contextlib.suppress(Exception):  # the lease renewal repeats it
        await hub.bus.publish(viewers_subject(live.installation_id), json.dumps(payload).encode())


def _keep_renewing(hub: Hub) -> None:
    tally = hub.router.viewer_tally
    if tally.renewing is None or tally.renewing.done():
        tally.renewing = hub.spawn(_renew_leases(hub), "viewer-leases")


async def _renew_leases(hub: Hub) -> None:
    while True:
        await asyncio.sleep(hub.settings.viewer_lease_s / 3)
        for live in [*hub.relay.sessions.values(), *hub.relay.replicas.values()]:
            if live.active and live.viewers:
                await _report(hub, live)


# --- the instance holding the installation's socket ---------------------------------------


@dataclass(eq=False)
class Watch:
    """One live session opened through a socket held here, and who watches it."""

    session_id: str
    installation_id: str
    live: bool = False  # the installation started it
    told: int = 0  # the count the installation last heard (it assumes 0 at first)
    # instance id -> its players, while its last report has not lapsed
    leases: dict[str, int] = field(default_factory=dict)
    lapses: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None

    def total(self) -> int:
        return sum(self.leases.values())

    def withdraw(self, instance: str) -> None:
        self.leases.pop(instance, None)
        lapse = self.lapses.pop(instance, None)
        if lapse is not None:
            lapse.cancel()


class ViewerTally:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.watches: dict[str, Watch] = {}
        self._subs: dict[str, Subscription] = {}
        self.renewing: asyncio.Task[None] | None = None  # this instance's lease renewal

    async def installation_attached(self, installation_id: str) -> None:
        async def on_report(data: bytes) -> None:
            try:
                report = json.loads(data)
                session_id, instance, n = report["session_id"], report["instance"], report["n"]
            except (ValueError, KeyError, TypeError):
                return
            await self.reported(str(session_id), str(instance), int(n))

        await self.installation_detached(installation_id)
        self._subs[installation_id] = await self.hub.bus.subscribe(
            viewers_subject(installation_id), on_report
        )

    async def installation_detached(self, installation_id: str) -> None:
        sub = self._subs.pop(installation_id, None)
        if sub is not None:
            await sub.unsubscribe()

    async def close(self) -> None:
        for installation_id in list(self._subs):
            await self.installation_detached(installation_id)
        for session_id in list(self.watches):
            self.forget(session_id)

    def watched_elsewhere(self, session_id: str) -> bool:
        """Players of this session on another instance: its frames must cross the bus."""
        watch = self.watches.get(session_id)
        me = self.hub.router.instance_id
        return watch is not None and any(instance != me for instance in watch.leases)

    def opened(self, installation_id: str, session_id: str) -> None:
        """``session_open`` (scope live) went to the socket held here."""
        self.watches[session_id] = Watch(session_id, installation_id)

    def forget(self, session_id: str) -> None:
        watch = self.watches.pop(session_id, None)
        if watch is not None:
            _disarm(watch)
            for instance in list(watch.lapses):
                watch.withdraw(instance)

    async def started(self, session_id: str) -> None:
        """The installation started the session: it ends unless a viewer attaches within the
        grace (or the installation learns of the viewers that attached while it opened)."""
        watch = self.watches.get(session_id)
        if watch is None or watch.live:
            return
        watch.live = True
        if watch.total():
            await self._update(watch)
        else:
            self._arm(watch, self.hub.settings.first_viewer_grace_s)

    async def reported(self, session_id: str, instance: str, n: int) -> None:
        watch = self.watches.get(session_id)
        if watch is None:
            return
        watch.withdraw(instance)
        if n > 0:  # held until the next report, or lapsed if none comes in time
            watch.leases[instance] = n
            watch.lapses[instance] = asyncio.get_running_loop().call_later(
                self.hub.settings.viewer_lease_s, self._lapse, watch, instance
            )
        await self._update(watch)

    def _lapse(self, watch: Watch, instance: str) -> None:
        watch.lapses.pop(instance, None)
        watch.withdraw(instance)
        self.hub.spawn(self._update(watch), "session-viewers")

    async def _update(self, watch: Watch) -> None:
        """Tell the installation a changed total; arm or disarm the no-viewer timer."""
        conn = self._socket(watch)
        if conn is None or not watch.live:
            return
        total = watch.total()
        if total:
            _disarm(watch)
        if total != watch.told:  # viewers=0 reaches the installation before any close
            watch.told = total
            await conn.send(SessionViewers(session_id=watch.session_id, viewers=total))
        if not total and watch.timer is None:
            self._arm(watch, self.hub.settings.no_viewer_grace_s)

    def _arm(self, watch: Watch, delay: float) -> None:
        _disarm(watch)
        watch.timer = asyncio.get_running_loop().call_later(
            max(0.0, delay), self._nobody_watches, watch
        )

    def _nobody_watches(self, watch: Watch) -> None:
        watch.timer = None
        if self._socket(watch) is not None and not watch.total():
            self.hub.spawn(self._end(watch), "no-viewer")

    def _socket(self, watch: Watch) -> InstallationConnection | None:
        """The socket the watched session is still open on; None (and forgotten) if none,
        e.g. after the installation reconnected: its old sessions ended with the old socket."""
        if self.watches.get(watch.session_id) is not watch:
            return None
        conn = self.hub.connections.get(watch.installation_id)
        if conn is None or watch.session_id not in conn.forwarding:
            self.forget(watch.session_id)
            return None
        return conn

    async def _end(self, watch: Watch) -> None:
        hub, session_id = self.hub, watch.session_id
        self.forget(session_id)
        live = hub.relay.get(session_id)
        if live is not None:  # owned here: the usual end, which tells the installation
            await end_session(hub, live, NO_VIEWER)
            return
        await end_remotely(hub, watch.installation_id, session_id, NO_VIEWER)


def _disarm(watch: Watch) -> None:
    if watch.timer is not None:
        watch.timer.cancel()
        watch.timer = None
