"""End to end with the real hub (in-process on 127.0.0.1) and the HA test harness.

Enroll through the config flow, an incident fans out, the resident approves through the
service, the hub issues a token that the integration accepts, an officer watches, the pause
switch (driven by the blueprint) refuses the next request and revokes the running grant, and
the two audit logs agree.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN
from tests.hub_harness import running_hub

from .conftest import camera_options, enroll, set_cameras, until
from .helpers import (
    audit_actions,
    entity_id,
    install_blueprints,
    setup_automations,
    use_blueprint,
)

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")
LAT, LON = 52.3731, 4.8922


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


async def test_full_flow_with_real_hub(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    install_blueprints(config_dir)
    assert await async_setup_component(hass, "persistent_notification", {})
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub") as hub:
        entry = await enroll(hass, hub.url, await hub.new_enrollment_code())
        await set_cameras(
            hass,
            entry,
            {"camera.front": camera_options("on_request"), "camera.back": camera_options("off")},
        )
        manager = entry.runtime_data
        await until(lambda: manager.connection.is_connected, "connection")
        iid = entry.data["installation_id"]
        pause = entity_id(hass, "switch", f"{iid}_pause")
        revoke = entity_id(hass, "button", f"{iid}_revoke_all")
        pending = entity_id(hass, "sensor", f"{iid}_pending_requests")
        events = entity_id(hass, "event", f"{iid}_requests")
        viewed = entity_id(hass, "binary_sensor", f"{iid}_camera.front_being_viewed")
        hass.states.async_set("zone.home", "0")
        await setup_automations(
            hass,
            use_blueprint(
                "pause_while_home",
                zone_entity="zone.home",
                pause_switch=pause,
                revoke_button=revoke,
            ),
        )

        officer = await hub.create_user(role="analyst")
        api = hub.client(officer)
        incident = await api.open_incident(lat=LAT, lon=LON + 0.001, radius_m=300)
        iid_ = incident["incident_id"]

        # The incident fans out: the camera is found and asked for live view.
        async def camera_listed() -> bool:
            cams = await api.cameras_in_incident(iid_)
            return any(c["camera_id"] == "camera.front" for c in cams)

        for _ in range(200):
            if await camera_listed():
                break
            await hass.async_block_till_done()
        assert await camera_listed()
        await api.request_access(iid_, [(iid, "camera.front")], scope="live")
        await until(lambda: hass.states.get(pending).state == "1", "pending request")
        assert hass.states.get(events).attributes["event_type"] == "received"
        request_id = next(iter(manager.pending))

        # The resident approves; the hub issues a token; the integration accepts it.
        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": request_id}, blocking=True
        )
        grant = await api.wait_for_grant(iid_, "camera.front", scope="live")
        await until(lambda: "grant_accepted" in audit_actions(entry), "grant accepted")

        # An analyst watches: real frames from the HA camera come through the hub.
        session = await api.open_session(grant["grant_id"], "camera.front", fps=5)
        frames = await api.read_mjpeg(session["session_id"], count=2)
        assert len(frames) == 2 and all(f.startswith(b"\xff\xd8") for f in frames)
        await until(lambda: hass.states.get(viewed).state == "on", "being viewed")

        # Someone comes home: the blueprint pauses and revokes; the session ends.
        hass.states.async_set("zone.home", "1")
        await hass.async_block_till_done()
        assert hass.states.get(pause).state == "on"
        await until(lambda: not manager.sessions, "session stopped")

        async def hub_session_ended() -> bool:
            return (await api.session(session["session_id"]))["ended_at"] is not None

        for _ in range(200):
            if await hub_session_ended():
                break
            await hass.async_block_till_done()
        assert await hub_session_ended()

        # The next request is refused locally: the hub sees only "no footage".
        await api.request_access(iid_, [(iid, "camera.front")], scope="live")

        async def outcome() -> str:
            return (await api.outcomes(iid_)).get("camera.front", "")

        await until(lambda: audit_actions(entry).count("request_received") == 2, "second request")
        assert not manager.pending
        # Nothing was sent: the request lapses at its deadline, like an unanswered one.
        assert await outcome() != "no_footage"
        await hub.expire_requests(iid)
        for _ in range(300):  # the hub's sweep closes it within request_sweep_s
            if await outcome() == "no_footage":
                break
            await asyncio.sleep(0.05)
        assert await outcome() == "no_footage"
        status, _ = await api.call(
            "POST",
            "/api/v1/sessions",
            json={"grant_id": grant["grant_id"], "camera_id": "camera.front", "fps": 5},
        )
        assert status >= 400  # the grant was revoked

        # Both audit logs verify, and they agree with each other.
        assert (await hub.verify_audit()).ok
        before = manager.audit_check.get("checked")
        assert await manager.async_request_audit_check()
        await until(lambda: manager.audit_check.get("checked") != before, "cross-check")
        assert manager.audit_check["status"] == "ok", manager.audit_check
        assert manager.audit_check["hub_entries"] > 0
        assert manager.audit.verification.ok

        assert await hass.config_entries.async_unload(entry.entry_id)
