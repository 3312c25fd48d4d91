"""One request for an auto camera and an on-request camera, through the real hub.

The auto camera is approved at once (a partial decision); the on-request camera waits for
the resident, whose approval later adds its own token to the same request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN
from tests.hub_harness import running_hub

from .conftest import camera_options, enroll, set_cameras, until
from .helpers import audit_actions

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")
LAT, LON = 52.3731, 4.8922


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


async def poll(hass: HomeAssistant, check, what: str) -> None:
    for _ in range(300):
        if await check():
            return
        await hass.async_block_till_done()
    raise AssertionError(f"timed out waiting for {what}")


async def test_auto_camera_goes_first_resident_answers_the_rest(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub") as hub:
        entry = await enroll(hass, hub.url, await hub.new_enrollment_code())
        await set_cameras(
            hass,
            entry,
            {
                "camera.front": camera_options("on_request"),
                "camera.back": camera_options(
                    "auto", auto_incident_types=["burglary"], auto_max_distance_m=300
                ),
            },
        )
        manager = entry.runtime_data
        await until(lambda: manager.connection.is_connected, "connection")
        iid = entry.data["installation_id"]
        api = hub.client(await hub.create_user(role="analyst"))
        incident = (await api.open_incident(lat=LAT, lon=LON + 0.001, incident_type="burglary"))[
            "incident_id"
        ]

        async def both_listed() -> bool:
            cams = {c["camera_id"] for c in await api.cameras_in_incident(incident)}
            return {"camera.front", "camera.back"} <= cams

        await poll(hass, both_listed, "cameras synced")
        await api.request_access(incident, [(iid, "camera.front"), (iid, "camera.back")], "live")

        async def back_approved_front_pending() -> bool:
            return await api.outcomes(incident) == {
                "camera.back": "approved",
                "camera.front": "pending",
            }

        await poll(hass, back_approved_front_pending, "auto camera approved, other pending")
        assert len(manager.pending) == 1
        request_id = next(iter(manager.pending))

        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": request_id}, blocking=True
        )

        async def both_approved() -> bool:
            return set((await api.outcomes(incident)).values()) == {"approved"}

        await poll(hass, both_approved, "both cameras approved")
        back = await api.wait_for_grant(incident, "camera.back", scope="live")
        front = await api.wait_for_grant(incident, "camera.front", scope="live")
        assert back["grant_id"] != front["grant_id"]
        await until(lambda: audit_actions(entry).count("grant_accepted") == 2, "two grants")
        # Both tokens open a session: the integration's approval covers both cameras.
        for grant, cam in ((back, "camera.back"), (front, "camera.front")):
            session = await api.open_session(grant["grant_id"], cam, fps=5)
            frames = await api.read_mjpeg(session["session_id"], count=1)
            assert frames and frames[0].startswith(b"\xff\xd8")
            await api.close_session(session["session_id"])
        assert (await hub.verify_audit()).ok
        assert await hass.config_entries.async_unload(entry.entry_id)
