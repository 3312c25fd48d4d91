"""The installation WebSocket: challenge authentication, then control messages and frames.

A malformed message gets an ``error`` with the ``ProtocolError`` code and the socket stays
open; only failed authentication closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy import delete, select, update

from connect_share_protocol import (
    SCOPES,
    ProtocolError,
    decode_message,
    public_key_from_b64,
    verify_auth_challenge,
)
from connect_share_protocol.messages import (
    MAX_FRAME_BYTES,
    AccessRequest,
    AuditEntries,
    AuditFetch,
    Auth,
    AuthOk,
    CameraSync,
    Challenge,
    Decision,
    Error,
    FrameHeader,
    Hello,
    IncidentInfo,
    Message,
    Ping,
    Pong,
    Revoke,
    SessionClose,
    SessionStarted,
    encode_message,
    unpack_frame,
)
from connect_share_protocol.purpose import Purpose

from . import audit, grants, neutral, sessions
from .auth import policy
from .connections import InstallationConnection
from .errors import ApiError
from .message_ids import Mark, msg_id_of, process_once
from .models import (
    AccessRequestRow,
    AuditEntry,
    Camera,
    GrantRow,
    Incident,
    Installation,
    User,
)
from .purposes import purpose_of
from .state import HUB, Hub
from .validation import is_clean_text
from .ws_guard import GuardedWebSocketResponse

_LOGGER = logging.getLogger(__name__)
MAX_CAMERAS = 256
MAX_AUDIT_BATCH = 1000
ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_SEQ = 2**31 - 1


def error(code: str, message: str = "", ref: str | None = None) -> Error:
    return Error(code=code, message=message[:200], ref=ref)


@policy(public=True)  # the installation authenticates by signing a challenge, below
async def installation_ws(request: web.Request) -> web.WebSocketResponse:
    hub = request.app[HUB]
    address = request.remote or "unknown"
    # A stranger holds at most a few sockets, each with a 16 KiB budget and a short deadline.
    if not hub.unauthenticated.try_add(address):
        raise ApiError(429, "too_many_sockets", "too many unauthenticated sockets")
    try:
        ws = GuardedWebSocketResponse(
            budget=hub.settings.pre_auth_budget_bytes,
            max_msg_size=MAX_FRAME_BYTES + FrameHeader.SIZE,
        )
        await ws.prepare(request)
        installation_id = await authenticate(hub, ws)
        if installation_id is None:
            if not ws.closed:
                await ws.close(code=WSCloseCode.POLICY_VIOLATION)
            return ws
        ws.authenticated()
    finally:
        hub.unauthenticated.remove(address)
    conn = InstallationConnection(installation_id, ws)
    keys = await hub.signing_keys()
    # auth_ok is the answer to auth: sent before the socket is registered, so nothing
    # (a ping, a request) can overtake it.
    await conn.send(AuthOk(installation_id=installation_id, hub_time=time.time(), jwks=keys.jwks()))
    replaced = hub.connections.register(conn)
    try:
        if replaced is not None:  # the newest socket wins; the old one and its sessions end
            with contextlib.suppress(Exception):
                await replaced.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"replaced")
        await hub.router.attached(conn)  # ends sessions of older sockets, here or elsewhere
        await set_online(hub, installation_id, True)
        await send_pending_revocations(hub, conn)
        await send_pending_requests(hub, conn)
        await serve_messages(hub, conn)
    finally:
        if hub.connections.unregister(conn):
            await hub.router.detached(conn)  # its sessions end wherever they are viewed
            with contextlib.suppress(Exception):
                await set_online(hub, installation_id, False)
    return ws


async def authenticate(hub: Hub, ws: web.WebSocketResponse) -> str | None:
    """hello -> challenge -> auth; returns the installation id or None (error sent)."""
    hello_id: str | None = None
    public_key = None
    nonce: str | None = None
    issued = 0.0
    try:
        async with asyncio.timeout(hub.settings.auth_timeout_s):
            async for raw in ws:
                if raw.type != WSMsgType.TEXT:
                    await _send(ws, error("not_authenticated", "authenticate first"))
                    continue
                try:
                    msg = decode_message(raw.data)
                except ProtocolError as err:
                    await _send(ws, error(err.code, err.detail))
                    continue
                if isinstance(msg, Hello):
                    row = await _installation(hub, msg.installation_id)
                    if row is None:
                        await _send(ws, error("unknown_installation", "not enrolled here"))
                        return None
                    try:
                        public_key = public_key_from_b64(row.public_key)
                    except ProtocolError:  # enrolled before keys were checked: never usable
                        await _send(ws, error("bad_public_key", "the enrolled key is refused"))
                        return None
                    hello_id = row.id
                    nonce, issued = secrets.token_urlsafe(32), time.monotonic()
                    await _send(ws, Challenge(nonce=nonce, hub_time=time.time()))
                elif isinstance(msg, Auth):
                    if hello_id is None or nonce is None or public_key is None:
                        await _send(ws, error("unexpected_message", "send hello first"))
                        continue
                    expected, nonce = nonce, None  # single use, whatever happens next
                    if msg.installation_id != hello_id:
                        await _send(ws, error("unknown_installation", "id differs from hello"))
                        return None
                    too_old = time.monotonic() - issued > hub.settings.challenge_ttl_s
                    if too_old or not secrets.compare_digest(
                        msg.nonce.encode("utf-8", "replace"), expected.encode()
                    ):
                        # A replayed or stale nonce is treated as an expired challenge.
                        await _send(ws, error("challenge_expired", "ask for a new challenge"))
                        return None
                    if not verify_auth_challenge(public_key, hello_id, expected, msg.signature):
                        await _send(ws, error("bad_signature", "signature does not verify"))
                        return None
                    return hello_id
                else:
                    await _send(ws, error("not_authenticated", "authenticate first"))
    except TimeoutError:
        await _send(ws, error("auth_timeout", "authentication took too long"))
    return None


async def _send(ws: web.WebSocketResponse, msg: Message) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(encode_message(msg))


async def _installation(hub: Hub, installation_id: str) -> Installation | None:
    if not ID_RE.match(installation_id):
        return None
    async with hub.db.read() as session:
        row = await session.get(Installation, installation_id)
    return row if row is not None and row.removed_at is None else None


async def set_online(hub: Hub, installation_id: str, online: bool) -> None:
    async with hub.db.write() as session:
        await session.execute(
            update(Installation)
            .where(Installation.id == installation_id)
            .values(online=online, last_seen_at=time.time())
        )


async def serve_messages(hub: Hub, conn: InstallationConnection) -> None:
    async for raw in conn.ws:
        conn.last_seen = time.monotonic()
        if raw.type == WSMsgType.BINARY:
            try:
                header, jpeg = unpack_frame(raw.data)
            except ProtocolError as err:
                await conn.send(error(err.code, err.detail))
                continue
            await hub.router.frame(conn, header.session_id, jpeg)
            continue
        if raw.type != WSMsgType.TEXT:
            break
        try:
            msg = decode_message(raw.data)
        except ProtocolError as err:
            await conn.send(error(err.code, err.detail))
            continue
        try:
            reply = await dispatch(hub, conn, msg)
        except ProtocolError as err:
            reply = [error(err.code, err.detail)]
        except Exception:  # keep the socket: one bad message must not cut the installation off
            _LOGGER.exception("handling %s from %s failed", msg.TYPE, conn.installation_id)
            reply = [error("internal_error", f"could not handle {msg.TYPE}")]
        for out in reply:
            await conn.send(out)


async def dispatch(hub: Hub, conn: InstallationConnection, msg: Message) -> list[Message]:
    msg_id = msg_id_of(msg)
    if msg_id is not None:  # from the installation's outbox: processed once, then acked
        return await process_once(
            hub, conn.installation_id, msg_id, lambda mark: handle(hub, conn, msg, mark)
        )
    return await handle(hub, conn, msg, None)


async def handle(
    hub: Hub, conn: InstallationConnection, msg: Message, mark: Mark | None
) -> list[Message]:
    inst = conn.installation_id
    match msg:
        case Ping():
            return [Pong(ts=msg.ts)]
        case Pong():
            return []
        case CameraSync():
            await sync_cameras(hub, inst, msg)
            return []
        case Decision():
            if not ID_RE.match(msg.request_id):
                return [error("unknown_request", "no such request", ref=msg.request_id[:64])]
            return await hub.decisions.submit(inst, msg, mark)  # group commit
        case SessionStarted():
            if not await hub.router.started(conn, msg.session_id):
                return [SessionClose(session_id=msg.session_id, reason="unknown_session")]
            return []
        case SessionClose():
            live = hub.relay.get(msg.session_id)
            if live is not None and live.installation_id == inst:
                hub.router.stop_forwarding(conn, msg.session_id)
                # Only a neutral reason is kept, whatever the installation said.
                reason = neutral.session_close_reason(msg.reason, started=live.state == "live")
                await sessions.end_session(hub, live, reason, notify_installation=False, mark=mark)
            elif msg.session_id in conn.forwarding:
                # Viewed through another instance: that instance records the end.
                reason = neutral.session_close_reason(msg.reason, started=msg.frames_sent > 0)
                await hub.router.closed(conn, msg.session_id, reason, prefix=False)
            else:
                # No hub process relays it (the one that did was killed): recorded once here.
                await sessions.end_orphaned_session(hub, inst, msg, mark=mark)
            return []
        case Revoke():
            await installation_revoke(hub, inst, msg, mark=mark)
            return []
        case AuditFetch():
            return [await audit_entries(hub, inst, msg)]
        case _:
            return [error("unexpected_message", f"{msg.TYPE} is not accepted from an installation")]


async def sync_cameras(hub: Hub, installation_id: str, msg: CameraSync) -> None:
    """Replace the installation's camera list (validated fully before anything is written)."""
    if len(msg.cameras) > MAX_CAMERAS:
        raise ProtocolError("bad_field", f"at most {MAX_CAMERAS} cameras")
    seen: set[str] = set()
    for cam in msg.cameras:
        if not cam.camera_id or len(cam.camera_id) > 128 or cam.camera_id in seen:
            raise ProtocolError("bad_field", "camera_id must be unique and 1..128 chars")
        seen.add(cam.camera_id)
        if len(cam.name) > 128:
            raise ProtocolError("bad_field", "camera name over 128 chars")
        if not (is_clean_text(cam.camera_id) and is_clean_text(cam.name)):
            raise ProtocolError("bad_field", "camera id and name must be clean text")
        for value in (cam.heading_deg, cam.fov_deg):
            if value is not None and not 0 <= value <= 360:
                raise ProtocolError("bad_field", "heading/fov must be 0..360 degrees")
        if not set(cam.scopes) <= SCOPES:
            raise ProtocolError("bad_field", f"scopes must be within {sorted(SCOPES)}")
    now = time.time()
    async with hub.db.write() as session:
        await session.execute(delete(Camera).where(Camera.installation_id == installation_id))
        for cam in msg.cameras:
            session.add(
                Camera(
                    installation_id=installation_id,
                    camera_id=cam.camera_id,
                    name=cam.name,
                    mode=cam.mode,
                    lat=cam.lat,
                    lon=cam.lon,
                    heading_deg=cam.heading_deg,
                    fov_deg=cam.fov_deg,
                    masked=cam.masked,
                    scopes=sorted(set(cam.scopes)),
                    updated_at=now,
                )
            )


