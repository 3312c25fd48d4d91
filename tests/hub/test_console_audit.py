"""The audit view in a real Chromium: names instead of ids, a filter of the real action
names, and the CSV export of exactly the filtered entries (downloaded by the page).

Screenshot: console-audit.png (``$CONNECT_SHARE_SCREENSHOTS`` or the test's tmp_path).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub_server.audit_view import CSV_COLUMNS
from tests.hub.console_browser import Browser, screenshot_path, start_chromium
from tests.hub_harness import camera, running_hub

pytestmark = pytest.mark.browser

LAT, LON = 33.7490, -84.3880


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    driver = start_chromium(tmp_path / "chromium-profile")
    wrapped = Browser(driver)
    try:
        yield wrapped
    finally:
        wrapped.close()
        driver.quit()


def read_csv(path: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows and tuple(rows[0]) == CSV_COLUMNS
    return rows


async def test_audit_view_names_filter_and_csv_export(tmp_path: Path, browser: Browser) -> None:
    downloads = tmp_path / "downloads"
    async with running_hub(tmp_path, time_zone="America/Chicago") as hub:
        analyst = await hub.create_user(role="analyst", display_name="Dana Reyes", badge="4711")
        supervisor = await hub.create_user(role="supervisor", display_name="Sgt. Miles Chen")
        house = await hub.simulated_installation(
            [camera("cam-front", LAT + 0.0004, LON, name="Front door")], name="Maple St 12"
        )
        api = hub.client(analyst)
        inc = await api.open_incident(lat=LAT, lon=LON, radius_m=300)
        await api.request_live(inc["incident_id"], [(house.installation_id, "cam-front")])
        asked = await house.next_message("access_request")
        await house.approve(asked)
        await api.wait_for_grant(inc["incident_id"], "cam-front", scope="live")

        await browser.allow_downloads(downloads)
        await browser.log_in(hub.url + "/", supervisor.username, supervisor.password)
        known = {e["action"] for e in await hub.client(supervisor).audit(limit=5000)}
        await browser.click("#tab-audit")
        await browser.visible("#audit-rows tr", "audit entries")

        # The action filter lists the real names in the log, nothing made up.
        await browser.wait(
            lambda d: len(d.find_elements("css selector", "#audit-action option")) > 1,
            "the action names",
        )
        options = await browser.attrs("#audit-action option", "value")
        assert options[0] == "" and options[1:] == sorted(options[1:])
        assert known <= set(options[1:]) <= known | {"login.succeeded", "logout"}
        assert {"incident.opened", "request.created", "request.answered"} <= set(options)

        # Names: the officer's display name and badge, the installation's label.
        rows = await browser.script(
            "return Array.from(document.querySelectorAll('#audit-rows tr'), r => ["
            "r.dataset.action, r.querySelector('.actor').textContent,"
            " r.querySelector('.installation').textContent]);"
        )
        created = [r for r in rows if r[0] == "request.created"]
        assert created == [["request.created", "Dana Reyes #4711", "Maple St 12"]]
        answered = [r for r in rows if r[0] == "request.answered"]
        assert answered and answered[0][1] == "Maple St 12 (home)"
        assert not any("user:" in r[1] for r in rows), "no raw user ids"
        await browser.screenshot(screenshot_path(tmp_path, "console-audit.png"))

        # Filter (incident + action), show, export: the CSV holds exactly those entries.
        incident_id = inc["incident_id"]
        await browser.run(
            lambda: browser.driver.find_element(
                "css selector", f'#audit-incident option[value="{incident_id}"]'
            ).click()
        )
        await browser.run(
            lambda: browser.driver.find_element(
                "css selector", '#audit-action option[value="request.created"]'
            ).click()
        )
        await browser.click("#audit-refresh")
        await browser.wait(
            lambda d: set(
                d.execute_script(
                    "return Array.from(document.querySelectorAll('#audit-rows tr'),"
                    " r => r.dataset.action)"
                )
            )
            == {"request.created"},
            "only request.created after filtering",
        )
        await browser.click("#audit-export")
        saved = await browser.downloaded(downloads, ".csv")
        exported = read_csv(saved)
        expected = await hub.client(supervisor).audit(
            incident_id=incident_id, action="request.created"
        )
        assert [int(r["seq"]) for r in exported] == [e["seq"] for e in expected]
        assert [(r["actor_name"], r["actor_badge"], r["installation_label"]) for r in exported] == [
            ("Dana Reyes", "4711", "Maple St 12")
        ]
        assert exported[0]["hash"] == expected[0]["hash"]
        utc = datetime.fromtimestamp(expected[0]["ts"], UTC)
        assert exported[0]["time_utc"] == utc.strftime("%Y-%m-%d %H:%M:%S")
        hub_zone = ZoneInfo("America/Chicago")
        assert exported[0]["time_hub"] == utc.astimezone(hub_zone).strftime("%Y-%m-%d %H:%M:%S%z")
        saved.unlink()

        # Another filter; a name a spreadsheet would run as a formula is exported as text.
        prankster = await hub.create_user(role="officer", display_name='=HYPERLINK("x")')
        other = await hub.client(prankster).open_incident(lat=LAT, lon=LON, radius_m=100)
        await browser.run(
            lambda: browser.driver.find_element(
                "css selector", '#audit-incident option[value=""]'
            ).click()
        )
        await browser.run(
            lambda: browser.driver.find_element(
                "css selector", '#audit-action option[value="incident.opened"]'
            ).click()
        )
        await browser.click("#audit-refresh")
        await browser.click("#audit-export")
        opened = read_csv(await browser.downloaded(downloads, ".csv"))
        assert {r["incident_id"] for r in opened} == {incident_id, other["incident_id"]}
        assert {r["actor_name"] for r in opened} == {"Dana Reyes", '\'=HYPERLINK("x")'}

        # Each export is itself in the log, with its filters.
        exports = await hub.client(supervisor).audit(action="audit.exported")
        assert [e["detail"]["filters"] for e in exports] == [
            {"incident_id": incident_id, "action": "request.created"},
            {"action": "incident.opened"},
        ]
        assert [e["detail"]["rows"] for e in exports] == [1, 2]
        errors = [
            e
            for e in await browser.console_errors()
            if not ("/api/v1/auth/me - " in e and "status of 401" in e)
        ]
        assert not errors, errors
