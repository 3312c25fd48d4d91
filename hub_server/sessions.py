"""Live sessions: open on an approved camera, relay, end on expiry, close or revoke."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from connect_share_protocol.messages import SessionClose, SessionOpen, new_session_id

from . import audit, neutral
from .auth import AuthUser
from .errors import ApiError, not_found
from .grant_tokens import grant_token
from .message_ids import Mark
from .models import GrantRow, Incident, LiveSessionRow
from .relay import RelaySession
from .state import Hub

# A session must have at least this long left on its token to be worth opening.
MIN_REMAINING_S = 1


async def usable_grant(hub: Hub, user: AuthUser, grant_id: str, scope: str) -> GrantRow:
    """The grant, if this officer may use it for ``scope`` now (deny by default).

    The one check for live view and snapshots alike: a refusal is 403 with its reason.
    """
    async with hub.db.read() as session:
        grant = await session.get(GrantRow, grant_id)
        incident = await session.get(Incident, grant.incident_id) if grant else None
    if grant is None or incident is None:
        raise not_found("grant")
    if grant.officer_id != user.id:
        # The token names one officer; only that officer may use it.
        raise ApiError(403, "not_your_grant", "the grant was issued to another officer")
    if grant.scope != scope:
        raise ApiError(403, "scope_not_granted", f"the grant is not for {scope}")
    if grant.revoked_at is not None:
        raise ApiError(403, "grant_revoked", "the grant was revoked")
    if grant.expires_at - time.time() < MIN_REMAINING_S:
        raise ApiError(403, "grant_expired", "the grant has expired")
    if incident.closed_at is not None:
        raise ApiError(403, "incident_closed", "the incident is closed")
    return grant


async def open_session(
    hub: Hub, user: AuthUser, grant_id: str, camera_id: str, fps: float
) -> RelaySession:
    grant = await usable_grant(hub, user, grant_id, "live")
    if camera_id not in grant.camera_ids:
        raise ApiError(403, "camera_not_granted", "the camera is not in the grant")
    if not hub.router.is_online(grant.installation_id):
        raise ApiError(409, "installation_offline", "the installation is not connected")

    token = await grant_token(hub, grant)  # re-signed: the row keeps no token
    live = await begin(hub, user, grant, camera_id)
    sent = await hub.router.send(
        grant.installation_id,
        SessionOpen(
            session_id=live.id,
            token=token,
            camera_id=camera_id,
            scope="live",
            fps=min(fps, grant.max_fps),
        ),
    )
    if not sent:
        await end_session(hub, live, "installation_offline", notify_installation=False)
        raise ApiError(409, "installation_offline", "the installation is not connected")
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(hub.settings.session_open_timeout_s):
            await live.started.wait()
    if live.state == "live":
        return live
    if live.state == "ended":
        raise ApiError(409, "session_refused", f"the installation refused: {live.end_reason}")
    await end_session(hub, live, "installation_timeout")
    raise ApiError(504, "installation_timeout", "the installation did not start the session")


async def begin(
    hub: Hub,
    user: AuthUser,
    grant: GrantRow,
    camera_id: str,
    *,
    scope: str = "live",
    frame_limit: int | None = None,
) -> RelaySession:
    """Record the session and its ``session.start`` entry; register it with the relay.

    The caller then sends ``session_open``; the session ends at the token's expiry at the
    latest.
    """
    now = time.time()
    session_id = new_session_id()
    extra: dict[str, str] = {"scope": scope} if scope != "live" else {}
    async with hub.db.write() as s:
        incident = await s.get(Incident, grant.incident_id)
        if incident is not None:  # accountability: every view says why
            extra.update(
                offense_code=incident.offense_code,
                legal_basis=grant.legal_basis,
                reason=incident.reason,
            )
        s.add(
            LiveSessionRow(
                id=session_id,
                grant_id=grant.id,
                incident_id=grant.incident_id,
                installation_id=grant.installation_id,
                camera_id=camera_id,
                opened_by=user.id,
                opened_at=now,
                frames_relayed=0,
            )
        )
        await audit.append(
            hub.db,
            s,
            "session.start",
            actor=f"user:{user.id}",
            installation_id=grant.installation_id,
            incident_id=grant.incident_id,
            session_id=session_id,
            token_id=grant.id,
            camera_id=camera_id,
            officer_name=user.display_name,
            badge=user.badge,
            **extra,
        )
    live = RelaySession(
        id=session_id,
        installation_id=grant.installation_id,
        camera_id=camera_id,
        grant_id=grant.id,
        incident_id=grant.incident_id,
        opened_by=user.id,
        expires_at=grant.expires_at,
        frame_limit=frame_limit,
    )
    hub.relay.add(live)
    await hub.router.watch(live)  # frames come over the bus when the socket is elsewhere
    live.timer = asyncio.get_running_loop().call_later(
        max(0.0, grant.expires_at - time.time()),
        lambda: hub.spawn(end_session(hub, live, "token_expired"), "session-expiry"),
    )
    return live


async def mark_started(hub: Hub, installation_id: str, session_id: str) -> bool:
    live = hub.relay.get(session_id)
    if live is None or live.installation_id != installation_id or live.state != "opening":
        return False
    live.state = "live"
    async with hub.db.write() as s:
        row = await s.get(LiveSessionRow, session_id)
        if row is not None:
            row.started_at = time.time()
    # Only now is the officer answered: every instance then reads the row as started.
    live.started.set()
    return True


async def end_session(
    hub: Hub,
    live: RelaySession,
    reason: str,
    *,
    notify_installation: bool = True,
    mark: Mark | None = None,
) -> None:
    """Stop relaying (at once), tell the installation, record the end. Idempotent.

    ``mark`` records the installation message that ended it in the same transaction.
    """
    first = hub.relay.finish(live.id, reason) is not None
    await hub.router.unwatch(live)
    if not first and live.end_reason:
        reason = live.end_reason  # already finished (e.g. by a revoke): keep its reason
    await hub.router.ended(live.installation_id, live.id, reason)  # streams served elsewhere
    async with hub.db.write() as s:
        if mark is not None:
            await mark(s)
        # Locked: another instance may be ending it too (it is recorded once).
        row = await s.get(LiveSessionRow, live.id, with_for_update=True)
        if row is None or row.ended_at is not None:
            return
        row.ended_at = time.time()
        row.end_reason = reason[:64]
        row.frames_relayed = live.frames
        await audit.append(
            hub.db,
            s,
            "session.stop",
            actor="hub",
            installation_id=live.installation_id,
            incident_id=live.incident_id,
            session_id=live.id,
            camera_id=live.camera_id,
            reason=reason,
            frames_relayed=live.frames,
            duration_s=round(row.ended_at - row.opened_at, 3),
        )
    if notify_installation:
        await hub.router.send(live.installation_id, SessionClose(session_id=live.id, reason=reason))


async def end_orphaned_session(
    hub: Hub, installation_id: str, msg: SessionClose, *, mark: Mark | None = None
) -> None:
    """An installation reports the end of a session this process does not relay: the hub
    that relayed it died (SIGKILL, crash) and the installation's outbox delivers the end
    after the restart. Recorded once, with the frames the installation says it sent."""
    await _end_row(
        hub,
        installation_id,
        msg.session_id,
        # Only a neutral reason is kept, whatever the installation said.
        lambda started: neutral.session_close_reason(msg.reason, started=started),
        mark=mark,
        frames_sent=max(0, msg.frames_sent),
        after_hub_restart=True,
    )


async def end_unowned_session(hub: Hub, installation_id: str, session_id: str, reason: str) -> None:
    """The instance holding the socket ended a session (``no_viewer``) whose owning
    instance is gone (SIGKILL): recorded here, once."""
    await _end_row(hub, installation_id, session_id, lambda _started: reason, owner_gone=True)
    await hub.router.ended(installation_id, session_id, reason)


async def end_remotely(hub: Hub, installation_id: str, session_id: str, reason: str) -> None:
    """End a session owned by another instance: recorded there (here if it is gone), then
    ``session_close`` to the installation."""
    if not await hub.router.end_remote(installation_id, session_id, reason):
        await end_unowned_session(hub, installation_id, session_id, reason)
    await hub.router.send(installation_id, SessionClose(session_id=session_id, reason=reason))


async def state_elsewhere(hub: Hub, row: LiveSessionRow) -> str:
    """The state of a session this instance neither owns nor serves: the shared row says
    whether it ended; an open row is only believed while its owner answers on the bus (a
    row left open by an instance that died is ended for the officer, as its stream is)."""
    if row.ended_at is not None:
        return "ended"
    if not await hub.router.owned_elsewhere(row.installation_id, row.id):
        return "ended"
    return "live" if row.started_at is not None else "opening"


async def replicate(hub: Hub, row: LiveSessionRow) -> RelaySession | None:
    """Serve here the stream of a live session another instance owns (the load balancer
    sent the player here): frames come over the bus; its owner records and ends it."""
    if row.ended_at is not None:  # (started_at may not be written yet: no check on it)
        return None
    async with hub.db.read() as s:
        grant = await s.get(GrantRow, row.grant_id)
    now = time.time()
    if grant is None or grant.revoked_at is not None or grant.expires_at <= now:
        return None
    if not await hub.router.owned_elsewhere(row.installation_id, row.id):
        return None
    existing = hub.relay.get(row.id) or hub.relay.replicas.get(row.id)
    if existing is not None:  # created meanwhile by another request
        return existing
    replica = RelaySession(
        id=row.id,
        installation_id=row.installation_id,
        camera_id=row.camera_id,
        grant_id=row.grant_id,
        incident_id=row.incident_id,
        opened_by=row.opened_by,
        expires_at=grant.expires_at,
        state="live",
    )
    replica.started.set()
    hub.relay.replicas[row.id] = replica
    await hub.router.watch_replica(replica)
    replica.timer = asyncio.get_running_loop().call_later(
        grant.expires_at - now,
        lambda: hub.spawn(end_replica(hub, replica, "token_expired"), "replica-expiry"),
    )
    return replica


async def end_replica(hub: Hub, replica: RelaySession, reason: str) -> None:
    """Stop serving a replica's stream here (nothing is recorded: its owner does that)."""
    hub.relay.finish(replica.id, reason)
    await hub.router.unwatch(replica)