async def installation_revoke(
    hub: Hub, installation_id: str, msg: Revoke, *, mark: Mark | None = None
) -> None:
    """The resident revoked: only this installation's grants are touched. The reason kept
    is the neutral ``revoked_by_resident``, whatever the message said."""
    by = f"installation:{installation_id}"
    reason = neutral.revoke_reason(msg.reason)
    filters: list[dict[str, Any]] = []
    if msg.all:
        filters.append({})
    else:
        # Ids the hub never issued cannot match; dropping them keeps odd text out of queries.
        token_ids = [t for t in msg.token_ids[:1000] if ID_RE.match(t)]
        if msg.incident_id is not None and ID_RE.match(msg.incident_id):
            filters.append({"incident_id": msg.incident_id})
        if token_ids:
            filters.append({"grant_ids": token_ids})
    for i, extra in enumerate(filters):
        await grants.revoke(
            hub,
            by=by,
            reason=reason,
            installation_id=installation_id,
            push=False,
            # The message counts as processed with its last effect (a crash before replays it).
            mark=mark if i == len(filters) - 1 else None,
            **extra,
        )


async def audit_entries(hub: Hub, installation_id: str, msg: AuditFetch) -> AuditEntries:
    limit = max(1, min(msg.limit, MAX_AUDIT_BATCH))
    async with hub.db.read() as session:
        rows = (
            await session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.installation_id == installation_id,
                    AuditEntry.seq > max(0, min(msg.since_seq, MAX_SEQ)),
                )
                .order_by(AuditEntry.seq)
                .limit(limit + 1)
            )
        ).all()
    entries = [audit.entry_to_json(e) for e in rows[:limit]]
    return AuditEntries(entries=entries, more=len(rows) > limit)


