"""Drive the officer console in a real headless Chromium (Selenium), from async tests.

Selenium is synchronous; every browser call runs on one worker thread (``Browser.run``)
so the hub keeps serving on the event loop. ``Browser.close()`` joins that thread.
If Chromium or chromedriver cannot start, ``start_chromium`` fails the test with a message
that says what to install; it never skips.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

T = TypeVar("T")
WAIT_S = 30.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1440,1900",
)


def chromium_paths() -> tuple[str, str]:
    binary = os.environ.get("CONNECT_SHARE_CHROMIUM") or shutil.which("chromium") or ""
    driver = os.environ.get("CONNECT_SHARE_CHROMEDRIVER") or shutil.which("chromedriver") or ""
    return binary or "/usr/bin/chromium", driver or "/usr/bin/chromedriver"


def start_chromium(profile_dir: Path) -> WebDriver:
    """A fresh headless Chromium (new profile, no network services); fails the test if not."""
    binary, driver_path = chromium_paths()
    missing = [p for p in (binary, driver_path) if not Path(p).is_file()]
    if missing:
        pytest.fail(
            f"Chromium browser test cannot run: {', '.join(missing)} not found. Install the "
            "Debian packages chromium and chromium-driver (scripts/test does), or set "
            "CONNECT_SHARE_CHROMIUM / CONNECT_SHARE_CHROMEDRIVER."
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        # An explicit driver path: Selenium Manager never runs (nothing is downloaded).
        return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    except (WebDriverException, OSError) as err:
        pytest.fail(f"Chromium did not start ({binary} via {driver_path}): {err}")


class Browser:
    """Async wrappers around one WebDriver; all calls on a single joined worker thread."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="selenium")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def get(self, url: str) -> None:
        await self.run(self.driver.get, url)

    async def wait(self, condition: Callable[[WebDriver], T], what: str) -> T:
        """Wait until ``condition(driver)`` is truthy; fails naming ``what`` otherwise."""

        def _wait() -> T:
            # The page re-renders its tables while polling: a row found a moment ago may be
            # gone (stale); that only means "look again".
            return WebDriverWait(
                self.driver,
                WAIT_S,
                poll_frequency=0.1,
                ignored_exceptions=(StaleElementReferenceException,),
            ).until(condition, message=f"the console never showed: {what}")

        return await self.run(_wait)

    async def visible(self, css: str, what: str | None = None) -> WebElement:
        def shown(driver: WebDriver) -> WebElement | bool:
            for node in driver.find_elements(By.CSS_SELECTOR, css):
                if node.is_displayed():
                    return node
            return False

        return await self.wait(shown, what or css)

    async def texts(self, css: str) -> list[str]:
        """Rendered text of every match, read in one script (no stale elements)."""
        return await self.script(
            "return Array.from(document.querySelectorAll(arguments[0]), n => n.innerText);", css
        )

    async def attrs(self, css: str, name: str) -> list[str]:
        return await self.script(
            "return Array.from(document.querySelectorAll(arguments[0]),"
            " n => n.getAttribute(arguments[1]) || '');",
            css,
            name,
        )

    async def click(self, css: str) -> None:
        """Click the first visible match; retried if the page re-rendered it meanwhile."""

        def clicked(driver: WebDriver) -> bool:
            for node in driver.find_elements(By.CSS_SELECTOR, css):
                if node.is_displayed() and node.is_enabled():
                    node.click()
                    return True
            return False

        await self.wait(clicked, f"a clickable {css}")

    async def fill(self, values: dict[str, str]) -> None:
        """Type into inputs by element id (clears them first)."""

        def _fill() -> None:
            for element_id, text in values.items():
                node = self.driver.find_element(By.ID, element_id)
                node.clear()
                node.send_keys(text)

        await self.run(_fill)

    async def script(self, source: str, *args: Any) -> Any:
        return await self.run(self.driver.execute_script, source, *args)

    async def screenshot(self, path: str) -> None:
        assert await self.run(self.driver.save_screenshot, path), f"no screenshot at {path}"

    async def console_errors(self) -> list[str]:
        logs = await self.run(self.driver.get_log, "browser")
        return [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]

    async def allow_downloads(self, directory: Path) -> None:
        """Save downloads (Content-Disposition: attachment) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        await self.run(
            self.driver.execute_cdp_cmd,
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(directory), "eventsEnabled": True},
        )

    async def downloaded(self, directory: Path, suffix: str) -> Path:
        """The one finished download ending in ``suffix`` (waits for it)."""

        def done(_: WebDriver) -> Path | bool:
            found = [p for p in directory.iterdir() if p.name.endswith(suffix)]
            partial = [p for p in directory.iterdir() if p.name.endswith(".crdownload")]
            return found[0] if len(found) == 1 and not partial else False

        return await self.wait(done, f"a downloaded *{suffix} in {directory}")

    async def log_in(self, url: str, username: str, password: str) -> None:
        await self.get(url)
        await self.visible("#login-form", "the login form")
        await self.fill({"login-username": username, "login-password": password})
        await self.click("#login-submit")
        await self.visible("#who-name", "the logged-in officer")

    async def click_at(self, css: str, dx: int, dy: int) -> None:
        """A real mouse click ``dx``/``dy`` pixels from the centre of the first match."""
        from selenium.webdriver.common.action_chains import ActionChains

        def _click() -> None:
            node = self.driver.find_element(By.CSS_SELECTOR, css)
            ActionChains(self.driver).move_to_element_with_offset(node, dx, dy).click().perform()

        await self.run(_click)

    async def drag(self, css: str, dx: int, dy: int) -> None:
        """Press the mouse on the first match, move by ``dx``/``dy`` in steps, release."""
        from selenium.webdriver.common.action_chains import ActionChains

        def _drag() -> None:
            node = self.driver.find_element(By.CSS_SELECTOR, css)
            chain = ActionChains(self.driver).click_and_hold(node)
            for _ in range(4):
                chain.move_by_offset(dx // 4, dy // 4)
            chain.release().perform()

        await self.run(_drag)


def screenshot_path(tmp_path: Path, name: str) -> str:
    """Where a test saves a screenshot: ``$CONNECT_SHARE_SCREENSHOTS/<name>`` when set (the
    README's pictures in docs/ are made that way), else the test's tmp_path."""
    directory = Path(os.environ.get("CONNECT_SHARE_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory / name)
