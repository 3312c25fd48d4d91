"""What the officer console needs to know about this city's setup, and its CSP.

- ``map_tile_url``: an XYZ tile URL (``https://tiles.example.org/{z}/{x}/{y}.png``; ``{s}``
  subdomains allowed) of the city's own tile server. Empty (the default): the map draws
  the circle, cameras and scale on a plain grid, with no street tiles.
- ``map_attribution``: the text credited under the tiles (plain text).
- ``geocoder_url``: a Nominatim-compatible search URL (``https://geo.example.org/search``);
  empty (the default): no address search, coordinates only.
- ``time_zone``: the IANA zone every console time is shown and typed in (default: the
  host's zone, else UTC).

The page's Content-Security-Policy names exactly these origins: tile images from the tile
server, address look-ups to the geocoder, nothing else outside the hub.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from . import openapi
from .auth import policy
from .settings import Settings

CONFIG_PATH = "/api/v1/console/config"
_ZONEINFO_MARK = "zoneinfo/"


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    tile_url: str = ""
    attribution: str = ""
    geocoder_url: str = ""
    time_zone: str = "UTC"

    def to_json(self, hub_name: str) -> dict[str, Any]:
        return {
            "hub_name": hub_name,
            "tile_url": self.tile_url or None,
            "attribution": self.attribution,
            "geocoder_url": self.geocoder_url or None,
            "time_zone": self.time_zone,
        }

    def csp(self) -> str:
        images = ["'self'", "blob:"]  # blob: only for snapshots the page fetched itself
        connect = ["'self'"]
        if self.tile_url:
            images.append(origin_of(self.tile_url))
        if self.geocoder_url:
            connect.append(origin_of(self.geocoder_url))
        return "; ".join(
            (
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src " + " ".join(images),
                "connect-src " + " ".join(connect),
                "form-action 'self'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
                "object-src 'none'",
            )
        )


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` for the CSP; a ``{s}`` subdomain becomes ``*``."""
    parts = urlsplit(url.replace("{s}", "s-placeholder"))
    host = parts.netloc.replace("s-placeholder", "*")
    return f"{parts.scheme}://{host}"


def _check_url(url: str, what: str, *, tiles: bool) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "s"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL, not {url!r}")
    if parts.username or parts.password or re.search(r"[\s'\";]", url):
        raise ValueError(f"{what} must not carry credentials, quotes or spaces: {url!r}")
    if tiles and not all(key in url for key in ("{z}", "{x}", "{y}")):
        raise ValueError(f"{what} needs {{z}}, {{x}} and {{y}}: {url!r}")
    return url


def host_time_zone(environ: dict[str, str] | None = None, localtime: Path | None = None) -> str:
    """The host's IANA zone: $TZ, else the /etc/localtime link, else UTC."""
    env = os.environ if environ is None else environ
    candidates = [env.get("TZ", "").lstrip(":")]
    link = localtime or Path("/etc/localtime")
    try:
        target = str(link.resolve())
        if _ZONEINFO_MARK in target:
            candidates.append(target.split(_ZONEINFO_MARK, 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name and _valid_zone(name):
            return name
    return "UTC"


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def console_config(settings: Settings) -> ConsoleConfig:
    """Checked configuration; a ValueError names the bad setting (the hub does not start)."""
    zone = settings.time_zone.strip() or host_time_zone()
    if not _valid_zone(zone):
        raise ValueError(f"time_zone: unknown IANA time zone {zone!r}")
    return ConsoleConfig(
        tile_url=_check_url(settings.map_tile_url, "map_tile_url", tiles=True),
        attribution=settings.map_attribution.strip()[:200],
        geocoder_url=_check_url(settings.geocoder_url, "geocoder_url", tiles=False),
        time_zone=zone,
    )


CONSOLE_CONFIG = web.AppKey("connect_share_console_config", ConsoleConfig)


@policy(public=True)
async def get_config(request: web.Request) -> web.Response:
    """Public: the page needs it to draw the map; it holds no secret."""
    from .state import get_hub

    config = request.app[CONSOLE_CONFIG]
    return web.json_response(config.to_json(get_hub(request).settings.hub_name))


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    CONFIG_PATH: {
        "get": openapi._op(
            "The console's map tiles, geocoder and time zone (as the city configured them)"
        )
    },
}


def setup_console_config(app: web.Application, settings: Settings) -> ConsoleConfig:
    config = console_config(settings)
    app[CONSOLE_CONFIG] = config
    app.router.add_get(CONFIG_PATH, get_config)
    openapi.PATHS.update(OPENAPI_PATHS)
    return config