async def send_pending_revocations(hub: Hub, conn: InstallationConnection) -> None:
    """Hub-side revocations of tokens that have not expired yet, in case the installation
    was offline when they happened (revoking twice is harmless)."""
    async with hub.db.read() as session:
        token_ids = (
            await session.scalars(
                select(GrantRow.id)
                .where(
                    GrantRow.installation_id == conn.installation_id,
                    GrantRow.revoked_at.is_not(None),
                    GrantRow.expires_at > time.time(),
                    GrantRow.revoked_by.not_like("installation:%"),
                )
                .order_by(GrantRow.revoked_at)
                .limit(1000)
            )
        ).all()
    if token_ids:
        await conn.send(Revoke(reason="revoked_at_hub", token_ids=list(token_ids)))


async def send_pending_requests(hub: Hub, conn: InstallationConnection) -> None:
    """Requests made while the installation was offline, still unanswered and unexpired."""
    now = time.time()
    async with hub.db.read() as session:
        rows = (
            await session.execute(
                select(AccessRequestRow, Incident, User)
                .join(Incident, Incident.id == AccessRequestRow.incident_id)
                .join(User, User.id == AccessRequestRow.created_by)
                .where(
                    AccessRequestRow.installation_id == conn.installation_id,
                    AccessRequestRow.status == "pending",
                    AccessRequestRow.expires_at > now,
                    Incident.closed_at.is_(None),
                )
                .order_by(AccessRequestRow.created_at)
            )
        ).all()
    for req, incident, officer in rows:
        await conn.send(
            access_request_message(
                req,
                incident,
                officer,
                hub.settings.default_token_lifetime_s,
                purpose_of(hub.settings, incident, req),
            )
        )


def access_request_message(
    req: AccessRequestRow,
    incident: Incident,
    officer: User,
    max_session_s: int = 900,
    purpose: Purpose | None = None,
) -> AccessRequest:
    return AccessRequest(
        request_id=req.id,
        incident=IncidentInfo(
            incident_id=incident.id,
            case_number=incident.case_number,
            incident_type=incident.incident_type,
            reason=incident.reason,
            lat=incident.lat,
            lon=incident.lon,
            radius_m=incident.radius_m,
            officer_id=officer.id,
            officer_name=officer.display_name,
            badge=officer.badge,
            purpose=purpose,
        ),
        camera_ids=list(req.camera_ids),
        scope=req.scope,
        window_start=req.window_start,
        window_end=req.window_end,
        max_session_s=max_session_s,
    )


async def heartbeat(hub: Hub) -> None:
    """Ping every connected installation; drop the ones that stopped talking."""
    while True:
        await asyncio.sleep(hub.settings.heartbeat_s)
        now = time.monotonic()
        for conn in hub.connections.all():
            if now - conn.last_seen > hub.settings.stale_after_s:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"stale")
            else:
                await conn.send(Ping(ts=time.time()))
