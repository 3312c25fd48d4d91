"""Stand-ins for the city's map services, on 127.0.0.1: an XYZ tile server that draws
plain PNG "streets" (and counts what it served) and a Nominatim-compatible geocoder."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from PIL import Image, ImageDraw


def tile_png(z: int, x: int, y: int) -> bytes:
    """A 256 px tile: pale ground, a grid of grey streets, the tile's address in a corner."""
    img = Image.new("RGB", (256, 256), (238, 236, 228))
    draw = ImageDraw.Draw(img)
    for pos in (40, 168):
        draw.rectangle((0, pos, 256, pos + 14), fill=(255, 255, 255), outline=(200, 198, 190))
        draw.rectangle((pos, 0, pos + 14, 256), fill=(255, 255, 255), outline=(200, 198, 190))
    draw.rectangle((70, 70, 150, 150), fill=(214, 226, 206))
    draw.text((4, 4), f"{z}/{x}/{y}", fill=(170, 170, 170))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@dataclass
class MapServers:
    tile_url: str = ""
    geocoder_url: str = ""
    tiles_served: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    places: dict[str, tuple[float, float]] = field(default_factory=dict)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def map_servers(
    places: dict[str, tuple[float, float]] | None = None,
) -> AsyncIterator[MapServers]:
    """Tiles at ``/tiles/{z}/{x}/{y}.png``, search at ``/search?q=..&format=jsonv2``."""
    state = MapServers(places=dict(places or {}))

    async def tile(request: web.Request) -> web.Response:
        z, x, y = (int(request.match_info[k]) for k in ("z", "x", "y"))
        state.tiles_served.append(f"{z}/{x}/{y}")
        return web.Response(body=tile_png(z, x, y), content_type="image/png")

    async def search(request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        state.queries.append(q)
        assert request.query.get("format") == "jsonv2"
        hits = [
            {"display_name": name, "lat": str(lat), "lon": str(lon)}
            for name, (lat, lon) in state.places.items()
            if q.lower() in name.lower()
        ]
        # The console's page is another origin: the geocoder must allow it (CORS).
        return web.json_response(hits, headers={"Access-Control-Allow-Origin": "*"})

    app = web.Application()
    app.router.add_get("/tiles/{z}/{x}/{y}.png", tile)
    app.router.add_get("/search", search)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.tile_url = f"http://127.0.0.1:{port}/tiles/{{z}}/{{x}}/{{y}}.png"
    state.geocoder_url = f"http://127.0.0.1:{port}/search"
    try:
        yield state
    finally:
        await runner.cleanup()
