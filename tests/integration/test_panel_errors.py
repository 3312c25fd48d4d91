"""Panel commands' remaining paths on a real Home Assistant test instance with the fake hub:
naming an entry, nothing set up, revoking one incident from the panel, a pause too far ahead,
the history's "to" date, a camera that gives no picture, a warrant shown as text."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from custom_components.connect_share.protocol.messages import SessionOpen, new_session_id
from custom_components.connect_share.protocol.purpose import Purpose

from .conftest import StillCamera
from .fake_hub import FakeHub
from .helpers import audit_actions
from .test_panel_ws import Ws, _request, _setup, _snapshot_state, fast_backoff  # noqa: F401

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")


async def test_entry_named_or_none_set_up(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client: Any
) -> None:
    entry = await _setup(hass, fake_hub)
    ws = Ws(await hass_ws_client(hass))
    (named,) = (await ws.ok("overview", entry_id=entry.entry_id))["entries"]
    assert named["entry_id"] == entry.entry_id
    error = await ws.error("overview", entry_id="not-an-entry")
    assert error["code"] == "not_found" and "not-an-entry" in error["message"]
    assert (await ws.ok("cameras", entry_id=entry.entry_id))["cameras"]

    # Unloaded: the panel says Connect Share is not set up instead of failing.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert (await ws.ok("overview"))["entries"] == []
    assert (await ws.ok("requests"))["pending"] == []
    for command in ("cameras", "history"):
        error = await ws.error(command)
        assert error["code"] == "not_found" and "not set up" in error["message"], command


async def test_revoke_one_incident_from_the_panel(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client: Any
) -> None:
    """Revoking an incident ends its live view at once and its token cannot reopen one; a
    session of another incident keeps running."""
    entry = await _setup(hass, fake_hub)
    ws = Ws(await hass_ws_client(hass))
    sessions = {}
    for camera in ("camera.front", "camera.back"):
        incident, request = await _request(hass, fake_hub, entry, (camera,))
        await ws.ok("request/approve", request_id=request.request_id)
        token = fake_hub.token(incident, [camera])
        await fake_hub.send(fake_hub.grant(request, token))
        session_id = new_session_id()
        await fake_hub.send(
            SessionOpen(session_id=session_id, token=token, camera_id=camera, scope="live")
        )
        await fake_hub.wait_for("session_started", lambda m, s=session_id: m.session_id == s)
        sessions[camera] = (incident, token, session_id)

    incident, token, session_id = sessions["camera.front"]
    assert await ws.ok("revoke", incident_id=incident.incident_id) == {"revoked": True}
    closed = await fake_hub.wait_for("session_close", lambda m: m.session_id == session_id)
    assert closed.frames_sent >= 0
    assert session_id not in entry.runtime_data.sessions
    assert sessions["camera.back"][2] in entry.runtime_data.sessions  # the other incident
    assert "revoked" in audit_actions(entry)
    start = len(fake_hub.received)
    again = new_session_id()
    await fake_hub.send(
        SessionOpen(session_id=again, token=token, camera_id="camera.front", scope="live")
    )
    await fake_hub.wait_for("session_close", lambda m: m.session_id == again, start=start)
    assert again not in entry.runtime_data.sessions


async def test_pause_more_than_a_year_and_history_to_date(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client: Any
) -> None:
    entry = await _setup(hass, fake_hub)
    ws = Ws(await hass_ws_client(hass))
    before = _snapshot_state(entry)
    error = await ws.error("pause", until=time.time() + 400 * 86400)
    assert error["code"] == "invalid_format" and "more than a year" in error["message"]
    assert _snapshot_state(entry) == before and not entry.runtime_data.is_paused()

    await _request(hass, fake_hub, entry)  # something in the history today
    everything = (await ws.ok("history"))["total"]
    assert everything > 0
    # Dates are the house's (Home Assistant's time zone).
    today = dt_util.now().date()
    yesterday, today = str(today - timedelta(days=1)), str(today)
    # A "to" date includes that whole day; yesterday's excludes today's entries.
    assert (await ws.ok("history", date_to=today))["total"] == everything
    assert (await ws.ok("history", date_to=yesterday))["total"] == 0
    assert (await ws.ok("history", date_from=today, date_to=today))["total"] == everything


async def test_camera_that_gives_no_picture(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    config_dir: Path,
    hass_ws_client: Any,
    cameras: dict[str, StillCamera],
) -> None:
    await _setup(hass, fake_hub)

    async def broken(width: int | None = None, height: int | None = None) -> bytes:
        raise HomeAssistantError("camera offline")

    cameras["camera.front"].async_camera_image = broken  # type: ignore[method-assign]
    ws = Ws(await hass_ws_client(hass))
    error = await ws.error("camera/snapshot", camera="camera.front", raw=True)
    assert error["code"] == "home_assistant_error" and "no picture" in error["message"]
    # The other camera still answers.
    assert (await ws.ok("camera/snapshot", camera="camera.back", raw=True))["image"]


async def test_warrant_is_shown_with_its_reference(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client: Any
) -> None:
    entry = await _setup(hass, fake_hub)
    purpose = Purpose(
        agency_id="NL1234567",
        offense_code="13A",
        legal_basis="warrant",
        warrant_ref="W-2026-17",
        warrant_court="Amsterdam District Court",
    )
    await _request(hass, fake_hub, entry, purpose=purpose)
    ws = Ws(await hass_ws_client(hass))
    (row,) = (await ws.ok("requests"))["pending"]
    assert row["agency"] == "(NL1234567)"
    assert row["purpose"] == "offense 13A · warrant W-2026-17 (Amsterdam District Court)"


async def test_approving_after_sharing_was_switched_off_shares_nothing(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client: Any
) -> None:
    """A request that came before the resident switched the camera's sharing off: approving
    it now is checked against the rules again, so nothing is approved, the hub hears
    nothing, the log says why."""
    entry = await _setup(hass, fake_hub)
    _incident, request = await _request(hass, fake_hub, entry)
    ws = Ws(await hass_ws_client(hass))
    await ws.ok("camera/sharing", camera="camera.front", enabled=False)
    assert request.request_id in entry.runtime_data.pending
    result = await ws.ok("request/approve", request_id=request.request_id)
    assert result == {"approved_cameras": []}
    assert request.request_id not in entry.runtime_data.pending
    declined = [e for e in entry.runtime_data.audit.entries if e.action == "request_declined"]
    assert declined[-1].detail == {
        "request_id": request.request_id,
        "reason": "rules_refused_on_approval",
    }
    assert not [m for m in fake_hub.received if m.TYPE == "decision"]
    assert entry.runtime_data.requests.known[request.request_id].status == "declined"
