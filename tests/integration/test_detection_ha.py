"""On-device detection in a real Home Assistant: the real model, downloaded from a local
server and checked by sha256, on a real photo from a camera entity.

A person in front of the camera turns the person binary sensor on, fires
``connect_share_detection``, shows in the last-detection sensor and in the media browser
(served only to a logged-in user). A wrong sha256 raises a repair issue and the rest of the
integration keeps working.
"""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from homeassistant.components import media_source, persistent_notification
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from PIL import Image

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN
from tests.hub_harness import running_hub

from .conftest import camera_options, enroll, until, update_options
from .fake_hub import FakeHub
from .helpers import audit_actions, entity_id

pytestmark = pytest.mark.usefixtures("enable_custom_integrations")

MODEL_NAME = "coco_ssd_mobilenet_v1_1.0_quant.tflite"
MODEL_SHA256 = "e4b118e5e4531945de2e659742c7c590f7536f8d0ed26d135abcfe83b4779d13"
LAT, LON = 52.3731, 4.8922
LABELS_SHA256 = "dc183f003fc753c4c43fae6fdf7f387559449573f13fa32e517fb7453fd380f1"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


@pytest.fixture
async def model_server(socket_enabled: None, shared_dir: Path) -> AsyncIterator[str]:
    """The shared model and labels over HTTP on 127.0.0.1 (what a download URL serves)."""
    app = web.Application()
    app.router.add_static("/models", shared_dir / "models")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/models"
    await runner.cleanup()


def photo_jpeg(shared_dir: Path, name: str = "grace_hopper.bmp") -> bytes:
    with Image.open(shared_dir / "testdata" / "images" / name) as img:
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=90)
        return out.getvalue()


def detection_options(base_url: str, model_sha256: str = MODEL_SHA256) -> dict[str, Any]:
    return {
        "model_url": f"{base_url}/{MODEL_NAME}",
        "model_sha256": model_sha256,
        "model_path": "",
        "labels_url": f"{base_url}/coco_labels.txt",
        "labels_sha256": LABELS_SHA256,
        "labels_path": "",
        "retention_days": 14,
        "share_summaries": False,
    }


async def setup_detection(
    hass: HomeAssistant, hub: FakeHub, base_url: str, **detection: Any
) -> ConfigEntry:
    entry = await enroll(hass, hub.url, hub.new_code())
    options = {
        "notify_target": "",
        "cameras": {
            "camera.front": {
                **camera_options("on_request"),
                "name": "Front",
                "detection": True,
                "detection_fps": 5,
            },
            "camera.back": {**camera_options("on_request"), "name": "Back"},
        },
        "detection": {**detection_options(base_url), **detection},
    }
    await update_options(hass, entry, options)
    detection_manager = entry.runtime_data.detection
    assert detection_manager is not None
    await detection_manager.ready.wait()
    return entry


