"""The console's "Snapshot" action in a real Chromium against the real hub.

An analyst with an approved snapshot grant clicks "Snapshot": the page POSTs with the CSRF
header, the simulated installation answers the ``session_open`` (scope ``snapshot``) with
one frame, and the picture shows through a ``blob:`` URL (allowed by the CSP). A refusal
shows the installation's reason; closing the panel drops the picture.
Screenshot: /tmp/console-snapshot.png.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from selenium.webdriver.remote.webdriver import WebDriver

from tests.hub.console_browser import Browser, start_chromium
from tests.hub_harness import HubHarness, camera, running_hub

pytestmark = pytest.mark.browser

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)
SCREENSHOT = "/tmp/console-snapshot.png"


def picture() -> bytes:
    img = Image.new("RGB", (320, 180), (120, 160, 200))
    ImageDraw.Draw(img).rectangle((20, 100, 300, 180), fill=(70, 70, 74))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


async def test_console_snapshot(tmp_path: Path, chromium: WebDriver) -> None:
    browser = Browser(chromium)
    try:
        async with running_hub(tmp_path) as hub:
            await _snapshot_flow(hub, browser)
    finally:
        browser.close()


def img_state(d: WebDriver) -> dict:
    return d.execute_script(
        "const i = document.getElementById('snapshot-img');"
        " return {src: i.getAttribute('src') || '', width: i.naturalWidth,"
        " shown: !document.getElementById('snapshot-panel').hidden};"
    )


async def _snapshot_flow(hub: HubHarness, browser: Browser) -> None:
    sim = await hub.simulated_installation([camera("cam-front", *NEAR, name="Front door")])
    analyst = await hub.create_user(role="analyst", display_name="Dana Reyes")
    api = hub.client(analyst)
    inc = await api.open_incident(*HOME)
    await api.request_snapshot(inc["incident_id"], [(sim.installation_id, "cam-front")])
    await sim.approve(await sim.next_message("access_request"))
    grant = await api.wait_for_grant(inc["incident_id"], "cam-front", scope="snapshot")

    await browser.get(f"{hub.url}/console/#incident={inc['incident_id']}")
    await browser.visible("#login-form", "the login form")
    await browser.fill({"login-username": analyst.username, "login-password": analyst.password})
    await browser.click("#login-submit")
    await browser.visible("button.snapshot", "the Snapshot button on the snapshot grant")
    assert await browser.attrs("button.snapshot", "data-grant") == [grant["grant_id"]]
    assert await browser.attrs("button.watch", "data-grant") == []  # not a live grant

    # Taken: one frame, shown through a blob: URL; the hub closes the session.
    await browser.click("button.snapshot")
    opened = await sim.next_message("session_open")
    assert opened.scope == "snapshot" and opened.camera_id == "cam-front"
    await sim.accept_session(opened)
    await sim.send_frame(opened.session_id, picture())
    shown = await browser.wait(
        lambda d: (s := img_state(d))["width"] == 320 and s["shown"] and s, "the snapshot"
    )
    assert shown["src"].startswith("blob:")
    closed = await sim.next_message("session_close")
    assert (closed.session_id, closed.reason) == (opened.session_id, "snapshot_taken")
    await browser.screenshot(SCREENSHOT)

    # Refused by the installation: the refusal shows, with the neutral reason only.
    await browser.click("button.snapshot")
    await sim.refuse_session(await sim.next_message("session_open"), "paused")
    await browser.wait(
        lambda d: "unavailable" in d.find_element("id", "snapshot-state").text, "the refusal"
    )

    # Closing drops the picture.
    await browser.click("#snapshot-close")
    await browser.wait(lambda d: img_state(d) == {"src": "", "width": 0, "shown": False}, "closed")

    # No script error and no CSP violation; only the expected 401 (no session yet) and
    # the 403 of the refused snapshot.
    expected = (("/api/v1/auth/me - ", "401"), ("/snapshot - ", "403"))
    errors = [
        e
        for e in await browser.console_errors()
        if not any(path in e and f"status of {code}" in e for path, code in expected)
    ]
    assert not errors, f"browser console errors: {errors}"
