"""The console's static routes: strict headers, a fixed set of files, caching by ETag; the
city's map/geocoder/time-zone settings and the CSP that names exactly their origins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub_server.console_config import console_config, host_time_zone, origin_of
from hub_server.console_routes import CONSOLE_DIR, load_assets
from hub_server.settings import Settings
from tests.hub_harness import running_hub

VENDORED = {
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images/layers.png",
    "vendor/leaflet/images/layers-2x.png",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
}


async def test_console_files_and_headers(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        async with hub.http.get(hub.url + "/", allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/console/"
        for path, kind in (
            ("/console/", "text/html"),
            ("/console/app.js", "text/javascript"),
            ("/console/style.css", "text/css"),
            ("/console/favicon.svg", "image/svg+xml"),
            ("/console/vendor/leaflet/leaflet.js", "text/javascript"),
            ("/console/vendor/leaflet/images/layers.png", "image/png"),
        ):
            async with hub.http.get(hub.url + path) as resp:
                assert resp.status == 200, path
                assert resp.content_type == kind, path
                csp = resp.headers["Content-Security-Policy"]
                assert "default-src 'none'" in csp and "script-src 'self'" in csp
                assert "unsafe" not in csp
                # Images: this origin and blob: URLs the page made (snapshots), nothing else.
                assert "img-src 'self' blob:;" in csp
                assert resp.headers["X-Frame-Options"] == "DENY"
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                etag = resp.headers["ETag"]
            async with hub.http.get(hub.url + path, headers={"If-None-Match": etag}) as resp:
                assert resp.status == 304, path
        for bad in (
            "/console/nope.js",
            "/console/..%2Fapp.py",
            "/console/%2e%2e%2fauth.py",
            "/console/vendor/package.json",
            "/console/vendor/refresh.sh",
            "/console/vendor/leaflet/LICENSE",
            "/console/vendor/leaflet/..%2f..%2fapp.js",
        ):
            async with hub.http.get(hub.url + bad) as resp:
                assert resp.status == 404, bad
                assert (await resp.json())["error"] == "not_found"


async def test_page_has_no_inline_script_or_style() -> None:
    html = (CONSOLE_DIR / "index.html").read_text()
    assert "<script>" not in html and "style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    files = {"index.html", "app.js", "time.js", "map.js", "place.js", "audit.js"}
    files |= {"style.css", "favicon.svg", "admin.html", "admin.js"}
    assert set(load_assets()) == files | VENDORED
    for name in ("leaflet.js", "leaflet.css"):
        assert f'"/console/vendor/leaflet/{name}"' in html, f"{name} is not loaded from the hub"
    assert "//" not in re.sub(r"(src|href)=\"/console/", "", html).split("<body>")[0], "CDN?"
    admin = (CONSOLE_DIR / "admin.html").read_text()
    assert "<script>" not in admin and "<style" not in admin and " style=" not in admin
    assert not re.search(r"\son[a-z]+=", admin), "inline event handler"


async def test_city_map_settings_reach_the_page_and_its_csp(tmp_path: Path) -> None:
    async with running_hub(
        tmp_path,
        map_tile_url="https://{s}.tiles.city.example/{z}/{x}/{y}.png",
        map_attribution="City of Example <b>GIS</b>",
        geocoder_url="https://geo.city.example:8443/search",
        time_zone="Asia/Tokyo",
    ) as hub:
        config = await hub.client().expect(200, "GET", "/api/v1/console/config")
        assert config == {
            "hub_name": hub.settings.hub_name,
            "tile_url": "https://{s}.tiles.city.example/{z}/{x}/{y}.png",
            "attribution": "City of Example <b>GIS</b>",
            "geocoder_url": "https://geo.city.example:8443/search",
            "time_zone": "Asia/Tokyo",
        }
        async with hub.http.get(hub.url + "/console/") as resp:
            csp = resp.headers["Content-Security-Policy"]
        assert "img-src 'self' blob: https://*.tiles.city.example;" in csp
        assert "connect-src 'self' https://geo.city.example:8443;" in csp
        assert "script-src 'self';" in csp and "unsafe" not in csp


async def test_without_city_settings_the_csp_names_no_other_origin(tmp_path: Path) -> None:
    async with running_hub(tmp_path, time_zone="Europe/Berlin") as hub:
        config = await hub.client().expect(200, "GET", "/api/v1/console/config")
        assert config["tile_url"] is None and config["geocoder_url"] is None
        assert config["time_zone"] == "Europe/Berlin"
        async with hub.http.get(hub.url + "/console/app.js") as resp:
            csp = resp.headers["Content-Security-Policy"]
        assert "img-src 'self' blob:;" in csp and "connect-src 'self';" in csp


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("map_tile_url", "ftp://tiles.example/{z}/{x}/{y}.png", "http(s) URL"),
        ("map_tile_url", "https://tiles.example/tile.png", "{z}"),
        ("map_tile_url", "https://tiles.example/{z}/{x}/{y}.png; script-src *", "quotes or spaces"),
        ("map_tile_url", "https://user:pw@tiles.example/{z}/{x}/{y}.png", "credentials"),
        ("geocoder_url", "javascript:alert(1)", "http(s) URL"),
        ("time_zone", "Mars/Olympus", "unknown IANA time zone"),
    ],
)
def test_bad_city_settings_stop_the_hub(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        console_config(Settings(**{field: value}))


def test_origins_and_host_zone(tmp_path: Path) -> None:
    assert origin_of("http://127.0.0.1:9/{z}/{x}/{y}.png") == "http://127.0.0.1:9"
    assert origin_of("https://{s}.tile.example/{z}/{x}/{y}.png") == "https://*.tile.example"
    assert host_time_zone({"TZ": "America/Chicago"}) == "America/Chicago"
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/Europe/Lisbon")
    assert host_time_zone({}, localtime=link) == "Europe/Lisbon"
    assert host_time_zone({"TZ": "Nowhere/Nothing"}, localtime=tmp_path / "none") == "UTC"
