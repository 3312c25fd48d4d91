"""Hub-side revocation, the per-camera sharing switch, unanswered requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.connect_share import hub_client
from custom_components.connect_share import requests as requests_module
from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.protocol import verify_token
from custom_components.connect_share.protocol.messages import Revoke, SessionOpen, new_session_id

from .conftest import camera_options, enroll, set_cameras, until
from .fake_hub import FakeHub
from .helpers import audit_actions, entity_id

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras", "config_dir")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


async def _setup(hass: HomeAssistant, hub: FakeHub):
    entry = await enroll(hass, hub.url, hub.new_code())
    await set_cameras(
        hass, entry, {"camera.front": camera_options(), "camera.back": camera_options()}
    )
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    return entry


async def test_hub_revoke_ends_the_session(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    entry = await _setup(hass, fake_hub)
    incident = fake_hub.incident()
    request = fake_hub.request(incident, ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    token = fake_hub.token(incident, ["camera.front"])
    jti = verify_token(
        token, fake_hub.keyset, installation_id=entry.data["installation_id"]
    ).claims.token_id
    sid = new_session_id()
    await fake_hub.send(
        SessionOpen(session_id=sid, token=token, camera_id="camera.front", scope="live", fps=10)
    )
    await fake_hub.wait_frames(1)
    await fake_hub.send(Revoke(reason="officer_done", token_ids=[jti]))
    closed = await fake_hub.wait_for("session_close", lambda m: m.session_id == sid)
    assert closed.reason == "ended"
    assert closed.frames_sent == len(fake_hub.binary_frames)
    assert jti in entry.runtime_data.state.revoked_token_ids
    # The same token cannot open another session.
    start = len(fake_hub.received)
    await fake_hub.send(
        SessionOpen(
            session_id=new_session_id(), token=token, camera_id="camera.front", scope="live"
        )
    )
    refused = await fake_hub.wait_for("session_close", start=start)
    assert refused.reason == "unavailable"
    assert entry.runtime_data.audit.entries[-1].detail["reason"] == "revoked"
    revoked = [e for e in entry.runtime_data.audit.entries if e.action == "revoked"]
    assert revoked[-1].detail["source"] == "hub" and revoked[-1].detail["sessions_stopped"] == [sid]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_sharing_switch_unshares_one_camera(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    entry = await _setup(hass, fake_hub)
    iid = entry.data["installation_id"]
    switch = entity_id(hass, "switch", f"{iid}_camera.back_sharing")
    assert hass.states.get(switch).state == "on"
    start = len(fake_hub.received)
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    # (A sync from the setup's reconnect may still arrive first: wait for the one that counts.)
    sync = await fake_hub.wait_for(
        "camera_sync",
        lambda m: {c.camera_id: c.mode for c in m.cameras}.get("camera.back") == "off",
        start=start,
    )
    modes = {c.camera_id: c.mode for c in sync.cameras}
    assert modes == {"camera.front": "on_request", "camera.back": "off"}
    assert hass.states.get(switch).state == "off"
    start = len(fake_hub.received)
    request = fake_hub.request(fake_hub.incident(), ["camera.back"])
    await fake_hub.send(request)
    await until(
        lambda: any(
            e.action == "request_received" and e.detail["request_id"] == request.request_id
            for e in entry.runtime_data.audit.entries
        ),
        "request logged",
    )
    assert not [m for m in fake_hub.received[start:] if m.TYPE == "decision"]
    received = [e for e in entry.runtime_data.audit.entries if e.action == "request_received"]
    assert received[-1].detail["verdicts"] == {"camera.back": "refused:sharing_disabled"}
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_unanswered_request_expires_as_no_footage(
    hass: HomeAssistant, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch, config_dir: Path
) -> None:
    monkeypatch.setattr(requests_module, "REQUEST_TTL_S", 0.05)
    entry = await _setup(hass, fake_hub)
    iid = entry.data["installation_id"]
    events = entity_id(hass, "event", f"{iid}_requests")
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: not entry.runtime_data.pending, "expired")
    # The hub hears nothing: the request lapses there as "no footage", exactly as a decline.
    assert not [m for m in fake_hub.received if m.TYPE == "decision"]
    await until(lambda: hass.states.get(events).attributes.get("event_type") == "expired", "event")
    assert audit_actions(entry)[-1] == "request_declined"
    assert entry.runtime_data.audit.entries[-1].detail["reason"] == "expired"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_pause_with_nothing_running_tells_the_hub_nothing(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    """Pausing while someone is home must not reveal occupancy to the hub."""
    entry = await _setup(hass, fake_hub)
    first_sync = await fake_hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    before = {c.camera_id: c.mode for c in first_sync.cameras}
    start = len(fake_hub.received)
    await hass.services.async_call(DOMAIN, "pause_sharing", {}, blocking=True)
    assert entry.runtime_data.is_paused()
    # A request after the pause: its answer travels the same ordered socket, so a revoke
    # sent by the pause would have arrived before it.
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.requests.known, "handled")
    # Nothing about the pause or the refused request reaches the hub. (A heartbeat, or the
    # camera list and audit fetch of a reconnect, may pass: the list is the same as before
    # the pause, every camera still in its mode.)
    after = [m for m in fake_hub.received[start:] if m.TYPE not in ("ping", "pong", "audit_fetch")]
    assert all(m.TYPE == "camera_sync" for m in after), after
    for sync in after:
        assert {c.camera_id: c.mode for c in sync.cameras} == before
    assert not any(getattr(m, "request_id", None) == request.request_id for m in after)
    assert "pause" in audit_actions(entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
