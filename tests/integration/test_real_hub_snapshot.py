"""A snapshot end to end: the real hub (in-process on 127.0.0.1) and the real integration.

The resident approves a snapshot request; the analyst's ``POST /api/v1/grants/{id}/snapshot``
makes the hub open a ``snapshot`` session; the integration sends one masked frame from the
HA camera and closes the session itself; both audit logs record exactly one frame.
The hub's own ``session_close`` is held back here, so the session can only end because the
integration ended it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from PIL import Image

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN
from hub_server import sessions as hub_sessions
from tests.hub_harness import running_hub

from .conftest import camera_options, enroll, set_cameras, until

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")
LAT, LON = 52.3731, 4.8922
LEFT_HALF = "[[[0,0],[0.5,0],[0.5,1],[0,1]]]"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


@pytest.fixture
def hub_stays_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub records session ends as usual but does not tell the installation."""
    end_session = hub_sessions.end_session

    async def quiet(hub: Any, live: Any, reason: str, **_: Any) -> None:
        await end_session(hub, live, reason, notify_installation=False)

    monkeypatch.setattr(hub_sessions, "end_session", quiet)


async def test_snapshot_with_real_hub(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path, hub_stays_silent: None
) -> None:
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub") as hub:
        entry = await enroll(hass, hub.url, await hub.new_enrollment_code())
        await set_cameras(hass, entry, {"camera.front": camera_options(masks=LEFT_HALF)})
        manager = entry.runtime_data
        await until(lambda: manager.connection.is_connected, "connection")
        iid = entry.data["installation_id"]

        analyst = await hub.create_user(role="analyst")
        api = hub.client(analyst)
        incident = await api.open_incident(lat=LAT, lon=LON + 0.001, radius_m=300)
        inc_id = incident["incident_id"]

        async def camera_listed() -> bool:
            cams = await api.cameras_in_incident(inc_id)
            return any(c["camera_id"] == "camera.front" for c in cams)

        for _ in range(200):
            if await camera_listed():
                break
            await hass.async_block_till_done()
        assert await camera_listed()
        await api.request_snapshot(inc_id, [(iid, "camera.front")])
        await until(lambda: bool(manager.pending), "pending request")
        request_id = next(iter(manager.pending))
        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": request_id}, blocking=True
        )
        grant = await api.wait_for_grant(inc_id, "camera.front", scope="snapshot")

        path = f"/api/v1/grants/{grant['grant_id']}/snapshot"
        async with api.http.post(api.url + path, headers=api.headers) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["Content-Type"] == "image/jpeg"
            assert resp.headers["Cache-Control"] == "no-store"
            jpeg = await resp.read()

        # The masked frame: the left half is filled black, the right half is the camera's red.
        image = Image.open(io.BytesIO(jpeg)).convert("RGB")
        assert image.size == (64, 48)
        assert max(image.getpixel((5, 24))) < 40
        red, green, _ = image.getpixel((58, 24))
        assert red > 150 and green < 80

        # The integration closed the session itself after one frame.
        await until(lambda: not manager.sessions, "the snapshot session ended")
        entries = manager.audit.entries
        started = [e for e in entries if e.action == "session_started"]
        closed = [e for e in entries if e.action == "session_closed"]
        assert [e.detail["scope"] for e in started] == ["snapshot"]
        assert len(closed) == 1 and closed[0].detail["frames_sent"] == 1
        assert closed[0].detail["reason"] == "snapshot_sent"

        supervisor = hub.client(await hub.create_user(role="supervisor"))
        (stop,) = await supervisor.audit(incident_id=inc_id, action="session.stop")
        assert stop["detail"]["frames_relayed"] == 1
