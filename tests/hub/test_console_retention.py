"""The console's admin page shows the retention periods in force and changes them (issue 14),
driven in real Chromium: a change takes effect at the API, a negative period is refused
with a clear message, and "Delete expired records now" runs a pass."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.hub.console_browser import Browser, start_chromium
from tests.hub_harness import running_hub


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    driver = start_chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


async def test_admin_page_shows_and_changes_retention(tmp_path: Path, chromium: WebDriver) -> None:
    browser = Browser(chromium)
    try:
        async with running_hub(tmp_path, incidents_retention_days=60) as hub:
            admin = await hub.create_user(role="admin")
            api = hub.client(admin)
            await browser.get(hub.url + "/console/admin.html")
            await browser.visible("#login-form", "the login form")
            await browser.fill({"login-username": admin.username, "login-password": admin.password})
            await browser.click("#login-submit")
            grants = 'tr[data-kind="grants"]'
            await browser.visible(grants, "the grants period")
            shown = await browser.script(
                "return Array.from(document.querySelectorAll('#retention-body .retention-days'),"
                " n => n.value);"
            )
            # evidence first, incidents last but credentials
            assert shown == ["90", "30", "30", "30", "60", "30"]
            assert await browser.texts(f"{grants} .retention-set-by") == ["configuration"]

            async def set_days(value: str) -> None:
                def typed() -> None:
                    field = chromium.find_element("css selector", f"{grants} .retention-days")
                    field.clear()
                    field.send_keys(value)

                await browser.run(typed)
                await browser.click(f"{grants} .act-retention")

            await set_days("45")
            await browser.wait(
                lambda d: "45 days" in d.find_element("id", "flash").text, "the change saved"
            )
            periods = (await api.expect(200, "GET", "/api/v1/admin/retention"))["periods"]
            assert {p["kind"]: (p["days"], p["set_by"]) for p in periods}["grants"] == (
                45,
                "admin",
            )
            await browser.wait(
                lambda d: d.find_element("css selector", f"{grants} .retention-set-by").text
                == "admin",
                "set by admin",
            )

            await set_days("-3")
            await browser.wait(
                lambda d: "0 (keep forever)" in d.find_element("id", "flash").text,
                "the refusal",
            )
            periods = (await api.expect(200, "GET", "/api/v1/admin/retention"))["periods"]
            assert {p["kind"]: p["days"] for p in periods}["grants"] == 45

            await browser.click("#retention-run")
            await browser.wait(
                lambda d: "deleted: evidence 0" in d.find_element("id", "flash").text,
                "the pass ran",
            )
            errors = [e for e in await browser.console_errors() if "/api/v1/auth/me" not in e]
            assert [e for e in errors if "/api/v1/admin/retention" not in e] == []
    finally:
        with contextlib.suppress(Exception):
            browser.close()
