"""The panel's websocket commands on a real Home Assistant test instance (hass_ws_client)
against the protocol-level fake hub: every command's auth, bad input refused with nothing
changed, and the resident's actions (approve, stop, pause, history, camera settings, masked
preview) doing what the services do."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from PIL import Image

from custom_components.connect_share import hub_client
from custom_components.connect_share.protocol.messages import SessionOpen, new_session_id

from .conftest import camera_options, enroll, set_cameras, until
from .fake_hub import FakeHub
from .helpers import audit_actions

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")

# Commands that change sharing (or show camera pictures): admins only.
ADMIN_COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("session/stop", {"session_id": "s"}),
    ("stop_all", {}),
    ("revoke", {"incident_id": "i"}),
    ("pause", {"duration_s": 3600}),
    ("resume", {}),
    ("request/approve", {"request_id": "r"}),
    ("request/decline", {"request_id": "r"}),
    ("footage/events", {"request_id": "r"}),
    ("footage/preview", {"request_id": "r", "event_id": "e"}),
    ("footage/share", {"request_id": "r", "camera": "camera.front", "event_ids": ["e"]}),
    ("camera/save", {"camera": "camera.front", "settings": {"mode": "auto"}}),
    ("camera/sharing", {"camera": "camera.front", "enabled": False}),
    ("camera/snapshot", {"camera": "camera.front", "raw": True}),
]
READ_COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("overview", {}),
    ("requests", {}),
    ("history", {}),
    ("history/csv", {}),
    ("cameras", {}),
]
SQUARE = [[[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]]  # one polygon


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


async def _setup(hass: HomeAssistant, hub: FakeHub):
    entry = await enroll(hass, hub.url, hub.new_code())
    await set_cameras(
        hass,
        entry,
        {"camera.front": camera_options("on_request"), "camera.back": camera_options("auto")},
    )
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    await hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    return entry


class Ws:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def call(self, command: str, **data: Any) -> dict[str, Any]:
        await self.client.send_json_auto_id({"type": f"connect_share/{command}", **data})
        return await self.client.receive_json()

    async def ok(self, command: str, **data: Any) -> Any:
        msg = await self.call(command, **data)
        assert msg["success"], msg
        return msg["result"]

    async def error(self, command: str, **data: Any) -> dict[str, Any]:
        msg = await self.call(command, **data)
        assert not msg["success"], msg
        return msg["error"]


def _snapshot_state(entry) -> tuple[Any, ...]:
    inst = entry.runtime_data
    return (
        dict(entry.options),
        sorted(inst.pending),
        inst.state.paused_until,
        sorted(inst.state.sharing_disabled),
        sorted(inst.state.revoked_token_ids),
        inst.state.revoked_before,
        len(inst.audit.entries),
    )


async def _request(hass: HomeAssistant, hub: FakeHub, entry, cameras=("camera.front",), **kw):
    incident = hub.incident(**kw)
    request = hub.request(incident, list(cameras))
    await hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending request")
    return incident, request


async def test_non_admin_is_refused_every_change_and_nothing_changes(
    hass: HomeAssistant,
    fake_hub: FakeHub,
    config_dir: Path,
    hass_ws_client,
    hass_read_only_access_token,
) -> None:
    entry = await _setup(hass, fake_hub)
    _incident, request = await _request(hass, fake_hub, entry)
    user = Ws(await hass_ws_client(hass, hass_read_only_access_token))
    before = _snapshot_state(entry)
    for command, data in ADMIN_COMMANDS:
        if "request_id" in data:
            data = {**data, "request_id": request.request_id}
        error = await user.error(command, **data)
        assert error["code"] == "unauthorized", (command, error)
    assert _snapshot_state(entry) == before
    # Reading is open (the card sits on any resident's dashboard).
    for command, data in READ_COMMANDS:
        await user.ok(command, **data)
    overview = await user.ok("overview")
    assert overview["entries"][0]["pending"][0]["request_id"] == request.request_id


async def test_approve_per_camera_stale_and_unknown(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client
) -> None:
    entry = await _setup(hass, fake_hub)
    await set_cameras(
        hass,
        entry,
        {"camera.front": camera_options("on_request"), "camera.back": camera_options("on_request")},
    )
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    incident, request = await _request(
        hass, fake_hub, entry, ("camera.front", "camera.back"), reason="break-in at no. 4"
    )
    ws = Ws(await hass_ws_client(hass))
    listed = await ws.ok("requests")
    row = listed["pending"][0]
    # What the officer gave is all there.
    assert row["officer"] == incident.officer_name and row["badge"] == incident.badge
    assert row["incident_type"] == "burglary" and row["reason"] == "break-in at no. 4"
    assert row["case_number"] == incident.case_number
    assert row["area"]["radius_m"] == incident.radius_m
    assert sorted(row["cameras"]) == ["camera.back", "camera.front"]

    before = _snapshot_state(entry)
    error = await ws.error("request/approve", request_id=request.request_id, cameras=["camera.x"])
    assert error["code"] == "not_found" and "camera.x" in error["message"]
    error = await ws.error("request/approve", request_id=request.request_id, cameras=[])
    assert error["code"] == "invalid_format"
    error = await ws.error("request/approve", request_id="req-unknown")
    assert error["code"] == "not_found" and "req-unknown" in error["message"]
    error = await ws.error("request/approve", request_id=request.request_id, cameras="nope")
    assert error["code"] == "invalid_format"
    assert _snapshot_state(entry) == before
    assert not [m for m in fake_hub.received if m.TYPE == "decision"]

    # Approve one camera: the hub hears only that one, not final (the other is declined here).
    result = await ws.ok("request/approve", request_id=request.request_id, cameras=["camera.front"])
    assert result == {"approved_cameras": ["camera.front"]}
    decision = await fake_hub.wait_for("decision")
    assert decision.approved_camera_ids == ["camera.front"] and not decision.final

    # The same request again is stale: a clear error, nothing sent, nothing logged.
    before = _snapshot_state(entry)
    for command in ("request/approve", "request/decline"):
        error = await ws.error(command, request_id=request.request_id)
        assert error["code"] == "not_found" and "already answered" in error["message"]
    assert _snapshot_state(entry) == before
    assert len([m for m in fake_hub.received if m.TYPE == "decision"]) == 1

    # A decline sends nothing to the hub and is in the local log.
    _i2, request2 = await _request(hass, fake_hub, entry)
    await ws.ok("request/decline", request_id=request2.request_id)
    assert request2.request_id not in entry.runtime_data.pending
    assert audit_actions(entry)[-1] == "request_declined"
    assert len([m for m in fake_hub.received if m.TYPE == "decision"]) == 1


async def test_now_stop_one_and_history(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client
) -> None:
    entry = await _setup(hass, fake_hub)
    incident, request = await _request(hass, fake_hub, entry, officer_name="=HYPERLINK(1)")
    ws = Ws(await hass_ws_client(hass))
    await ws.ok("request/approve", request_id=request.request_id)
    await fake_hub.wait_for("decision")
    token = fake_hub.token(incident, ["camera.front"])
    await fake_hub.send(fake_hub.grant(request, token))
    await until(lambda: "grant_accepted" in audit_actions(entry), "grant accepted")
    session_id = new_session_id()
    await fake_hub.send(
        SessionOpen(session_id=session_id, token=token, camera_id="camera.front", scope="live")
    )
    await fake_hub.wait_for("session_started")

    sub = Ws(await hass_ws_client(hass))
    await sub.client.send_json_auto_id({"type": "connect_share/subscribe"})
    assert (await sub.client.receive_json())["success"]
    first = await sub.client.receive_json()
    assert first["event"]["entries"][0]["sessions"][0]["session_id"] == session_id

    now = (await ws.ok("overview"))["entries"][0]
    (row,) = now["sessions"]
    assert row["session_id"] == session_id and row["camera"] == "camera.front"
    assert row["badge"] == incident.badge and row["case_number"] == incident.case_number
    assert row["incident_id"] == incident.incident_id
    assert row["since"] and row["until_iso"] and row["camera_name"] == "Front"

    # Unknown session: clear error, nothing revoked.
    before = _snapshot_state(entry)
    error = await ws.error("session/stop", session_id="nope")
    assert error["code"] == "not_found"
    assert _snapshot_state(entry) == before

    result = await ws.ok("session/stop", session_id=session_id)
    closed = await fake_hub.wait_for("session_close")
    assert closed.session_id == session_id
    assert session_id not in entry.runtime_data.sessions
    # Its token is revoked: the officer cannot reopen with it.
    assert result["revoked_token"] in entry.runtime_data.state.revoked_token_ids
    start = len(fake_hub.received)
    await fake_hub.send(
        SessionOpen(
            session_id=new_session_id(), token=token, camera_id="camera.front", scope="live"
        )
    )
    refused = await fake_hub.wait_for("session_close", start=start)
    assert refused.reason == "unavailable"
    # The subscription saw the session go.
    while True:
        event = (await sub.client.receive_json())["event"]
        if not event["entries"][0]["sessions"]:
            break

    # History: the session's start and end, both naming the officer (the end is joined).
    history = await ws.ok("history", officer=incident.badge)
    actions = [r["action"] for r in history["rows"]]
    assert "session_started" in actions and "session_closed" in actions
    assert all(r["badge"] == incident.badge for r in history["rows"])
    assert history["chain"]["ok"] and history["chain"]["entries"] == len(
        entry.runtime_data.audit.entries
    )
    assert history["crosscheck"]["status"] in ("not_run", "ok", "mismatch")
    by_incident = await ws.ok("history", incident=incident.case_number)
    assert by_incident["total"] == history["total"]
    assert (await ws.ok("history", camera="camera.back"))["total"] == 0
    assert (await ws.ok("history", officer="nobody"))["total"] == 0
    # Paged, newest first.
    page0 = await ws.ok("history", page=0, page_size=2)
    page1 = await ws.ok("history", page=1, page_size=2)
    assert len(page0["rows"]) == 2 and page0["rows"][0]["seq"] > page1["rows"][0]["seq"]
    tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    assert (await ws.ok("history", date_from=tomorrow))["total"] == 0
    error = await ws.error("history", date_from="last tuesday")
    assert error["code"] == "invalid_format"
    error = await ws.error("history", page_size=100000)
    assert error["code"] == "invalid_format"
    # CSV: same rows, officer text cannot become a spreadsheet formula.
    exported = await ws.ok("history/csv", incident=incident.incident_id)
    rows = list(csv.DictReader(io.StringIO(exported["csv"])))
    assert len(rows) == by_incident["total"]
    assert {r["officer"] for r in rows if r["officer"]} == {"'=HYPERLINK(1)"}


async def test_pause_resume_and_stop_all(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client
) -> None:
    entry = await _setup(hass, fake_hub)
    ws = Ws(await hass_ws_client(hass))
    before = _snapshot_state(entry)
    error = await ws.error("pause", until=time.time() - 10)
    assert error["code"] == "invalid_format"
    error = await ws.error("pause", duration_s=-5)
    assert error["code"] == "invalid_format"
    error = await ws.error("pause", duration_s=10, until=time.time() + 100)
    assert error["code"] == "invalid_format"
    error = await ws.error("pause", entry_id="not-an-entry")
    assert error["code"] == "not_found"
    assert _snapshot_state(entry) == before

    await ws.ok("pause", duration_s=3600)
    inst = entry.runtime_data
    assert inst.is_paused() and 3500 < inst.paused_until() - time.time() <= 3600
    tomorrow = time.time() + 20 * 3600
    await ws.ok("pause", until=tomorrow)
    assert inst.paused_until() == pytest.approx(tomorrow)
    await ws.ok("resume")
    assert not inst.is_paused()
    await ws.ok("pause")
    assert inst.is_paused() and inst.paused_until() is None
    assert (await ws.ok("overview"))["entries"][0]["paused_forever"]
    await ws.ok("resume")
    await ws.ok("stop_all")
    assert audit_actions(entry)[-1] == "revoked"
    error = await ws.error("revoke")
    assert error["code"] == "invalid_format"


def _pixel(image_b64: str, x: int, y: int) -> tuple[int, int, int]:
    img = Image.open(io.BytesIO(base64.b64decode(image_b64))).convert("RGB")
    return img.getpixel((x, y))  # type: ignore[return-value]


async def test_camera_settings_masks_and_preview(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client
) -> None:
    entry = await _setup(hass, fake_hub)
    ws = Ws(await hass_ws_client(hass))
    cams = await ws.ok("cameras")
    front = next(c for c in cams["cameras"] if c["camera"] == "camera.front")
    assert front["settings"]["mode"] == "on_request" and front["settings"]["masks"] == []
    assert "auto" in cams["modes"]

    before = _snapshot_state(entry)
    bad = [
        ({"camera": "camera.nope", "settings": {"mode": "auto"}}, "not_found", "camera.nope"),
        # A polygon that crosses itself: the one mask parser's message.
        (
            {"camera": "camera.front", "settings": {"masks": [[[0, 0], [1, 1], [1, 0], [0, 1]]]}},
            "invalid_format",
            "crosses itself",
        ),
        (
            {"camera": "camera.front", "settings": {"masks": [[[0.1, 0.1], [2, 0.1], [0.5, 0.5]]]}},
            "invalid_format",
            "between 0 and 1",
        ),
        ({"camera": "camera.front", "settings": {"masks": "[[["}}, "invalid_format", "JSON"),
        ({"camera": "camera.front", "settings": {"mode": "always"}}, "invalid_format", "mode"),
        ({"camera": "camera.front", "settings": {"schedule": "25:00-26:00"}}, "invalid_format", ""),
        ({"camera": "camera.front", "settings": {"token": "x"}}, "invalid_format", "token"),
        ({"camera": "camera.front", "settings": {"lat": 52.0}}, "invalid_format", "lat"),
    ]
    for data, code, text in bad:
        error = await ws.error("camera/save", **data)
        assert error["code"] == code and text in error["message"], (data, error)
        assert _snapshot_state(entry) == before
    error = await ws.error("camera/snapshot", camera="camera.front", masks=[[[0, 0], [1, 1]]])
    assert error["code"] == "invalid_format" and "at least 3" in error["message"]
    error = await ws.error("camera/snapshot", camera="camera.nope")
    assert error["code"] == "not_found"

    # The draft preview: masked region filled, the rest is the camera's picture.
    raw = await ws.ok("camera/snapshot", camera="camera.front", raw=True)
    draft = await ws.ok("camera/snapshot", camera="camera.front", masks=SQUARE)
    assert draft["masked"] and not raw["masked"]
    assert _pixel(raw["image"], 32, 24)[0] > 150
    assert max(_pixel(draft["image"], 32, 24)) < 60
    assert _pixel(draft["image"], 2, 2)[0] > 150

    # Save: the same options the options flow writes, then the entry reloads.
    result = await ws.ok(
        "camera/save",
        camera="camera.front",
        settings={"masks": SQUARE, "mode": "auto", "auto_incident_types": ["fire"]},
    )
    assert set(result["changed"]) >= {"masks", "mode", "auto_incident_types"}
    await hass.async_block_till_done()
    stored = entry.options["cameras"]["camera.front"]
    assert json.loads(stored["masks"]) == SQUARE and stored["mode"] == "auto"
    assert stored["name"] == "Front" and stored["auto_incident_types"] == ["fire"]
    inst = entry.runtime_data
    assert inst.cameras["camera.front"].mode == "auto" and inst.cameras["camera.front"].masks
    # The saved masks are what an officer's snapshot gets now.
    saved = await ws.ok("camera/snapshot", camera="camera.front")
    assert saved["masked"] and max(_pixel(saved["image"], 32, 24)) < 60
    assert "camera_settings" in audit_actions(entry)
    # Clearing masks and the location works too.
    await ws.ok("camera/save", camera="camera.front", settings={"masks": []})
    await hass.async_block_till_done()
    assert entry.options["cameras"]["camera.front"]["masks"] == ""

    # The per-camera switch.
    await ws.ok("camera/sharing", camera="camera.back", enabled=False)
    assert "camera.back" in entry.runtime_data.state.sharing_disabled
    error = await ws.error("camera/sharing", camera="camera.nope", enabled=False)
    assert error["code"] == "not_found"


async def test_footage_commands_refuse_bad_input(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client
) -> None:
    entry = await _setup(hass, fake_hub)
    ws = Ws(await hass_ws_client(hass))
    _incident, live_request = await _request(hass, fake_hub, entry)
    before = _snapshot_state(entry)
    error = await ws.error("footage/events", request_id="req-unknown")
    assert error["code"] == "not_found"
    error = await ws.error("footage/events", request_id=live_request.request_id)
    assert error["code"] == "invalid_format" and "not a footage request" in error["message"]
    error = await ws.error(
        "footage/share", request_id=live_request.request_id, camera="camera.nope", event_ids=["e"]
    )
    assert error["code"] == "not_found"
    error = await ws.error(
        "footage/share", request_id=live_request.request_id, camera="camera.front", event_ids=[]
    )
    assert error["code"] == "invalid_format"
    error = await ws.error(
        "footage/share", request_id=live_request.request_id, camera="camera.front", event_ids=["e"]
    )
    assert error["code"] == "not_allowed"
    assert _snapshot_state(entry) == before


async def test_notifications_link_to_the_panel_one_per_live_view(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    from homeassistant.components import persistent_notification
    from homeassistant.core import ServiceCall
    from homeassistant.setup import async_setup_component

    sent: list[ServiceCall] = []

    async def phone(call: ServiceCall) -> None:
        sent.append(call)

    hass.services.async_register("notify", "phone", phone)
    assert await async_setup_component(hass, "persistent_notification", {})
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await set_cameras(hass, entry, {"camera.front": camera_options()}, notify_target="notify.phone")
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    incident, request = await _request(hass, fake_hub, entry)
    await until(lambda: sent, "push")
    link = f"/connect-share?request={request.request_id}"
    assert sent[0].data["data"]["url"] == link and sent[0].data["data"]["clickAction"] == link
    assert len(sent[0].data["data"]["actions"]) == 2  # Approve / Decline still there
    notes = persistent_notification._async_get_or_create_notifications(hass)
    assert f"({link})" in notes[f"connect_share_request_{request.request_id}"]["message"]

    # Approve through the companion-app action, then one live view: start and end are one
    # notification (same id in HA, same tag on the phone).
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": sent[0].data["data"]["actions"][0]["action"]}
    )
    await fake_hub.wait_for("decision")
    token = fake_hub.token(incident, ["camera.front"])
    await fake_hub.send(fake_hub.grant(request, token))
    await until(lambda: "grant_accepted" in audit_actions(entry), "grant accepted")
    session_id = new_session_id()
    await fake_hub.send(
        SessionOpen(session_id=session_id, token=token, camera_id="camera.front", scope="live")
    )
    await fake_hub.wait_for("session_started")
    await entry.runtime_data.async_revoke_all()
    await until(lambda: session_id not in entry.runtime_data.sessions, "session ended")
    await hass.async_block_till_done()
    session_pushes = [c for c in sent if "session" in c.data.get("data", {}).get("tag", "")]
    assert [c.data["title"] for c in session_pushes] == [
        "Connect Share: live view started",
        "Connect Share: live view ended",
    ]
    assert {c.data["data"]["tag"] for c in session_pushes} == {
        f"connect_share_session_{session_id}"
    }
    notes = persistent_notification._async_get_or_create_notifications(hass)
    session_notes = [n for n in notes if n.startswith("connect_share_session_")]
    assert session_notes == [f"connect_share_session_{session_id}"]
    assert notes[session_notes[0]]["title"] == "Connect Share: live view ended"