async def _end_row(
    hub: Hub,
    installation_id: str,
    session_id: str,
    reason_for: Callable[[bool], str],
    *,
    mark: Mark | None = None,
    **extra: Any,
) -> None:
    """Record the end of a session no process here relays (``reason_for(started)``)."""
    async with hub.db.write() as s:
        if mark is not None:
            await mark(s)
        row = await s.get(LiveSessionRow, session_id, with_for_update=True)
        if row is None or row.installation_id != installation_id or row.ended_at is not None:
            return
        reason = reason_for(row.started_at is not None)
        row.ended_at = time.time()
        row.end_reason = reason[:64]
        await audit.append(
            hub.db,
            s,
            "session.stop",
            actor="hub",
            installation_id=installation_id,
            incident_id=row.incident_id,
            session_id=row.id,
            camera_id=row.camera_id,
            reason=reason,
            frames_relayed=row.frames_relayed,
            duration_s=round(row.ended_at - row.opened_at, 3),
            **extra,
        )


async def close_by_officer(hub: Hub, user: AuthUser, session_id: str) -> str:
    async with hub.db.read() as s:
        row = await s.get(LiveSessionRow, session_id)
    if row is None:
        raise not_found("session")
    if row.opened_by != user.id and user.role not in ("supervisor", "admin"):
        raise ApiError(403, "not_your_session", "only the officer who opened it may close it")
    live = hub.relay.get(session_id)
    if live is not None:
        await end_session(hub, live, "closed_by_officer")
        return "closed_by_officer"
    if row.ended_at is None:  # open on another instance
        await end_remotely(hub, row.installation_id, session_id, "closed_by_officer")
        return "closed_by_officer"
    return row.end_reason or "ended"
