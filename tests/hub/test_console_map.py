"""The console's map in a real Chromium: placing an incident by click (with the city's tile
server and geocoder), two cameras at one spot each reachable, and the offline fallback
when the tile server does not answer.

Screenshots (``$CONNECT_SHARE_SCREENSHOTS`` or the test's tmp_path): console-place.png,
console-same-spot.png, console-offline-map.png.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.hub.console_browser import Browser, screenshot_path, start_chromium
from tests.hub.map_servers import closed_port, map_servers
from tests.hub_harness import camera, running_hub

pytestmark = pytest.mark.browser

LAT, LON = 33.7490, -84.3880
M_LAT = 1 / 110_540
M_LON = 1 / (111_320 * math.cos(math.radians(LAT)))


def at(north_m: float, east_m: float) -> tuple[float, float]:
    return LAT + north_m * M_LAT, LON + east_m * M_LON


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    north = (lat2 - lat1) / M_LAT
    east = (lon2 - lon1) / M_LON
    return math.hypot(north, east)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    driver: WebDriver = start_chromium(tmp_path / "chromium-profile")
    wrapped = Browser(driver)
    try:
        yield wrapped
    finally:
        wrapped.close()
        driver.quit()


async def no_console_errors(browser: Browser) -> None:
    errors = [
        e
        for e in await browser.console_errors()
        if not ("/api/v1/auth/me - " in e and "status of 401" in e)
    ]
    assert not errors, f"browser console errors (CSP?): {errors}"


async def input_value(browser: Browser, element_id: str) -> str:
    return await browser.script("return document.getElementById(arguments[0]).value", element_id)


async def test_place_an_incident_by_click_with_city_tiles_and_geocoder(
    tmp_path: Path, browser: Browser
) -> None:
    shop_at = at(0, 0)
    async with (
        map_servers({"Corner Shop, 12 Peachtree St": shop_at}) as city,
        running_hub(tmp_path, map_tile_url=city.tile_url, geocoder_url=city.geocoder_url) as hub,
    ):
        analyst = await hub.create_user(role="analyst", display_name="Dana Reyes", badge="4711")
        await hub.simulated_installation(
            [
                camera("cam-a", *at(80, 0), name="Porch"),
                camera("cam-b", *at(0, 150), name="Garage"),
                camera("cam-c", *at(0, 900), name="Far away"),
            ],
            name="Maple St 12",
        )
        await browser.log_in(hub.url + "/", analyst.username, analyst.password)
        await browser.click("#new-incident-box summary")
        await browser.visible("#place-map .leaflet-tile-loaded", "street tiles from the city")

        # Address search (the city's geocoder) centres the map and places the incident there.
        await browser.fill({"geo-q": "corner shop"})
        await browser.click("#geo-search")
        await browser.click("#geo-results button.geo-hit")
        assert city.queries == ["corner shop"]
        assert float(await input_value(browser, "inc-lat")) == pytest.approx(shop_at[0], abs=1e-6)
        assert float(await input_value(browser, "inc-lon")) == pytest.approx(shop_at[1], abs=1e-6)

        # A click on the map moves the incident to the clicked point: 120 px east of the
        # centre at the map's scale (metres per pixel read from Leaflet's own projection).
        await browser.click_at("#place-map", 0, 0)
        lat0 = float(await input_value(browser, "inc-lat"))
        lon0 = float(await input_value(browser, "inc-lon"))
        assert metres(lat0, lon0, *shop_at) < 15, "a click in the middle places it there"
        await browser.click_at("#place-map", 120, 0)
        lat1 = float(await input_value(browser, "inc-lat"))
        lon1 = float(await input_value(browser, "inc-lon"))
        scale = await browser.script(
            "const m = document.querySelector('#place-map .leaflet-control-scale-line');"
            "return [m.textContent, m.offsetWidth];"
        )
        label, width = scale
        bar_m = float(label.split()[0]) * (1000 if label.endswith("km") else 1)
        expected_m = 120 * bar_m / width
        assert lat1 == pytest.approx(lat0, abs=3 * M_LAT)
        assert (lon1 - lon0) / M_LON == pytest.approx(expected_m, rel=0.1)

        # Dragging the pin moves the incident as well: 60 px west.
        await browser.drag("#place-map .map-centre-icon", -60, 0)
        await browser.wait(
            lambda d: float(d.find_element("id", "inc-lon").get_attribute("value")) < lon1,
            "the dragged pin's new longitude",
        )
        lat2 = float(await input_value(browser, "inc-lat"))
        lon2 = float(await input_value(browser, "inc-lon"))
        assert lat2 == pytest.approx(lat1, abs=3 * M_LAT)
        assert (lon1 - lon2) / M_LON == pytest.approx(60 * bar_m / width, rel=0.15)
        lat1, lon1 = lat2, lon2

        # The radius: Shift + wheel over the map (one step = 25 m), and the slider.
        assert await input_value(browser, "inc-radius") == "300"
        await browser.script(
            "document.getElementById('place-map').dispatchEvent(new WheelEvent('wheel',"
            " {deltaY: -100, shiftKey: true, bubbles: true, cancelable: true}));"
        )
        assert await input_value(browser, "inc-radius") == "325"
        await browser.wait(
            lambda d: "2 shared camera(s) within 325 m"
            in d.find_element("id", "place-caption").text,
            "the two cameras in the placed circle",
        )
        await browser.screenshot(screenshot_path(tmp_path, "console-place.png"))

        await browser.fill(
            {
                "inc-case": "2026-000200",
                "inc-type": "burglary",
                "inc-offense": "220",
                "inc-reason": "Shop break-in through the back door",
            }
        )
        await browser.click("#incident-submit")
        await browser.wait(
            lambda d: "2026-000200" in d.find_element("id", "d-case").text, "the new incident"
        )
        [incident] = (await hub.client(analyst).expect(200, "GET", "/api/v1/incidents"))[
            "incidents"
        ]
        assert incident["lat"] == pytest.approx(lat1, abs=1e-6)
        assert incident["lon"] == pytest.approx(lon1, abs=1e-6)
        assert incident["radius_m"] == 325
        await browser.visible("#map .leaflet-tile-loaded", "street tiles on the incident map")
        assert city.tiles_served, "the page loaded tiles from the city's server"
        assert await browser.script("return document.getElementById('map').dataset.tiles") == (
            "loaded"
        )
        await no_console_errors(browser)


async def test_two_cameras_at_one_spot_are_each_reachable(tmp_path: Path, browser: Browser) -> None:
    spot = at(40, 30)
    async with running_hub(tmp_path) as hub:
        analyst = await hub.create_user(role="analyst")
        house = await hub.simulated_installation(
            [camera("cam-door", *spot, name="Door"), camera("cam-porch", *at(-100, 0))],
            name="House",
        )
        neighbour = await hub.simulated_installation(
            [camera("cam-gate", *spot, name="Gate", mode="registered")], name="Neighbour"
        )
        api = hub.client(analyst)
        inc = await api.open_incident(lat=LAT, lon=LON, radius_m=300)
        await browser.log_in(
            f"{hub.url}/console/#incident={inc['incident_id']}", analyst.username, analyst.password
        )
        door = f"{house.installation_id}/cam-door"
        gate = f"{neighbour.installation_id}/cam-gate"
        # One numbered marker for the two; the third camera has its own.
        cluster = f'#map .map-cluster[data-cameras="{" ".join(sorted([door, gate]))}"]'
        await browser.visible(cluster, "one marker for the two cameras at one spot")
        assert await browser.texts(cluster) == ["2"]
        assert await browser.attrs("#map .map-cam", "data-camera") == [
            f"{house.installation_id}/cam-porch"
        ]
        await browser.click(cluster)
        await browser.visible(".leaflet-popup .map-list-item", "the list of the two cameras")
        assert set(await browser.attrs(".leaflet-popup .map-list-item", "data-camera")) == {
            door,
            gate,
        }
        for key in (door, gate):
            await browser.click(f'.leaflet-popup .map-list-item[data-camera="{key}"]')
            await browser.wait(
                lambda d, key=key: d.find_element(
                    "css selector", f'#camera-rows tr[data-camera="{key}"] input'
                ).is_selected(),
                f"{key} selected from the map's list",
            )
        # The list stays open and shows both as chosen; the marker is marked too.
        assert await browser.attrs(".leaflet-popup .map-list-item", "aria-pressed") == [
            "true",
            "true",
        ]
        await browser.screenshot(screenshot_path(tmp_path, "console-same-spot.png"))
        await browser.click("#request-clip")
        asked_house = await house.next_message("access_request")
        asked_neighbour = await neighbour.next_message("access_request")
        assert asked_house.camera_ids == ["cam-door"]
        assert asked_neighbour.camera_ids == ["cam-gate"]
        # No street map configured: the plain grid, and the map says so.
        assert await browser.script("return document.getElementById('map').dataset.tiles") == (
            "none"
        )
        [note] = await browser.texts("#incident-detail .map-tiles-note")
        assert "No street map is configured" in note
        await no_console_errors(browser)


async def test_map_without_a_reachable_tile_server_still_shows_circle_cameras_scale(
    tmp_path: Path, browser: Browser
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/{{z}}/{{x}}/{{y}}.png"
    async with running_hub(tmp_path, map_tile_url=dead) as hub:
        analyst = await hub.create_user(role="analyst")
        house = await hub.simulated_installation(
            [camera("cam-1", *at(50, 50), name="Front"), camera("cam-2", *at(-90, 20))],
            name="House",
        )
        inc = await hub.client(analyst).open_incident(lat=LAT, lon=LON, radius_m=200)
        await browser.log_in(
            f"{hub.url}/console/#incident={inc['incident_id']}", analyst.username, analyst.password
        )
        await browser.wait(
            lambda d: d.find_element("id", "map").get_attribute("data-tiles") == "failed",
            "the map noticing the tile server is down",
        )
        [note] = await browser.texts("#incident-detail .map-tiles-note")
        assert "Street map unavailable" in note
        assert await browser.script(
            "return document.getElementById('map').classList.contains('tiles-failed')"
        )
        # The circle (200 m), both cameras and a metric scale are drawn all the same.
        circle = await browser.script(
            "const r = document.querySelector('#map path.map-radius').getBoundingClientRect();"
            "const s = document.querySelector('#map .leaflet-control-scale-line');"
            "return [r.width, r.height, s.textContent, s.offsetWidth];"
        )
        width, height, label, bar_px = circle
        bar_m = float(label.split()[0]) * (1000 if label.endswith("km") else 1)
        assert label.endswith((" m", " km"))
        assert width == pytest.approx(height, rel=0.05)
        assert width * bar_m / bar_px == pytest.approx(400, rel=0.08), "a 200 m radius"
        assert set(await browser.attrs("#map .map-cam", "data-camera")) == {
            f"{house.installation_id}/cam-1",
            f"{house.installation_id}/cam-2",
        }
        await browser.click(f'#map .map-cam[data-camera="{house.installation_id}/cam-1"]')
        await browser.wait(
            lambda d: d.find_element(
                "css selector", f'#camera-rows tr[data-camera="{house.installation_id}/cam-1"]'
            ).get_attribute("class")
            == "selected",
            "the camera picked on the offline map",
        )
        await browser.screenshot(screenshot_path(tmp_path, "console-offline-map.png"))
        # The failed tiles are the only errors the browser may log.
        errors = [
            e
            for e in await browser.console_errors()
            if not ("/api/v1/auth/me - " in e and "status of 401" in e)
            and not e.startswith(dead.split("{")[0])
        ]
        assert not errors, errors
