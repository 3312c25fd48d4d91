"""One snapshot under a ``snapshot`` grant: a session of one frame, never stored on the hub.

The hub opens a session with scope ``snapshot`` on the installation's socket, waits (at
most ``snapshot_timeout_s``) for the first JPEG, closes the session and hands the bytes to
the HTTP response. The relay takes exactly one frame (``frame_limit``); the audit log gets
``session.start`` and ``session.stop`` as for live view.
"""

from __future__ import annotations

import asyncio

from connect_share_protocol.messages import SessionOpen

from . import sessions
from .auth import AuthUser
from .connections import InstallationConnection
from .errors import ApiError
from .grant_tokens import grant_token
from .models import GrantRow
from .relay import RelaySession, Viewer
from .state import Hub

SNAPSHOT_FPS = 1.0
TAKEN = "snapshot_taken"
# End reasons that mean the installation went away rather than said no.
GONE = ("installation_disconnected", "installation_reconnected", "installation_offline")


def offline() -> ApiError:
    return ApiError(409, "installation_offline", "the installation is not connected")


async def load_grant(hub: Hub, user: AuthUser, grant_id: str) -> GrantRow:
    """The grant, if this officer may take a snapshot under it now (deny by default)."""
    grant = await sessions.usable_grant(hub, user, grant_id, "snapshot")
    if len(grant.camera_ids) != 1:
        raise ApiError(403, "camera_not_granted", "a snapshot grant names one camera")
    return grant


async def take_snapshot(hub: Hub, user: AuthUser, grant_id: str) -> bytes:
    """The installation's next (masked) JPEG for the grant's camera, or an ``ApiError``."""
    grant = await load_grant(hub, user, grant_id)
    conn = hub.connections.get(grant.installation_id)
    if conn is None:
        raise offline()
    if hub.relay.for_grants({grant.id}):
        # One at a time per grant: a resident's camera is not a picture feed on repeat.
        raise ApiError(429, "snapshot_pending", "a snapshot of this grant is being taken")
    live = await sessions.begin(
        hub, user, grant, grant.camera_ids[0], scope="snapshot", frame_limit=1
    )
    viewer = hub.relay.attach(live)  # before session_open: the first frame must not be missed
    try:
        return await _first_frame(hub, conn, grant, live, viewer)
    finally:
        hub.relay.detach(live, viewer)
        if live.active:  # cancelled (client went away): end it without waiting here
            hub.spawn(sessions.end_session(hub, live, "snapshot_aborted"), "snapshot-end")


async def _first_frame(
    hub: Hub, conn: InstallationConnection, grant: GrantRow, live: RelaySession, viewer: Viewer
) -> bytes:
    opened = SessionOpen(
        session_id=live.id,
        token=await grant_token(hub, grant),  # re-signed: the row keeps no token
        camera_id=live.camera_id,
        scope="snapshot",
        fps=min(SNAPSHOT_FPS, grant.max_fps),
    )
    if not await conn.send(opened):
        await sessions.end_session(hub, live, "installation_offline", notify_installation=False)
        raise offline()
    try:
        async with asyncio.timeout(hub.settings.snapshot_timeout_s):
            await live.started.wait()
            frame = await viewer.next_frame() if live.state == "live" else None
    except TimeoutError:
        await sessions.end_session(hub, live, "installation_timeout")
        raise ApiError(504, "installation_timeout", "no snapshot came in time") from None
    if frame is None:
        reason = live.end_reason or "ended"
        # Ended elsewhere (refused, revoked, disconnected): record it before answering.
        await sessions.end_session(hub, live, reason, notify_installation=False)
        raise refusal(reason)
    await sessions.end_session(hub, live, TAKEN)
    return frame


def refusal(reason: str) -> ApiError:
    if reason in GONE:
        return offline()
    if reason == "revoked":
        return ApiError(403, "grant_revoked", "the grant was revoked")
    said = reason.removeprefix("installation:")
    return ApiError(403, "snapshot_refused", f"the installation refused: {said}")