async def test_person_detected_entities_event_media(
    hass: HomeAssistant,
    config_dir: Path,
    cameras: dict,
    fake_hub: FakeHub,
    model_server: str,
    shared_dir: Path,
    hass_client: Any,
    hass_client_no_auth: Any,
) -> None:
    cameras["camera.front"].image = photo_jpeg(shared_dir)
    fired: list[Any] = []
    hass.bus.async_listen("connect_share_detection", fired.append)
    entry = await setup_detection(hass, fake_hub, model_server)
    detection = entry.runtime_data.detection
    assert detection.service is not None and detection.service.status.value == "ready"
    assert (config_dir / "connect_share" / MODEL_NAME).is_file()  # downloaded and checked
    iid = entry.data["installation_id"]
    person = entity_id(hass, "binary_sensor", f"{iid}_camera.front_person")
    vehicle = entity_id(hass, "binary_sensor", f"{iid}_camera.front_vehicle")
    last = entity_id(hass, "sensor", f"{iid}_camera.front_last_event")
    # Only cameras with detection on get detection entities.
    assert hass.states.get(person.replace("front", "back")) is None

    await until(lambda: hass.states.get(person).state == "on", "person detected")
    assert hass.states.get(vehicle).state == "off"
    await until(lambda: hass.states.get(last).state == "person", "last event sensor")
    attrs = hass.states.get(last).attributes
    assert attrs["camera_id"] == "camera.front" and attrs["best_score"] >= 0.6
    assert "person" in attrs["labels"] and attrs["ongoing"] is True
    await until(lambda: fired, "detection event on the bus")
    assert fired[0].data["kind"] == "start" and fired[0].data["best_label"] == "person"
    assert fired[0].data["entity_id"] == "camera.front"
    event_id = fired[0].data["event_id"]

    # The media browser lists camera -> day -> event -> snapshot.
    assert await async_setup_component(hass, "media_source", {})
    await hass.async_block_till_done()
    await until(
        lambda: detection.service.store.get("camera.front", event_id) is not None
        and detection.service.store.get("camera.front", event_id).snapshot is not None,
        "snapshot stored",
    )
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert [c.title for c in root.children] == ["Front"]
    cam = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    day = await media_source.async_browse_media(hass, cam.children[0].media_content_id)
    assert len(day.children) == 1 and "person" in day.children[0].title
    event = await media_source.async_browse_media(hass, day.children[0].media_content_id)
    assert [c.title for c in event.children] == ["Snapshot"]  # no clip recorded here
    resolved = await media_source.async_resolve_media(
        hass, event.children[0].media_content_id, None
    )
    assert resolved.mime_type == "image/jpeg"
    client = await hass_client()
    resp = await client.get(resolved.url)
    assert resp.status == 200
    body = await resp.read()
    assert body.startswith(b"\xff\xd8") and len(body) > 1000
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(resolved.url)).status == 401
    # Unknown event: nothing is served, and the path is never taken from the URL.
    bad = resolved.url.replace(event_id, "0000000000000-000000000000")
    assert (await client.get(bad)).status == 404

    # Unloading ends the running event (END on the bus) and stops the detector's thread.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert [e.data["kind"] for e in fired] == ["start", "end"]
    assert detection.service.detector is None


