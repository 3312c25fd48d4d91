"""The officer console in a real Chromium against the real hub and simulated installations.

An analyst logs in through the page, opens an incident, sees the cameras in its radius on
the map and in the table, asks for live view (approved) and for footage (one camera
approved, one declined: "no footage"), watches the MJPEG relay in an <img>, sees the
shared evidence and its manifest, closes the live view. A supervisor then logs in and the
audit view shows the same entries as the API, with an intact hash chain.
Screenshots (``$CONNECT_SHARE_SCREENSHOTS`` or the test's tmp_path): console.png (incident),
console-audit-chain.png (audit view) and console-login.png.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from selenium.webdriver.remote.webdriver import WebDriver

from connect_share_protocol.evidence import (
    UPLOAD_SIGNATURE_HEADER,
    EvidenceManifest,
    sign_manifest,
    sign_upload_id,
)
from tests.hub.console_browser import Browser, screenshot_path, start_chromium
from tests.hub_harness import HubHarness, SimulatedInstallation, camera, running_hub

pytestmark = pytest.mark.browser

LAT, LON = 33.7490, -84.3880
M_LAT = 1 / 110_540  # degrees per metre, north
M_LON = 1 / (111_320 * 0.8313)  # degrees per metre, east, at this latitude


def at(north_m: float, east_m: float) -> tuple[float, float]:
    return LAT + north_m * M_LAT, LON + east_m * M_LON


def camera_frame(label: str, seq: int) -> bytes:
    """A 480x270 JPEG that looks like a camera picture (sky, street, a moving box)."""
    img = Image.new("RGB", (480, 270), (120, 160, 200))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 170, 480, 270), fill=(70, 70, 74))
    draw.rectangle((40, 80, 200, 170), fill=(180, 140, 100))
    x = 220 + (seq * 12) % 200
    draw.rectangle((x, 185, x + 60, 215), fill=(200, 30, 30))
    draw.text((10, 10), f"{label}  frame {seq}", fill=(255, 255, 255))
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


async def stream_frames(sim: SimulatedInstallation, session_id: str, label: str) -> None:
    pictures = [camera_frame(label, i) for i in range(8)]
    seq = 0
    while True:
        await sim.send_frame(session_id, pictures[seq % len(pictures)], seq=seq)
        seq += 1
        await asyncio.sleep(0.2)


async def share_evidence(
    hub: HubHarness, sim: SimulatedInstallation, request_id: str, incident_id: str
) -> EvidenceManifest:
    """What the resident's integration does after approving: upload a signed clip."""
    content = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    now_ms = int(time.time() * 1000)
    manifest = EvidenceManifest(
        installation_id=sim.installation_id,
        camera_id="cam-shop",
        incident_id=incident_id,
        request_id=request_id,
        file_name="corner-shop-0142.mp4",
        content_type="video/mp4",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        event_start_ms=now_ms - 600_000,
        event_end_ms=now_ms - 570_000,
        created_ms=now_ms,
        event_id="evt-1",
        labels=("person", "car"),
    )
    uploads = hub.url + "/api/v1/evidence/uploads"
    async with hub.http.post(uploads, json=sign_manifest(sim.key, manifest)) as resp:
        assert resp.status == 201, await resp.text()
        upload_id = (await resp.json())["upload_id"]
    headers = {UPLOAD_SIGNATURE_HEADER: sign_upload_id(sim.key, upload_id)}
    async with hub.http.put(f"{uploads}/{upload_id}", data=content, headers=headers) as resp:
        assert resp.status == 201, await resp.text()
    return manifest


async def test_console_end_to_end(tmp_path: Path, chromium: WebDriver) -> None:
    browser = Browser(chromium)
    frames: asyncio.Task[None] | None = None
    try:
        async with running_hub(tmp_path) as hub:
            frames = await _run_console_flow(hub, browser, tmp_path)
    finally:
        if frames is not None:
            frames.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await frames
        browser.close()


