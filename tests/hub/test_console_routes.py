"""The console's static routes: strict headers, a fixed set of files, caching by ETag."""

from __future__ import annotations

import re
from pathlib import Path

from hub_server.console_routes import CONSOLE_DIR, load_assets
from tests.hub_harness import running_hub


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
        for bad in ("/console/nope.js", "/console/..%2Fapp.py", "/console/%2e%2e%2fauth.py"):
            async with hub.http.get(hub.url + bad) as resp:
                assert resp.status == 404, bad
                assert (await resp.json())["error"] == "not_found"


async def test_page_has_no_inline_script_or_style() -> None:
    html = (CONSOLE_DIR / "index.html").read_text()
    assert "<script>" not in html and "style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert set(load_assets()) == {
        "index.html",
        "app.js",
        "style.css",
        "favicon.svg",
        "admin.html",
        "admin.js",
    }
    admin = (CONSOLE_DIR / "admin.html").read_text()
    assert "<script>" not in admin and "<style" not in admin and " style=" not in admin
    assert not re.search(r"\son[a-z]+=", admin), "inline event handler"
