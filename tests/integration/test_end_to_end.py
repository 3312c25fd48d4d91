"""The resident's side end to end against the fake hub: request, approval, token, session,
pause by blueprint, revocation, audit cross-check, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.connect_share import hub_client
from custom_components.connect_share.audit_log import AuditLog
from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.protocol import generate_private_key
from custom_components.connect_share.protocol.messages import (
    SessionOpen,
    SessionViewers,
    new_session_id,
    unpack_frame,
)
from custom_components.connect_share.protocol.purpose import Purpose

from .conftest import camera_options, enroll, set_cameras, until
from .fake_hub import FakeHub
from .helpers import (
    audit_actions,
    entity_id,
    install_blueprints,
    setup_automations,
    use_blueprint,
)

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")
PURPOSE = Purpose(
    agency_name="Amsterdam Police", agency_id="NL0000001", offense_code="220", legal_basis="exigent"
)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


async def _setup(hass: HomeAssistant, hub: FakeHub):
    entry = await enroll(hass, hub.url, hub.new_code())
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
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    await hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    return entry


async def test_request_approve_session_pause_revoke_audit(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    install_blueprints(config_dir)
    entry = await _setup(hass, fake_hub)
    iid = entry.data["installation_id"]
    pause = entity_id(hass, "switch", f"{iid}_pause")
    revoke = entity_id(hass, "button", f"{iid}_revoke_all")
    pending = entity_id(hass, "sensor", f"{iid}_pending_requests")
    events = entity_id(hass, "event", f"{iid}_requests")
    viewed = entity_id(hass, "binary_sensor", f"{iid}_camera.front_being_viewed")
    last = entity_id(hass, "sensor", f"{iid}_last_access")
    hass.states.async_set("zone.home", "0")
    assert await async_setup_component(hass, "persistent_notification", {})
    await setup_automations(
        hass,
        use_blueprint(
            "pause_while_home", zone_entity="zone.home", pause_switch=pause, revoke_button=revoke
        ),
        use_blueprint("notify_on_access"),
    )
    bus_requests = []
    hass.bus.async_listen("connect_share_request", bus_requests.append)

    # 1. An incident fans out: a live request for the front camera.
    incident = fake_hub.incident(purpose=PURPOSE)
    request = fake_hub.request(incident, ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: hass.states.get(pending).state == "1", "pending request")
    assert hass.states.get(events).attributes["event_type"] == "received"
    assert hass.states.get(events).attributes["request_id"] == request.request_id
    await hass.async_block_till_done()
    assert bus_requests[0].data["request_id"] == request.request_id
    assert bus_requests[0].data["agency_id"] == "NL0000001"
    assert bus_requests[0].data["reason"] == "suspect seen"
    notes = persistent_notification._async_get_or_create_notifications(hass)
    assert f"connect_share_request_{request.request_id}" in notes

    # 2. The resident approves through the service.
    response = await hass.services.async_call(
        DOMAIN,
        "approve_request",
        {"request_id": request.request_id},
        blocking=True,
        return_response=True,
    )
    assert response == {"approved_cameras": ["camera.front"]}
    decision = await fake_hub.wait_for("decision")
    assert decision.approved_camera_ids == ["camera.front"]
    assert hass.states.get(pending).state == "0"

    # 3. The hub issues a token; the integration verifies and accepts it.
    token = fake_hub.token(incident, ["camera.front"])
    await fake_hub.send(fake_hub.grant(request, token))
    await until(lambda: "grant_accepted" in audit_actions(entry), "grant accepted")
    assert token not in entry.runtime_data.audit.path.read_text()

    # 4. A live session: frames flow, sensors show who is watching.
    session_id = new_session_id()
    await fake_hub.send(
        SessionOpen(
            session_id=session_id, token=token, camera_id="camera.front", scope="live", fps=5
        )
    )
    started = await fake_hub.wait_for("session_started")
    assert started.session_id == session_id and started.fps == 5
    await fake_hub.wait_frames(2)
    header, payload = unpack_frame(fake_hub.binary_frames[0])
    assert header.session_id == session_id and payload.startswith(b"\xff\xd8")
    # "Being viewed" means an officer's player receives the frames, as the hub reports.
    assert hass.states.get(viewed).state == "off"
    await fake_hub.send(SessionViewers(session_id=session_id, viewers=1))
    await until(lambda: hass.states.get(viewed).state == "on", "being viewed")
    assert hass.states.get(last).attributes["officer"] == "Officer Test"
    assert hass.states.get(last).attributes["badge"] == "1234"

    # 5. Someone comes home: the blueprint pauses and revokes; the session ends at once.
    hass.states.async_set("zone.home", "1")
    await hass.async_block_till_done()
    assert hass.states.get(pause).state == "on"
    closed = await fake_hub.wait_for("session_close")
    assert closed.reason == "ended"  # neutral: the resident's own log says "paused"
    # No frame left after the close: the count the hub got is the count we report.
    assert closed.frames_sent == len(fake_hub.binary_frames)
    revoke_msg = await fake_hub.wait_for("revoke", lambda m: m.all)
    assert revoke_msg.reason == "revoked_by_resident"  # never "paused": no occupancy leak
    await until(lambda: hass.states.get(viewed).state == "off", "not viewed")

    # 6. The next request is refused by the local rules: the hub hears nothing at all (it
    # lapses there as "no footage", exactly like an unanswered one); our log has the reason.
    start = len(fake_hub.received)
    request2 = fake_hub.request(incident, ["camera.front"])
    await fake_hub.send(request2)
    await until(lambda: audit_actions(entry)[-1] == "request_received", "request logged")
    assert entry.runtime_data.audit.entries[-1].detail["verdicts"] == {
        "camera.front": "refused:paused"
    }
    assert request2.request_id not in entry.runtime_data.pending
    # And the old token no longer opens anything.
    start = len(fake_hub.received)
    await fake_hub.send(
        SessionOpen(
            session_id=new_session_id(), token=token, camera_id="camera.front", scope="live"
        )
    )
    refused = await fake_hub.wait_for("session_close", start=start)
    assert refused.reason == "unavailable"
    assert not [m for m in fake_hub.received[start:] if m.TYPE == "decision"]
    assert closed.frames_sent == len(fake_hub.binary_frames)

    # 7. Audit logs agree (the hub's copy names the same session).
    grant_token_id = next(
        e.detail["token_id"]
        for e in entry.runtime_data.audit.entries
        if e.action == "grant_accepted"
    )
    fake_hub.audit = [
        {
            "seq": 0,
            "ts": time.time(),
            "action": "token.issued",
            "detail": {"token_id": grant_token_id},
        },
        {
            "seq": 1,
            "ts": time.time(),
            "action": "session_started",
            "detail": {"session_id": session_id},
        },
        {
            "seq": 2,
            "ts": time.time(),
            "action": "session_closed",
            "detail": {"session_id": session_id},
        },
    ]
    manager = entry.runtime_data
    assert await manager.async_request_audit_check()
    await until(lambda: manager.audit_check.get("hub_entries") == 3, "audit check")
    assert manager.audit_check["status"] == "ok"
    # A hub that claims a session this house never served raises a repair issue.
    fake_hub.audit.append(
        {
            "seq": 3,
            "ts": time.time(),
            "action": "session_started",
            "detail": {"session_id": "ghost"},
        }
    )
    assert await manager.async_request_audit_check()
    await until(lambda: manager.audit_check.get("hub_entries") == 4, "audit check")
    assert manager.audit_check["status"] == "mismatch"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"audit_mismatch_{entry.entry_id}")

    # Logbook / notify blueprint saw each access.
    notes = persistent_notification._async_get_or_create_notifications(hass)
    [seen] = [n["message"] for n in notes.values() if "started watching" in n["message"]]
    assert seen.startswith("Officer Test (badge 1234, Amsterdam Police) started watching"), seen
    assert "Offense type: 220. Legal basis: exigent. Reason: suspect seen" in seen, seen

    # 8. The local log survives an unload and verifies on reload.
    actions = audit_actions(entry)
    for expected in (
        "request_received",
        "request_approved",
        "grant_accepted",
        "session_started",
        "pause",
        "revoked",
        "session_closed",
        "session_refused",
    ):
        assert expected in actions, expected
    assert await hass.config_entries.async_unload(entry.entry_id)
    log = AuditLog(manager.audit.path)
    assert log.load().ok and len(log.entries) == len(actions)


async def test_auto_approve_and_alarm_blueprint(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    install_blueprints(config_dir)
    entry = await _setup(hass, fake_hub)
    iid = entry.data["installation_id"]
    events = entity_id(hass, "event", f"{iid}_requests")
    # The back camera's rules approve burglaries within 300 m on their own.
    incident = fake_hub.incident()
    await fake_hub.send(fake_hub.request(incident, ["camera.back"]))
    decision = await fake_hub.wait_for("decision")
    assert decision.approved_camera_ids == ["camera.back"]
    await until(
        lambda: hass.states.get(events).attributes.get("event_type") == "auto_approved", "event"
    )

    # The alarm blueprint approves what needs asking while the alarm is triggered.
    hass.states.async_set("alarm_control_panel.house", "triggered")
    await setup_automations(
        hass, use_blueprint("auto_approve_alarm", alarm_panel="alarm_control_panel.house")
    )
    start = len(fake_hub.received)
    request = fake_hub.request(fake_hub.incident(incident_type="noise"), ["camera.front"])
    await fake_hub.send(request)
    d = await fake_hub.wait_for(
        "decision", lambda m: m.request_id == request.request_id, start=start
    )
    assert d.approved_camera_ids == ["camera.front"]
    # Not triggered: the request waits for the resident.
    hass.states.async_set("alarm_control_panel.house", "disarmed")
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "decline_request", {"request_id": request.request_id}, blocking=True
    )
    assert "request_declined" in audit_actions(entry)
    # A decline sends nothing: the hub cannot tell it from no answer.
    assert not [
        m for m in fake_hub.received if m.TYPE == "decision" and m.request_id == request.request_id
    ]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def _approved_token(hass, hub: FakeHub, entry):
    incident = hub.incident()
    request = hub.request(incident, ["camera.front"])
    await hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    return incident, request


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("forged", "bad_signature"),
        ("foreign", "wrong_audience"),
        ("expired", "expired"),
        ("other_camera", "camera_not_granted"),
        ("unapproved_incident", "not_approved"),
        ("garbage", "malformed"),
    ],
)
async def test_bad_tokens_are_refused_and_logged(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, variant: str, reason: str
) -> None:
    entry = await _setup(hass, fake_hub)
    incident, _request = await _approved_token(hass, fake_hub, entry)
    connections = fake_hub.connections
    camera = "camera.front"
    if variant == "forged":
        token = fake_hub.token(incident, [camera], key=generate_private_key())
    elif variant == "foreign":
        token = fake_hub.token(incident, [camera], installation_id="inst-someone-else")
    elif variant == "expired":
        token = fake_hub.token(incident, [camera], now=int(time.time()) - 3000, lifetime_s=600)
    elif variant == "other_camera":
        token = fake_hub.token(incident, ["camera.back"])
    elif variant == "unapproved_incident":
        token = fake_hub.token(fake_hub.incident(), [camera])
    else:
        token = "not.a.token"
    start = len(fake_hub.received)
    sid = new_session_id()
    await fake_hub.send(SessionOpen(session_id=sid, token=token, camera_id=camera, scope="live"))
    closed = await fake_hub.wait_for("session_close", start=start)
    # The hub hears one neutral reason; the resident's log keeps the real one.
    assert closed.session_id == sid and closed.reason == "unavailable"
    assert fake_hub.binary_frames == []
    refusal = entry.runtime_data.audit.entries[-1]
    assert refusal.action == "session_refused" and refusal.detail["reason"] == reason
    # The connection survived.
    assert fake_hub.connections == connections
    assert entry.runtime_data.connection.is_connected
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_malformed_messages_keep_the_socket(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    entry = await _setup(hass, fake_hub)
    connections = fake_hub.connections
    for raw in (
        "{",
        '{"v": 1, "type": "nope"}',
        '{"v": 1, "type": "access_request", "request_id": "r", "camera_ids": "x"}',
        '{"v": 2, "type": "ping", "ts": 1}',
        '{"v": 1, "type": "hello", "installation_id": "x", "client_version": "1"}',
    ):
        await fake_hub.send(raw)
    await fake_hub.wait_for("error", lambda m: m.code == "unexpected_message")
    codes = {e.code for e in fake_hub.errors_received}
    assert {"bad_json", "unknown_type", "missing_field", "bad_version"} <= codes
    # Still working: a real request is handled on the same socket.
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    assert fake_hub.connections == connections
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_hub_disappears_local_rules_and_log_keep_working(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    entry = await _setup(hass, fake_hub)
    manager = entry.runtime_data
    iid = entry.data["installation_id"]
    pause = entity_id(hass, "switch", f"{iid}_pause")
    await fake_hub.stop()
    await until(lambda: not manager.connection.is_connected, "disconnect")
    await until(
        lambda: ir.async_get(hass).async_get_issue(DOMAIN, f"hub_unreachable_{entry.entry_id}"),
        "hub unreachable repair",
    )
    await hass.services.async_call("switch", "turn_on", {"entity_id": pause}, blocking=True)
    assert hass.states.get(pause).state == "on"
    await hass.services.async_call(DOMAIN, "revoke_all", {}, blocking=True)
    assert audit_actions(entry)[-2:] == ["revoked", "revoked"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert AuditLog(manager.audit.path).load().ok


async def test_reload_restores_pause_and_diagnostics_redact(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    from custom_components.connect_share.diagnostics import async_get_config_entry_diagnostics

    entry = await _setup(hass, fake_hub)
    connections = fake_hub.connections
    incident, _request = await _approved_token(hass, fake_hub, entry)
    token = fake_hub.token(incident, ["camera.front"])
    await fake_hub.send(fake_hub.grant(_request, token))
    await until(lambda: "grant_accepted" in audit_actions(entry), "grant")
    await hass.services.async_call(
        DOMAIN, "pause_sharing", {"duration": {"hours": 1}}, blocking=True
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    manager = entry.runtime_data
    assert manager.is_paused()
    iid = entry.data["installation_id"]
    assert hass.states.get(entity_id(hass, "switch", f"{iid}_pause")).state == "on"
    await until(lambda: fake_hub.connections > connections, "a new socket after reload")

    diag = await async_get_config_entry_diagnostics(hass, entry)
    text = repr(diag)
    assert diag["entry"]["data"]["private_key"] == "**REDACTED**"
    assert entry.data["private_key"].splitlines()[1] not in text
    assert token not in text
    # Personal data stays home too: officers' names and badges, case numbers, the home's location.
    for secret in ("Officer Test", "1234", "2026-0001", "suspect seen", "52.3731"):
        assert secret not in text, secret
    assert diag["audit"]["verification_ok"] is True
    assert diag["paused"] is True

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not manager.connection.is_connected
    assert manager.connection._task is None


async def test_masks_applied_and_session_length_enforced(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    import io

    from PIL import Image

    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    # Left half masked; sessions last at most 1 s.
    await set_cameras(
        hass,
        entry,
        {
            "camera.front": camera_options(
                masks="[[[0,0],[0.5,0],[0.5,1],[0,1]]]", max_session_s=1, max_fps=10
            )
        },
    )
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    incident, request = await _approved_token(hass, fake_hub, entry)
    token = fake_hub.token(incident, ["camera.front"])
    sid = new_session_id()
    await fake_hub.send(
        SessionOpen(session_id=sid, token=token, camera_id="camera.front", scope="live", fps=10)
    )
    await fake_hub.wait_frames(1)
    _header, payload = unpack_frame(fake_hub.binary_frames[0])
    image = Image.open(io.BytesIO(payload)).convert("RGB")
    left, right = image.getpixel((8, 24)), image.getpixel((56, 24))
    assert max(left) < 30  # masked before it left the house
    assert right[0] > 150 and right[1] < 80  # the camera's red
    closed = await fake_hub.wait_for("session_close", lambda m: m.session_id == sid)
    assert closed.reason == "ended"  # the hub's word; our log says why
    assert closed.frames_sent == len(fake_hub.binary_frames)
    end = next(e for e in entry.runtime_data.audit.entries if e.action == "session_closed")
    assert end.detail["reason"] == "expired"
    assert await hass.config_entries.async_unload(entry.entry_id)
