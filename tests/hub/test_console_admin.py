"""The console's admin page (issue 12 item 6, console part), driven in real Chromium.

An admin logs in on /console/admin.html, revokes an officer's API tokens, disables and
re-enables the officer and sets a new password; each click takes effect at the API. A
non-admin gets the "admins only" view. The page runs under the console's strict CSP.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.hub.console_browser import Browser, start_chromium
from tests.hub_harness import HubHarness, running_hub

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


async def login_status(hub: HubHarness, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    async with hub.http.post(hub.url + "/api/v1/auth/login", json=body) as resp:
        return resp.status


async def test_admin_page_manages_users(tmp_path: Path, chromium: WebDriver) -> None:
    browser = Browser(chromium)
    try:
        async with running_hub(tmp_path) as hub:
            admin = await hub.create_user(role="admin", display_name="Admin Ada")
            officer = await hub.create_user(role="officer", display_name="<b>Ofc</b> Kim")
            api = hub.client(officer)
            await api.expect(200, "GET", "/api/v1/auth/me")
            async with hub.http.get(hub.url + "/console/admin.html") as resp:
                assert resp.status == 200
                assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]

            await browser.get(hub.url + "/console/admin.html")
            await browser.visible("#login-form", "the login form")
            await browser.fill({"login-username": admin.username, "login-password": admin.password})
            await browser.click("#login-submit")
            row = f'tr[data-username="{officer.username}"]'
            await browser.visible(row, "the officer's row")
            # Names are text, never markup.
            assert "<b>Ofc</b> Kim" in await browser.texts(f"{row} td")

            # Revoke the officer's API tokens: the bearer token stops working.
            await browser.click(f"{row} .act-revoke")
            await browser.wait(
                lambda d: "API token(s)" in d.find_element("id", "flash").text, "revoked"
            )
            status, _ = await api.call("GET", "/api/v1/auth/me")
            assert status == 401

            # Disable: the officer cannot log in; enable: they can again.
            await browser.click(f"{row} .act-disable")
            await browser.wait(
                lambda d: d.find_element("css selector", f"{row} .user-status").text == "disabled",
                "the officer disabled",
            )
            assert await login_status(hub, officer.username, officer.password) in (401, 403)
            await browser.click(f"{row} .act-enable")
            await browser.wait(
                lambda d: d.find_element("css selector", f"{row} .user-status").text == "active",
                "the officer enabled",
            )
            assert await login_status(hub, officer.username, officer.password) == 200

            # A new password: the old one is refused, the new one works.
            await browser.run(
                lambda: chromium.find_element("css selector", f"{row} .new-password").send_keys(
                    NEW_PASSWORD
                )
            )
            await browser.click(f"{row} .act-password")
            await browser.wait(
                lambda d: "new password set" in d.find_element("id", "flash").text, "password set"
            )
            assert await login_status(hub, officer.username, NEW_PASSWORD) == 200
            assert await login_status(hub, officer.username, officer.password) == 401
            # The admin's own row has no "Disable".
            assert await browser.texts(f'tr[data-username="{admin.username}"] .act-disable') == []
            # (The first /auth/me before logging in answers 401 by design.)
            errors = [e for e in await browser.console_errors() if "/api/v1/auth/me" not in e]
            assert errors == []

            # A non-admin sees only "admins only".
            await browser.script("document.cookie = '';")
            await browser.run(chromium.delete_all_cookies)
            await browser.get(hub.url + "/console/admin.html")
            await browser.visible("#login-form", "the login form again")
            await browser.fill({"login-username": officer.username, "login-password": NEW_PASSWORD})
            await browser.click("#login-submit")
            await browser.visible("#denied-view", "admins only")
    finally:
        with contextlib.suppress(Exception):
            browser.close()
