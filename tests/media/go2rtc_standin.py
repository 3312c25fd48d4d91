"""A go2rtc stand-in: the endpoints the media path uses, as in go2rtc-openapi.yaml.

``ROUTES`` lists every (method, spec path, required query params, statuses) the stand-in
serves; ``test_go2rtc_standin_matches_spec`` checks each one against the OpenAPI file and
checks the aiohttp router serves nothing else. Frames are real JPEG photographs.

Per-stream behaviour for the bad-input tests: ``"ok"`` (default), ``"hang"`` (never
answers), ``"garbage"`` (HTML instead of JPEG), ``"huge"`` (a JPEG header claiming
10,000 x 10,000).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from .frames import huge_header_jpeg

VERSION = "1.9.14"
BOUNDARY = "frame"


@dataclass(frozen=True)
class Route:
    method: str
    spec_path: str  # key under ``paths:`` in the OpenAPI file
    required_query: frozenset[str]
    statuses: frozenset[int]


ROUTES = (
    Route("GET", "/api", frozenset(), frozenset({200})),
    Route("GET", "/api/streams", frozenset(), frozenset({200})),
    Route("GET", "/api/streams?src={src}", frozenset({"src"}), frozenset({200, 404})),
    Route("PUT", "/api/streams", frozenset({"src"}), frozenset({200, 400})),
    Route("GET", "/api/frame.jpeg?src={src}", frozenset({"src"}), frozenset({200, 404})),
    Route("GET", "/api/stream.mjpeg?src={src}", frozenset({"src"}), frozenset({200, 404})),
    Route("POST", "/api/webrtc?src={src}", frozenset({"src"}), frozenset({200, 404})),
)

# Status codes real go2rtc 1.9 sends that the OpenAPI file does not list. Each is what
# go2rtc's own handlers do (``http.Error(w, api.StreamNotFound, 404)`` for an unknown
# stream; 401 from the API's basic-auth middleware when ``api.username`` is set).
UNDOCUMENTED_STATUSES = {
    ("GET", "/api/streams?src={src}", 404),
    ("GET", "/api/frame.jpeg?src={src}", 404),
    ("GET", "/api/stream.mjpeg?src={src}", 404),
    ("POST", "/api/webrtc?src={src}", 404),
}
AUTH_STATUS = 401  # any route, when credentials are configured


@dataclass
class StandinState:
    frames: list[bytes]
    streams: dict[str, str] = field(default_factory=dict)  # name -> source URL
    behaviour: dict[str, str] = field(default_factory=dict)  # name -> ok|hang|garbage|huge
    mjpeg_fps: float = 10.0
    username: str | None = None
    password: str | None = None
    frame_requests: int = 0
    mjpeg_clients: int = 0
    hung: list[asyncio.Event] = field(default_factory=list)


def make_app(state: StandinState) -> web.Application:
    app = web.Application(middlewares=[_auth_middleware(state)])
    app["state"] = state
    app.router.add_get("/api", _api)
    app.router.add_get("/api/streams", _streams_get)
    app.router.add_put("/api/streams", _streams_put)
    app.router.add_get("/api/frame.jpeg", _frame)
    app.router.add_get("/api/stream.mjpeg", _mjpeg)
    app.router.add_post("/api/webrtc", _webrtc)

    async def release_hung(_app: web.Application) -> None:
        for event in state.hung:
            event.set()

    app.on_shutdown.append(release_hung)
    return app


def _auth_middleware(state: StandinState):
    @web.middleware
    async def middleware(request: web.Request, handler):
        if state.username is not None:
            expected = base64.b64encode(f"{state.username}:{state.password}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return web.Response(
                    status=AUTH_STATUS, headers={"WWW-Authenticate": 'Basic realm="go2rtc"'}
                )
        return await handler(request)

    return middleware


def _state(request: web.Request) -> StandinState:
    return request.app["state"]


async def _api(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "config_path": "/config/go2rtc.yaml",
            "host": request.host,
            "rtsp": {"listen": ":8554", "default_query": "video"},
            "version": VERSION,
        }
    )


def _stream_info(url: str) -> dict[str, list[dict[str, str]]]:
    return {"producers": [{"url": url}], "consumers": []}


async def _streams_get(request: web.Request) -> web.Response:
    state = _state(request)
    src = request.query.get("src")
    if src is None:
        return web.json_response({n: _stream_info(u) for n, u in state.streams.items()})
    if src not in state.streams:
        return web.Response(status=404, text="stream not found")
    return web.json_response(_stream_info(state.streams[src]))


async def _streams_put(request: web.Request) -> web.Response:
    state = _state(request)
    src = request.query.get("src", "")
    if not src:
        return web.Response(status=400)
    name = request.query.get("name") or src  # go2rtc: the name defaults to the source
    state.streams[name] = src
    return web.Response(status=200)


async def _behave(request: web.Request, name: str) -> bytes | None:
    """The frame for stream ``name``, after its configured misbehaviour."""
    state = _state(request)
    behaviour = state.behaviour.get(name, "ok")
    if behaviour == "hang":
        event = asyncio.Event()
        state.hung.append(event)
        await event.wait()  # released only at shutdown
        return None
    if behaviour == "garbage":
        return b"<html><body>502 Bad Gateway</body></html>"
    if behaviour == "huge":
        return huge_header_jpeg()
    state.frame_requests += 1
    return state.frames[(state.frame_requests - 1) % len(state.frames)]


async def _frame(request: web.Request) -> web.StreamResponse:
    name = request.query.get("src", "")
    if name not in _state(request).streams:
        return web.Response(status=404, text="stream not found")
    data = await _behave(request, name)
    if data is None:
        return web.Response(status=500)
    return web.Response(body=data, content_type="image/jpeg")


async def _mjpeg(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    name = request.query.get("src", "")
    if name not in state.streams:
        return web.Response(status=404, text="stream not found")
    resp = web.StreamResponse(
        headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
    )
    await resp.prepare(request)
    state.mjpeg_clients += 1
    try:
        with contextlib.suppress(ConnectionResetError):
            async for data in _frames(request, name):
                part = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                await resp.write(part + data + b"\r\n")
                await asyncio.sleep(1 / state.mjpeg_fps)
    finally:
        state.mjpeg_clients -= 1
    return resp


async def _frames(request: web.Request, name: str) -> AsyncIterator[bytes]:
    while True:
        data = await _behave(request, name)
        if data is None:
            return
        yield data


async def _webrtc(request: web.Request) -> web.Response:
    state = _state(request)
    name = request.query.get("src", "")
    if name not in state.streams:
        return web.Response(status=404, text="stream not found")
    offer = json.loads(await request.text())
    assert offer["type"] == "offer"
    answer = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=go2rtc-standin\r\nt=0 0\r\n"
    return web.json_response({"type": "answer", "sdp": answer})


@contextlib.asynccontextmanager
async def serve(state: StandinState) -> AsyncIterator[str]:
    """Run the stand-in on 127.0.0.1 (random port); yields its base URL."""
    async with serve_app(make_app(state)) as url:
        yield url


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
