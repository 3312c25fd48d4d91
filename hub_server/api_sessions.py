"""Live sessions over HTTP: open, status, MJPEG stream, close."""

from __future__ import annotations

from aiohttp import web

from . import sessions, snapshots, viewers
from .auth import LIVE_ROLES, current_user, policy
from .errors import ApiError, not_found
from .incident_access import load_for
from .models import LiveSessionRow
from .state import get_hub
from .validation import Fields, path_id, read_json

routes = web.RouteTableDef()
BOUNDARY = "connectshareframe"
# A few tabs of the same session are fine; more is a leak or abuse.
MAX_VIEWERS_PER_SESSION = 4


def session_json(row: LiveSessionRow, state: str) -> dict[str, object]:
    return {
        "session_id": row.id,
        "grant_id": row.grant_id,
        "incident_id": row.incident_id,
        "installation_id": row.installation_id,
        "camera_id": row.camera_id,
        "opened_by": row.opened_by,
        "opened_at": row.opened_at,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "end_reason": row.end_reason,
        "frames_relayed": row.frames_relayed,
        "state": state,
        "stream_path": f"/api/v1/sessions/{row.id}/stream",
    }


@routes.post("/api/v1/sessions")
@policy(*LIVE_ROLES)
async def open_session(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    f = Fields(await read_json(request))
    grant_id = f.text("grant_id", max_len=64) or ""
    camera_id = f.text("camera_id", max_len=128) or ""
    fps = f.number("fps", required=False, low=0.1, high=30, default=2.0) or 2.0
    f.done()
    # No viewer, no session: the instance holding the installation's socket ends it unless
    # a player attaches (hub_server/viewers.py).
    live = await sessions.open_session(hub, user, grant_id, camera_id, fps)
    return web.json_response(
        {
            "session_id": live.id,
            "state": live.state,
            "expires_at": live.expires_at,
            "stream_path": f"/api/v1/sessions/{live.id}/stream",
        },
        status=201,
    )


async def load_row(request: web.Request) -> LiveSessionRow:
    hub = get_hub(request)
    async with hub.db.read() as session:
        row = await session.get(LiveSessionRow, path_id(request, "session_id", "session"))
    if row is None:
        raise not_found("session")
    return row


@routes.get("/api/v1/sessions/{session_id}")
@policy(*LIVE_ROLES)
async def get_session(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    row = await load_row(request)
    if row.opened_by != user.id:
        await load_for(hub, user, row.incident_id)
    live = hub.relay.get(row.id) or hub.relay.replicas.get(row.id)
    state = live.state if live is not None else await sessions.state_elsewhere(hub, row)
    data = session_json(row, state)
    if live is not None:
        data["frames_relayed"] = live.frames
    return web.json_response({"session": data})


@routes.get("/api/v1/sessions/{session_id}/stream")
@policy(*LIVE_ROLES)
async def stream(request: web.Request) -> web.StreamResponse:
    """MJPEG (multipart/x-mixed-replace) of the relayed frames, for an <img> tag."""
    hub = get_hub(request)
    user = current_user(request)
    row = await load_row(request)
    if row.opened_by != user.id:
        raise ApiError(403, "not_your_session", "only the officer who opened it may watch")
    # Owned here, or by another instance (then its frames are relayed here too).
    live = hub.relay.get(row.id) or hub.relay.replicas.get(row.id)
    if live is None:
        live = await sessions.replicate(hub, row)
    if live is None or not live.active:
        raise ApiError(410, "session_ended", f"the session ended: {row.end_reason or 'ended'}")
    if len(live.viewers) >= MAX_VIEWERS_PER_SESSION:
        raise ApiError(429, "too_many_viewers", "close another stream of this session first")
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    viewer = await viewers.attach(hub, live)
    interval = viewers.watch_interval(hub)
    try:
        await response.prepare(request)
        while (frame := await viewers.next_frame(request, viewer, interval)) is not None:
            await response.write(
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                f"Content-Length: {len(frame)}\r\n\r\n".encode()
                + frame
                + b"\r\n"
            )
        await response.write(f"--{BOUNDARY}--\r\n".encode())
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        await viewers.detach(hub, live, viewer)
    return response


@routes.post("/api/v1/sessions/{session_id}/close")
@policy(*LIVE_ROLES)
async def close_session(request: web.Request) -> web.Response:
    hub = get_hub(request)
    user = current_user(request)
    session_id = path_id(request, "session_id", "session")
    reason = await sessions.close_by_officer(hub, user, session_id)
    return web.json_response({"session_id": session_id, "ended": reason})


@routes.post("/api/v1/grants/{grant_id}/snapshot")
@policy(*LIVE_ROLES)
async def snapshot(request: web.Request) -> web.Response:
    """One JPEG from the grant's camera (scope ``snapshot``), fetched now, never stored."""
    hub = get_hub(request)
    user = current_user(request)
    jpeg = await snapshots.take_snapshot(hub, user, path_id(request, "grant_id", "grant"))
    return web.Response(
        body=jpeg,
        headers={
            "Content-Type": "image/jpeg",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