async def test_wrong_sha256_is_a_repair_and_the_rest_keeps_working(
    hass: HomeAssistant,
    config_dir: Path,
    cameras: dict,
    fake_hub: FakeHub,
    model_server: str,
) -> None:
    entry = await setup_detection(hass, fake_hub, model_server, model_sha256="0" * 64)
    assert entry.state is ConfigEntryState.LOADED
    detection = entry.runtime_data.detection
    assert detection.service is not None and detection.service.status.value == "model_error"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"detection_unavailable_{entry.entry_id}")
    assert issue is not None
    assert "sha256" in issue.translation_placeholders["reason"]
    assert not (config_dir / "connect_share" / MODEL_NAME).exists()  # nothing kept
    iid = entry.data["installation_id"]
    person = entity_id(hass, "binary_sensor", f"{iid}_camera.front_person")
    assert hass.states.get(person).state == "unavailable"
    # Sharing still works: the hub gets the camera list and a request is still handled.
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    await fake_hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    pending = entity_id(hass, "sensor", f"{iid}_pending_requests")
    await fake_hub.send(fake_hub.request(fake_hub.incident(), ["camera.front"]))
    await until(lambda: hass.states.get(pending).state == "1", "pending request")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_no_model_configured_says_why(
    hass: HomeAssistant, config_dir: Path, cameras: dict, fake_hub: FakeHub
) -> None:
    entry = await setup_detection(hass, fake_hub, "", model_url="", model_sha256="")
    assert entry.state is ConfigEntryState.LOADED
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"detection_unavailable_{entry.entry_id}")
    assert issue is not None
    assert "no detection model" in issue.translation_placeholders["reason"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_footage_request_shared_through_the_real_hub(
    hass: HomeAssistant,
    config_dir: Path,
    cameras: dict,
    model_server: str,
    shared_dir: Path,
    tmp_path: Path,
) -> None:
    """A footage request (scope clip) lists the local event; after approval the resident
    shares it with ``share_footage``: the hub stores it and the officer sees it; the hourly
    summary reaches the hub; without an approval nothing is shared."""
    cameras["camera.front"].image = photo_jpeg(shared_dir)
    assert await async_setup_component(hass, "persistent_notification", {})
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub") as hub:
        entry = await enroll(hass, hub.url, await hub.new_enrollment_code())
        options = {
            "notify_target": "",
            "cameras": {
                "camera.front": {
                    **camera_options("registered"),
                    "name": "Front",
                    "detection": True,
                    "detection_fps": 5,
                },
            },
            "detection": {**detection_options(model_server), "share_summaries": True},
        }
        await update_options(hass, entry, options)
        manager = entry.runtime_data
        detection = manager.detection
        await detection.ready.wait()
        await until(lambda: manager.connection.is_connected, "connection")
        store = detection.service.store
        await until(
            lambda: (latest := store.latest("camera.front")) is not None
            and latest.snapshot is not None,
            "event with snapshot",
        )
        event_id = store.latest("camera.front").event_id
        iid = entry.data["installation_id"]

        officer = await hub.create_user(role="officer")
        api = hub.client(officer)
        now = time.time()
        window = (now - 600, now + 600)
        incident = await api.open_incident(LAT, LON + 0.001, radius_m=300, window=window)
        inc_id = incident["incident_id"]
        for _ in range(200):
            if any(c["camera_id"] == "camera.front" for c in await api.cameras_in_incident(inc_id)):
                break
            await hass.async_block_till_done()
        await api.request_footage(inc_id, [(iid, "camera.front")], window)
        await until(lambda: manager.pending, "footage request pending")
        request_id = next(iter(manager.pending))
        # The notification lists the local event in the requested window.
        notes = persistent_notification._async_get_or_create_notifications(hass)
        assert event_id in notes[f"{DOMAIN}_request_{request_id}"]["message"]

        # Not approved yet: nothing leaves the house.
        with pytest.raises(HomeAssistantError, match="not_approved"):
            await hass.services.async_call(
                DOMAIN,
                "share_footage",
                {"request_id": request_id, "camera": "camera.front", "event_ids": [event_id]},
                blocking=True,
            )
        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": request_id}, blocking=True
        )
        await api.wait_for_grant(inc_id, "camera.front", scope="clip")
        response = await hass.services.async_call(
            DOMAIN,
            "share_footage",
            {"request_id": request_id, "camera": "camera.front", "event_ids": [event_id]},
            blocking=True,
            return_response=True,
        )
        records = response["evidence"]
        assert [r["content_type"] for r in records] == ["image/jpeg"]  # no clip recorded
        assert "person" in records[0]["labels"]  # Grace Hopper also wears a tie
        assert "footage_shared" in audit_actions(entry)
        listed = await api.expect(200, "GET", f"/api/v1/incidents/{inc_id}/evidence")
        assert records[0]["evidence_id"] in {e["evidence_id"] for e in listed["evidence"]}

        # The resident allowed summaries: counts (no pictures) reach the hub.
        answer = await detection.async_upload_summary()
        assert answer is not None and answer["rows"] >= 1
        found = await api.expect(
            200,
            "GET",
            f"/api/v1/incidents/{inc_id}/summaries?label=person"
            f"&start={int(now - 3600)}&end={int(now + 3600)}",
        )
        assert [c["camera_id"] for c in found["cameras"]] == ["camera.front"]

        # Revoking everything withdraws the approval: the next share is refused.
        await hass.services.async_call(DOMAIN, "revoke_all", {}, blocking=True)
        with pytest.raises(HomeAssistantError, match="not_approved"):
            await hass.services.async_call(
                DOMAIN,
                "share_footage",
                {"request_id": request_id, "camera": "camera.front", "event_ids": [event_id]},
                blocking=True,
            )
        with pytest.raises(ServiceValidationError):
            await hass.services.async_call(
                DOMAIN,
                "share_footage",
                {"request_id": "req-unknown", "camera": "camera.front", "event_ids": [event_id]},
                blocking=True,
            )
        assert await hass.config_entries.async_unload(entry.entry_id)
