"""Companion-app actions, hub key rotation (repair fix flow), logbook descriptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.core import Event, HomeAssistant, ServiceCall
from homeassistant.helpers import issue_registry as ir

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.protocol.messages import SessionOpen, new_session_id
from custom_components.connect_share.repairs import async_create_fix_flow

from .conftest import camera_options, enroll, logbook_describer, set_cameras, until
from .fake_hub import FakeHub
from .helpers import audit_actions

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras", "config_dir")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


async def test_notification_actions_approve_and_decline(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    sent: list[ServiceCall] = []

    async def phone(call: ServiceCall) -> None:
        sent.append(call)

    hass.services.async_register("notify", "phone", phone)
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await set_cameras(hass, entry, {"camera.front": camera_options()}, notify_target="notify.phone")
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: sent, "notification")
    actions = sent[0].data["data"]["actions"]
    assert [a["title"] for a in actions] == ["Approve", "Decline"]
    assert "Officer Test" in sent[0].data["message"]
    hass.bus.async_fire("mobile_app_notification_action", {"action": actions[0]["action"]})
    decision = await fake_hub.wait_for("decision")
    assert decision.approved_camera_ids == ["camera.front"]

    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    start = len(fake_hub.received)
    await fake_hub.send(request)
    await until(lambda: len(sent) == 2, "second notification")
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": sent[1].data["data"]["actions"][1]["action"]}
    )
    await until(lambda: request.request_id not in entry.runtime_data.pending, "declined")
    assert not [m for m in fake_hub.received[start:] if m.TYPE == "decision"]
    # Unknown or foreign actions do nothing.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "CONNECT_SHARE_APPROVE_x"})
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_rotated_hub_key_needs_the_residents_pin(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await set_cameras(hass, entry, {"camera.front": camera_options()})
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    fake_hub.rotate()
    assert fake_hub.ws is not None
    connections = fake_hub.connections
    await fake_hub.ws.close()
    await until(lambda: fake_hub.connections > connections and fake_hub.ws is not None, "reconnect")
    issue_id = f"hub_keys_changed_{entry.entry_id}"
    await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id), "key repair")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    new_fp = fake_hub.keyset.fingerprints()[fake_hub.kid]
    assert issue.translation_placeholders["new"] == new_fp

    # Until the resident pins it, a token signed with the new key is refused.
    incident = fake_hub.incident()
    request = fake_hub.request(incident, ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    token = fake_hub.token(incident, ["camera.front"])
    start = len(fake_hub.received)
    await fake_hub.send(
        SessionOpen(
            session_id=new_session_id(), token=token, camera_id="camera.front", scope="live"
        )
    )
    closed = await fake_hub.wait_for("session_close", start=start)
    assert closed.reason == "unavailable"
    assert entry.runtime_data.audit.entries[-1].detail["reason"] == "unknown_key"

    flow = await async_create_fix_flow(hass, issue_id, issue.data)
    flow.hass = hass
    flow.issue_id = issue_id
    flow.flow_id = "test"
    flow.handler = DOMAIN
    result = await flow.async_step_init()
    assert result["description_placeholders"]["new"] == new_fp
    result = await flow.async_step_confirm({})
    assert result["type"] == "create_entry"
    assert new_fp in entry.data["fingerprints"]
    assert "keys_pinned" in audit_actions(entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    start = len(fake_hub.received)
    await fake_hub.send(
        SessionOpen(
            session_id=new_session_id(), token=token, camera_id="camera.front", scope="live"
        )
    )
    await fake_hub.wait_for("session_started", start=start)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_logbook_describes_access_and_requests_with_their_purpose(
    hass: HomeAssistant,
) -> None:
    why = {
        "agency_name": "Amsterdam Police",
        "agency_id": "NL0000001",
        "offense_code": "220",
        "offense_group": "property",
        "legal_basis": "exigent",
        "reason": "Burglary in progress reported by a neighbour",
    }
    access = logbook_describer(hass, "connect_share_access")
    start = access(
        Event(
            "connect_share_access",
            {
                "action": "session_started",
                "camera": "Front",
                "officer": "Det. Rivera",
                "badge": "4711",
                "case_number": "2026-1",
                "entity_id": "camera.front",
                **why,
            },
        )
    )
    assert start["entity_id"] == "camera.front"
    assert "started watching Front: Det. Rivera (badge 4711), case 2026-1" in start["message"]
    assert (
        "Agency: Amsterdam Police (NL0000001). Offense type: 220, property." in (start["message"])
    )
    assert "Legal basis: exigent. Reason: Burglary in progress" in start["message"]
    end = access(
        Event(
            "connect_share_access",
            {"action": "session_ended", "frames_sent": 7, "end_reason": "revoked"},
        )
    )
    assert "stopped watching" in end["message"] and "7 frames (revoked)" in end["message"]
    # An event recorded by an older version (no purpose, odd types) still reads.
    assert "Agency: agency not stated" in end["message"] and "Reason: -" in end["message"]
    odd = access(Event("connect_share_access", {"action": "session_ended", "agency_id": 7}))
    assert "agency not stated" in odd["message"]

    request = logbook_describer(hass, "connect_share_request")(
        Event(
            "connect_share_request",
            {
                "officer": "Det. Rivera",
                "badge": "4711",
                "case_number": "2026-1",
                "scope": "live",
                "cameras": ["camera.front", "camera.back"],
                **why,
            },
        )
    )
    assert request["message"].startswith(
        "request from Det. Rivera (badge 4711), case 2026-1, live of camera.front, camera.back."
    )
    assert "Offense type: 220, property. Legal basis: exigent." in request["message"]
