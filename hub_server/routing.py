"""Cross-instance routing: messages reach an installation whichever instance holds its socket.

Roles, per installation and per live session:

* the *holder* holds the installation's WebSocket. It subscribes to ``cs.inst.<id>`` and
  forwards what arrives there (requests, revocations, session open/close) to the socket.
  It remembers which sessions were opened through it (``conn.forwarding``) and forwards
  only those sessions' frames, start and close to the viewer.
* the *viewer* instance serves the officer's stream. It owns the ``RelaySession`` (and its
  database row and audit entries) and subscribes to ``cs.sess.<session_id>`` for frames
  (``F``), start (``S``), close by the installation (``C``), stop on revocation (``R``) and
  end for want of a viewer (``N``, from the holder, which counts the players of every
  instance: ``viewers.ViewerTally``, fed on ``cs.viewers.<installation_id>``).

When both roles are in one instance (always, with the in-process bus) nothing crosses the
bus. ``cs.events`` carries ``online``/``offline`` announcements: an installation that
connects anywhere ends the sessions that other instances still relayed for it, and an
older socket on another instance is closed (the newest socket wins).
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode

from connect_share_protocol import decode_message
from connect_share_protocol.messages import Message, SessionClose, SessionOpen, encode_message

from .bus import Subscription

if TYPE_CHECKING:
    from .connections import InstallationConnection
    from .relay import RelaySession
    from .state import Hub

_LOGGER = logging.getLogger(__name__)
EVENTS = "cs.events"
SEND_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 2.0
ID_LEN = 32


def inst_subject(installation_id: str) -> str:
    return f"cs.inst.{installation_id}"


def session_subject(session_id: str) -> str:
    return f"cs.sess.{session_id}"


class Router:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.instance_id = uuid.uuid4().hex
        # installation id -> instance holding its socket, as announced on cs.events.
        self.presence: dict[str, str] = {}
        self._holder_subs: dict[str, Subscription] = {}
        self._events: Subscription | None = None
        from .viewers import ViewerTally  # late: viewers imports sessions, which imports state

        # Holder side of "no viewer, no session": every instance's players, added up here.
        self.viewer_tally = ViewerTally(hub)

    @property
    def bus(self):  # type: ignore[no-untyped-def]
        return self.hub.bus

    async def start(self) -> None:
        self._events = await self.bus.subscribe(EVENTS, self._on_event)

    async def close(self) -> None:
        if self._events is not None:
            await self._events.unsubscribe()
        for sub in list(self._holder_subs.values()):
            await sub.unsubscribe()
        self._holder_subs.clear()
        await self.viewer_tally.close()

    # --- towards installations -------------------------------------------------------

    def is_online(self, installation_id: str) -> bool:
        return self.hub.connections.get(installation_id) is not None or (
            installation_id in self.presence
        )

    async def send(self, installation_id: str, msg: Message) -> bool:
        """Deliver to the installation's socket, here or on the instance holding it."""
        conn = self.hub.connections.get(installation_id)
        if conn is not None:
            return await self._deliver_local(conn, msg)
        reply = await self.bus.request(
            inst_subject(installation_id), encode_message(msg).encode(), SEND_TIMEOUT_S
        )
        return reply == b"1"

    async def _deliver_local(self, conn: InstallationConnection, msg: Message) -> bool:
        if isinstance(msg, SessionOpen):
            conn.forwarding.add(msg.session_id)
            if msg.scope == "live":  # snapshots are not watched
                self.viewer_tally.opened(conn.installation_id, msg.session_id)
        elif isinstance(msg, SessionClose):
            self.stop_forwarding(conn, msg.session_id)
        return await conn.send(msg)

    def stop_forwarding(self, conn: InstallationConnection, session_id: str) -> None:
        conn.forwarding.discard(session_id)
        self.viewer_tally.forget(session_id)

    # --- holder side ------------------------------------------------------------------

    async def attached(self, conn: InstallationConnection) -> None:
        """A socket authenticated here: take the installation's subject, tell the others."""
        from .sessions import end_session  # late: sessions imports this module's users

        inst = conn.installation_id
        for live in self.hub.relay.for_installation(inst):  # its old socket knew them
            await end_session(self.hub, live, "installation_reconnected", notify_installation=False)
        await self._end_replicas(inst)

        async def on_message(data: bytes) -> bytes:
            current = self.hub.connections.get(inst)
            if current is None:
                return b"0"
            msg = decode_message(data.decode())
            return b"1" if await self._deliver_local(current, msg) else b"0"

        old = self._holder_subs.pop(inst, None)
        if old is not None:
            await old.unsubscribe()
        self._holder_subs[inst] = await self.bus.subscribe(inst_subject(inst), on_message)
        await self.viewer_tally.installation_attached(inst)
        self.presence[inst] = self.instance_id
        await self._announce("online", inst)

    async def detached(self, conn: InstallationConnection) -> None:
        """The installation's socket here is gone: its sessions end wherever they are viewed."""
        inst = conn.installation_id
        sub = self._holder_subs.pop(inst, None)
        if sub is not None:
            await sub.unsubscribe()
        for session_id in list(conn.forwarding):
            await self.closed(conn, session_id, "installation_disconnected", prefix=False)
        await self.viewer_tally.installation_detached(inst)
        if self.presence.get(inst) == self.instance_id:
            del self.presence[inst]
        with contextlib.suppress(Exception):
            await self._announce("offline", inst)

    async def frame(self, conn: InstallationConnection, session_id: str, jpeg: bytes) -> None:
        if session_id not in conn.forwarding:
            return
        if self.hub.relay.get(session_id) is not None:
            self.hub.relay.deliver(conn.installation_id, session_id, jpeg)
            if not self.viewer_tally.watched_elsewhere(session_id):
                return
        await self.bus.publish(
            session_subject(session_id), b"F" + conn.installation_id.encode() + jpeg
        )

    async def started(self, conn: InstallationConnection, session_id: str) -> bool:
        from .sessions import mark_started

        if session_id not in conn.forwarding:
            return False
        if self.hub.relay.get(session_id) is not None:
            if not await mark_started(self.hub, conn.installation_id, session_id):
                return False
        else:
            await self.bus.publish(
                session_subject(session_id), b"S" + conn.installation_id.encode()
            )
        await self.viewer_tally.started(session_id)
        return True

    async def closed(
        self, conn: InstallationConnection, session_id: str, reason: str, *, prefix: bool = True
    ) -> None:
        """The installation ended the session (or its socket went away)."""
        from .sessions import end_session

        if session_id not in conn.forwarding:
            return
        self.stop_forwarding(conn, session_id)
        reason = f"installation:{reason}"[:64] if prefix else reason
        live = self.hub.relay.get(session_id)
        if live is not None:
            if live.installation_id == conn.installation_id:
                await end_session(self.hub, live, reason, notify_installation=False)
            return
        await self.bus.publish(
            session_subject(session_id),
            b"C" + conn.installation_id.encode() + reason.encode(),
        )

    # --- viewer side ------------------------------------------------------------------

    async def watch(self, live: RelaySession) -> None:
        """Receive this session's frames and events from whichever instance holds the socket."""
        from .sessions import end_session, mark_started

        hub = self.hub

        async def on_message(data: bytes) -> bytes | None:
            kind, inst, rest = data[:1], data[1 : 1 + ID_LEN].decode(), data[1 + ID_LEN :]
            if kind == b"R":  # revoked elsewhere: stop before answering
                hub.relay.finish(live.id, "revoked")
                hub.spawn(end_session(hub, live, "revoked", notify_installation=False))
                return b"1"
            if inst != live.installation_id:
                return None
            if kind == b"F":
                conn = hub.connections.get(inst)
                if conn is None or live.id not in conn.forwarding:  # else delivered already
                    hub.relay.deliver(inst, live.id, rest)
            elif kind == b"S":
                await mark_started(hub, inst, live.id)
            elif kind == b"C":
                await end_session(hub, live, rest.decode()[:64], notify_installation=False)
            elif kind == b"P":  # is it live here? (an instance about to serve its stream)
                return b"1" if live.active else None
            elif kind == b"N":  # ended elsewhere (no viewer, officer): that one tells the
                await end_session(hub, live, rest.decode()[:64], notify_installation=False)
                return b"1"  # installation once the end is recorded here
            return None

        live.bus_subscription = await self.bus.subscribe(session_subject(live.id), on_message)

    async def watch_replica(self, replica: RelaySession) -> None:
        """Frames for a stream served here of a session owned elsewhere, until it ends."""
        from .sessions import end_replica

        hub = self.hub

        async def on_message(data: bytes) -> None:
            kind, inst, rest = data[:1], data[1 : 1 + ID_LEN].decode(), data[1 + ID_LEN :]
            if kind == b"R":  # the owner answers the revocation; the stream stops here too
                await end_replica(hub, replica, "revoked")
            elif inst != replica.installation_id:
                return
            elif kind == b"F":
                hub.relay.deliver(inst, replica.id, rest)
            elif kind in (b"C", b"E"):  # closed by the installation, ended by the owner
                await end_replica(hub, replica, rest.decode()[:64])

        replica.bus_subscription = await self.bus.subscribe(session_subject(replica.id), on_message)

    async def owned_elsewhere(self, installation_id: str, session_id: str) -> bool:
        """True when another instance relays this session now (its row alone may be stale:
        the instance that relayed it may have died)."""
        reply = await self.bus.request(
            session_subject(session_id), b"P" + installation_id.encode(), STOP_TIMEOUT_S
        )
        return reply == b"1"

    async def ended(self, installation_id: str, session_id: str, reason: str) -> None:
        """The session's end is recorded: instances serving its stream stop it too."""
        await self.bus.publish(
            session_subject(session_id), b"E" + installation_id.encode() + reason.encode()
        )

    async def unwatch(self, live: RelaySession) -> None:
        sub = live.bus_subscription
        if isinstance(sub, Subscription):
            await sub.unsubscribe()

    async def end_remote(self, installation_id: str, session_id: str, reason: str) -> bool:
        """Ask the instance owning a session to record its end; False when none answers."""
        reply = await self.bus.request(
            session_subject(session_id),
            b"N" + installation_id.encode() + reason.encode(),
            STOP_TIMEOUT_S,
        )
        return reply == b"1"

    async def stop_remote(self, session_id: str) -> None:
        """Stop a session viewed on another instance (revocation); waits for its answer."""
        if self.hub.relay.get(session_id) is not None:
            return
        await self.bus.request(session_subject(session_id), b"R" + b"0" * ID_LEN, STOP_TIMEOUT_S)

    # --- events -----------------------------------------------------------------------

    async def _announce(self, kind: str, installation_id: str) -> None:
        payload = {"type": kind, "installation_id": installation_id, "instance": self.instance_id}
        await self.bus.publish(EVENTS, json.dumps(payload).encode())

    async def _on_event(self, data: bytes) -> None:
        from .sessions import end_session

        try:
            event = json.loads(data)
            kind, inst, instance = event["type"], event["installation_id"], event["instance"]
        except (ValueError, KeyError, TypeError):
            return None
        if instance == self.instance_id:
            return None
        if kind == "offline":
            if self.presence.get(inst) == instance:
                del self.presence[inst]
            return None
        if kind != "online":
            return None
        self.presence[inst] = instance
        conn = self.hub.connections.get(inst)
        if conn is not None:  # the installation connected elsewhere: the newest socket wins
            with contextlib.suppress(Exception):
                await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"replaced")
        for live in self.hub.relay.for_installation(inst):
            await end_session(self.hub, live, "installation_reconnected", notify_installation=False)
        await self._end_replicas(inst)
        return None

    async def _end_replicas(self, installation_id: str) -> None:
        """Streams served here of its sessions owned elsewhere (the owner may be gone)."""
        from .sessions import end_replica

        for replica in list(self.hub.relay.replicas.values()):
            if replica.installation_id == installation_id:
                await end_replica(self.hub, replica, "installation_reconnected")