async def _run_console_flow(
    hub: HubHarness, browser: Browser, tmp_path: Path
) -> asyncio.Task[None] | None:
    analyst = await hub.create_user(role="analyst", display_name="Dana Reyes", badge="4711")
    supervisor = await hub.create_user(role="supervisor", display_name="Sgt. Miles Chen")
    house = await hub.simulated_installation(
        [
            camera("cam-front", *at(60, 40), name="Front door", heading_deg=200),
            camera("cam-drive", *at(-20, -150), name="Driveway", mode="auto", heading_deg=90),
        ],
        name="Maple St 12",
    )
    shop = await hub.simulated_installation(
        [
            camera("cam-shop", *at(-210, 60), name="Corner shop", mode="registered"),
            camera("cam-far", *at(330, 250), name="Far garage"),  # outside the 300 m circle
        ],
        name="Corner shop",
    )
    porch = await hub.simulated_installation(
        [camera("cam-porch", *at(120, -90), name="Porch (offline)", heading_deg=None)],
        name="Oak Ave 3",
    )
    await porch.close()  # synced, then gone: listed as offline

    # The console: / redirects to the page, which carries a strict CSP.
    async with hub.http.get(hub.url + "/", allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/console/"
    async with hub.http.get(hub.url + "/console/") as resp:
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp

    # 1. Log in through the page.
    await browser.get(hub.url + "/")
    await browser.visible("#login-form", "the login form")
    await browser.fill({"login-username": analyst.username, "login-password": "wrong password"})
    await browser.screenshot(screenshot_path(tmp_path, "console-login.png"))
    await browser.click("#login-submit")
    await browser.wait(
        lambda d: "Wrong username" in d.find_element("id", "login-error").text,
        "the refused login",
    )
    await browser.fill({"login-password": analyst.password})
    await browser.click("#login-submit")
    await browser.visible("#who-name", "the logged-in officer")
    [who] = await browser.texts("#who-name")
    assert "Dana Reyes" in who and "analyst" in who and "4711" in who
    assert not await browser.run(
        lambda: browser.driver.find_element("id", "tab-audit").is_displayed()
    ), "the audit tab is for supervisors"

    # 2. Open an incident with the form.
    await browser.click("#new-incident-box summary")
    await browser.fill(
        {
            "inc-case": "2026-004711",
            "inc-type": "burglary",
            "inc-offense": "220",
            "inc-reason": "Break-in at the corner shop, suspect left on foot",
            "inc-lat": f"{LAT}",
            "inc-lon": f"{LON}",
            "inc-radius": "300",
        }
    )
    await browser.click("#incident-submit")
    await browser.visible("#incident-detail", "the incident detail")
    await browser.wait(
        lambda d: "2026-004711" in d.find_element("id", "d-case").text, "the case number"
    )
    reason = await browser.texts("#d-reason")
    assert reason == ["Break-in at the corner shop, suspect left on foot"]
    assert "radius 300 m" in (await browser.texts("#d-where"))[0]

    # 3. Cameras in the radius: table and map; the far one only as a context dot.
    await browser.visible("#camera-rows tr", "camera rows")
    in_table = await browser.attrs("#camera-rows tr", "data-camera")
    expected = {
        f"{house.installation_id}/cam-front",
        f"{house.installation_id}/cam-drive",
        f"{shop.installation_id}/cam-shop",
        f"{porch.installation_id}/cam-porch",
    }
    assert set(in_table) == expected
    assert in_table[0] == f"{house.installation_id}/cam-front", "nearest first"
    on_map = await browser.attrs("#map .map-cam", "data-camera")
    assert set(on_map) == expected
    assert len(await browser.attrs("#map path.map-outside", "d")) == 1  # Far garage
    rows = dict(zip(in_table, await browser.texts("#camera-rows tr"), strict=True))
    assert "registered" in rows[f"{shop.installation_id}/cam-shop"]
    assert "offline" in rows[f"{porch.installation_id}/cam-porch"]
    assert "integrated" in rows[f"{house.installation_id}/cam-front"]

    # 4. Ask for live view on the front door (picked on the map); the resident approves.
    await browser.click(f'#map .map-cam[data-camera="{house.installation_id}/cam-front"]')
    await browser.click("#request-live")
    live_req = await house.next_message("access_request")
    assert live_req.scope == "live" and live_req.camera_ids == ["cam-front"]
    await house.approve(live_req, max_session_s=600)
    await browser.visible("button.watch", "the Watch live button after approval")
    assert await browser.attrs("button.watch", "data-camera") == ["cam-front"]

    # 5. Footage from the shop camera and the driveway: shop approves, the house declines.
    await browser.click(f'#map .map-cam[data-camera="{house.installation_id}/cam-front"]')
    for key in (f"{shop.installation_id}/cam-shop", f"{house.installation_id}/cam-drive"):
        await browser.click(f'#camera-rows tr[data-camera="{key}"] input')
    await browser.click("#request-clip")
    clip_shop = await shop.next_message("access_request")
    clip_house = await house.next_message("access_request")
    assert clip_shop.scope == clip_house.scope == "clip"
    await shop.approve(clip_shop)
    # The house declines: it sends nothing, so the driveway reads "no footage" at the
    # request's deadline, as if unanswered (the deadline is brought forward here).
    await shop.roundtrip()  # the hub has recorded the decision (messages are in order)
    await hub.expire_requests(house.installation_id)
    incident_id = clip_shop.incident.incident_id
    manifest = await share_evidence(hub, shop, clip_shop.request_id, incident_id)

    def outcome(camera_key: str, scope: str) -> object:
        def check(d: WebDriver) -> str | bool:
            for row in d.find_elements("css selector", "#request-rows tr"):
                if row.get_attribute("data-camera") == camera_key and scope in row.text:
                    return row.find_element("css selector", ".state").get_attribute("data-state")
            return False

        return check

    drive = f"{house.installation_id}/cam-drive"
    shop_key = f"{shop.installation_id}/cam-shop"
    await browser.wait(
        lambda d: outcome(drive, "footage")(d) == "no_footage", "no footage for the driveway"
    )
    await browser.wait(
        lambda d: outcome(shop_key, "footage")(d) == "delivered", "the shop's delivered clip"
    )

    # 6. Evidence and its manifest.
    await browser.visible("#evidence-rows tr", "the shared clip")
    [row_text] = await browser.texts("#evidence-rows tr")
    assert "corner-shop-0142.mp4" in row_text and manifest.sha256[:16] in row_text
    await browser.click("#evidence-rows tr button")
    pre = await browser.visible("#manifest-json", "the manifest")
    manifest_text = await browser.run(lambda: pre.text)
    assert manifest.sha256 in manifest_text and '"signature"' in manifest_text
    download = await browser.attrs("#evidence-rows tr a", "href")
    assert download[0].endswith("/file")

    # 7. Live view: the page opens the session; frames reach the <img>.
    await browser.click("button.watch")
    session_open = await house.next_message("session_open")
    assert session_open.camera_id == "cam-front"
    await house.accept_session(session_open)
    frames = asyncio.get_running_loop().create_task(
        stream_frames(house, session_open.session_id, "Front door")
    )
    await browser.wait(
        lambda d: d.execute_script("return document.getElementById('live-img').naturalWidth")
        == 480,
        "relayed frames in the live view",
    )
    await browser.screenshot(screenshot_path(tmp_path, "console.png"))

    await browser.click("#live-close")
    closed = await house.next_message("session_close")
    assert closed.session_id == session_open.session_id
    frames.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await frames
    await browser.wait(
        lambda d: not d.find_element("id", "live-panel").is_displayed(), "the live view closed"
    )

    # Leaving the page (here: a reload) ends a running live view too.
    await browser.click("button.watch")
    second = await house.next_message("session_open")
    await house.accept_session(second)
    await browser.wait(
        lambda d: d.find_element("id", "live-img").get_attribute("data-session")
        == second.session_id,
        "the second live view",
    )
    await browser.run(browser.driver.refresh)
    left = await house.next_message("session_close")
    assert left.session_id == second.session_id
    await browser.visible("#incident-detail", "the incident again after the reload")

    # 8. Log out; a supervisor checks the audit view.
    await browser.click("#logout")
    await browser.visible("#login-form", "the login form after logout")
    await browser.fill(
        {"login-username": supervisor.username, "login-password": supervisor.password}
    )
    await browser.click("#login-submit")
    await browser.click("#tab-audit")
    await browser.visible("#audit-rows tr", "audit entries")
    api_entries = await hub.client(supervisor).audit(limit=5000)
    shown = [int(s) for s in await browser.attrs("#audit-rows tr", "data-seq")]
    shown_actions = await browser.attrs("#audit-rows tr", "data-action")
    assert shown == sorted(shown, reverse=True), "newest first"
    by_seq = {e["seq"]: e["action"] for e in api_entries}
    assert dict(zip(shown, shown_actions, strict=True)) == {s: by_seq[s] for s in shown}
    assert set(by_seq) - set(shown) <= {max(by_seq)}  # at most the supervisor's own read
    for action in (
        "incident.opened",
        "request.created",
        "request.answered",
        "token.issued",
        "evidence.received",
        "evidence.manifest_downloaded",
        "session.start",
        "session.stop",
        "login.failed",
    ):
        assert action in shown_actions, f"{action} missing from the audit view"
    await browser.click("#audit-verify")
    await browser.wait(
        lambda d: "Hash chain intact" in d.find_element("id", "audit-verify-result").text,
        "the verified hash chain",
    )
    # Filter on the incident.
    await browser.run(
        lambda: browser.driver.find_element(
            "css selector", f'#audit-incident option[value="{incident_id}"]'
        ).click()
    )
    await browser.click("#audit-refresh")
    await browser.wait(
        lambda d: (
            incidents := d.execute_script(
                "return Array.from(document.querySelectorAll('#audit-rows tr'),"
                " r => r.dataset.incident)"
            )
        )
        and set(incidents) == {incident_id},
        "only this incident's entries after filtering",
    )
    await browser.screenshot(screenshot_path(tmp_path, "console-audit-chain.png"))
    # No script error, no CSP violation; only the two expected 401s (no session yet, and
    # the wrong password) may be logged by the browser.
    expected_401 = ("/api/v1/auth/me - ", "/api/v1/auth/login - ")
    errors = [
        e
        for e in await browser.console_errors()
        if not (any(p in e for p in expected_401) and "status of 401" in e)
    ]
    assert not errors, f"browser console errors: {errors}"
    return None
