"""The officer console: one static page (HTML, JS, CSS) over the JSON API.

The files live in ``hub_server/console/`` and are read once at start-up, with the vendored
libraries under ``console/vendor/`` (Leaflet, refreshed from npm by
``console/vendor/refresh.sh``); only those names are served (no path from the URL ever
reaches the file system). Every console response carries a strict Content-Security-Policy:
scripts, styles, images and fetches from this origin only (images also from ``blob:`` URLs
the page made itself, for snapshots, and from the city's tile server; fetches also to the
city's geocoder: see ``console_config.py``), no inline script or style, no frames, no
plugins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from . import openapi
from .auth import policy
from .console_config import ConsoleConfig
from .errors import not_found

CONSOLE_DIR = Path(__file__).with_name("console")
CONSOLE_PATH = "/console/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# No tile server, no geocoder: the strictest policy (the page's own files only).
CSP = ConsoleConfig().csp()
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    # Always revalidate: a new hub version must not run with an old app.js.
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


CONSOLE_ASSETS = web.AppKey("connect_share_console", dict[str, Asset])
CONSOLE_HEADERS = web.AppKey("connect_share_console_headers", dict[str, str])
VENDOR_DIR = "vendor"


def load_assets(directory: Path = CONSOLE_DIR) -> dict[str, Asset]:
    """Every .html/.js/.css/.svg/.png file of the console directory, by file name, and
    those under ``vendor/`` by their relative path (``vendor/leaflet/leaflet.js``)."""
    assets: dict[str, Asset] = {}
    paths = sorted(directory.iterdir())
    vendor = directory / VENDOR_DIR
    if vendor.is_dir():
        paths += sorted(p for p in vendor.rglob("*") if "node_modules" not in p.parts)
    for path in paths:
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[path.relative_to(directory).as_posix()] = Asset(body, content_type, etag)
    if "index.html" not in assets:
        raise RuntimeError(f"the officer console is missing: no index.html in {directory}")
    return assets


def _serve(request: web.Request, name: str) -> web.Response:
    asset = request.app[CONSOLE_ASSETS].get(name)
    if asset is None:
        raise not_found("console file")
    headers = {**request.app[CONSOLE_HEADERS], "ETag": asset.etag}
    if request.headers.get("If-None-Match") == asset.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, headers={**headers, "Content-Type": asset.content_type})


@policy(public=True)
async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound(CONSOLE_PATH, headers=request.app[CONSOLE_HEADERS])


@policy(public=True)
async def console_page(request: web.Request) -> web.Response:
    return _serve(request, "index.html")


@policy(public=True)
async def console_file(request: web.Request) -> web.Response:
    return _serve(request, request.match_info["name"])


def _page_op(summary: str, ok: int = 200, errors: tuple[int, ...] = ()) -> dict[str, Any]:
    return openapi._op(summary, ok=ok, errors=errors, content_type="text/html")


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/": {"get": _page_op("Redirect to the officer console", ok=302)},
    CONSOLE_PATH: {"get": _page_op("The officer console (one page; uses this API)")},
    CONSOLE_PATH + "{name}": {
        "get": {
            **_page_op("A file of the officer console (app.js, style.css, ...)", errors=(404,)),
            "parameters": [openapi._path("name")],
        }
    },
}


def setup_console_routes(
    app: web.Application, directory: Path = CONSOLE_DIR, config: ConsoleConfig | None = None
) -> None:
    """Serve the console at ``/console/`` (``/`` redirects there) and document it."""
    app[CONSOLE_ASSETS] = load_assets(directory)
    app[CONSOLE_HEADERS] = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": (config or ConsoleConfig()).csp(),
    }
    app.router.add_get("/", root)
    app.router.add_get(CONSOLE_PATH, console_page)
    app.router.add_get(CONSOLE_PATH + "{name:.+}", console_file)
    openapi.PATHS.update(OPENAPI_PATHS)
