"""The panel's footage commands (footage/events, footage/preview, footage/share) on a real
Home Assistant test instance with on-device detection running (the real model), against the
real hub: the resident sees the events in the requested window, previews them with the
camera's privacy masks applied, and shares only what they pick, only after approving; the
hub stores exactly the shared, masked pictures, and the local log records each one."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from PIL import Image

from custom_components.connect_share import hub_client
from custom_components.connect_share.detection.event_store import EventStore
from custom_components.connect_share.detection.events import (
    DetectionEvent,
    LabelStats,
    new_event_id,
)
from tests.hub_harness import running_hub

from .conftest import camera_options, enroll, jpeg_bytes, until, update_options
from .fake_hub import FakeHub
from .helpers import audit_actions
from .test_detection_ha import detection_options, model_server  # noqa: F401 - the fixture
from .test_panel_ws import SQUARE, Ws

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")

LAT, LON = 52.3731, 4.8922


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


def _pixel(jpeg: bytes, x: int, y: int) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(jpeg)) as img:
        return img.convert("RGB").getpixel((x, y))  # type: ignore[return-value]


def _recorded(store: EventStore, camera_id: str, start: float) -> str:
    """An event the camera recorded at ``start`` (a person, an unmasked red snapshot, as
    stored before the resident drew the masks); returns its id."""
    box = (0.3, 0.3, 0.7, 0.7)
    event = DetectionEvent(
        event_id=new_event_id(start),
        camera_id=camera_id,
        start=start,
        last_seen=start + 4,
        end=start + 9,
        labels={"person": LabelStats(0.9, start, start + 4, box)},
        best_label="person",
        best_score=0.9,
        best_snapshot=jpeg_bytes(),
        snapshot_changed=True,
    )
    stored = store.save(event)
    assert stored.snapshot is not None and not stored.snapshot_masked
    return event.event_id


async def _setup(hass: HomeAssistant, hub: Any, model_base: str) -> ConfigEntry:
    entry = await enroll(hass, hub.url, await hub.new_enrollment_code())
    await update_options(
        hass,
        entry,
        {
            "notify_target": "",
            "cameras": {
                # The test camera shows a still red picture: no motion, so no events of its own.
                "camera.front": {
                    **camera_options("registered", masks=json.dumps(SQUARE)),
                    "name": "Front",
                    "detection": True,
                    "detection_fps": 5,
                },
                "camera.back": {**camera_options("registered"), "name": "Back"},
            },
            "detection": detection_options(model_base),
        },
    )
    await entry.runtime_data.detection.ready.wait()
    assert entry.runtime_data.detection.is_ready
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    return entry


async def _footage_request(
    hass: HomeAssistant, api: Any, entry: ConfigEntry, window: tuple[float, float]
) -> str:
    incident = await api.open_incident(LAT, LON + 0.001, radius_m=300, window=window)
    inc_id = incident["incident_id"]
    await until_async(
        lambda: api.cameras_in_incident(inc_id),
        lambda cams: any(c["camera_id"] == "camera.front" for c in cams),
    )
    before = set(entry.runtime_data.pending)
    await api.request_footage(inc_id, [(entry.data["installation_id"], "camera.front")], window)
    await until(lambda: set(entry.runtime_data.pending) - before, "footage request pending")
    (request_id,) = set(entry.runtime_data.pending) - before
    return request_id


async def until_async(fetch: Callable[[], Any], pred: Callable[[Any], bool]) -> None:
    """Poll an async fetch until ``pred`` holds (10 s safety net, no timing asserted)."""
    async with asyncio.timeout(10):
        while not pred(await fetch()):
            await asyncio.sleep(0.05)


async def test_footage_list_preview_masked_and_share_only_what_is_picked(
    hass: HomeAssistant,
    config_dir: Path,
    model_server: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    hass_ws_client: Any,
) -> None:
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub") as hub, aiohttp.ClientSession() as http:
        entry = await _setup(hass, hub, model_server)
        inst = entry.runtime_data
        store = inst.detection.service.store
        now = time.time()
        window = (now - 1800, now + 600)
        inside = await hass.async_add_executor_job(_recorded, store, "camera.front", now - 600)
        second = await hass.async_add_executor_job(_recorded, store, "camera.front", now - 300)
        outside = await hass.async_add_executor_job(
            _recorded, store, "camera.front", now - 3 * 3600
        )
        officer = await hub.create_user(role="officer")
        api = hub.client(officer)
        request_id = await _footage_request(hass, api, entry, window)
        inc_id = inst.requests.find(request_id).incident.incident_id
        ws = Ws(await hass_ws_client(hass))

        # 1. The events in the window, none outside it.
        listed = (await ws.ok("footage/events", request_id=request_id))["events"]
        assert sorted(e["event_id"] for e in listed) == sorted([inside, second])
        row = next(e for e in listed if e["event_id"] == inside)
        assert row["camera_name"] == "Front" and row["has_snapshot"] and not row["has_clip"]
        assert row["best_label"] == "person"

        # 2. The preview is the snapshot as it would leave: the masked square is filled,
        #    the rest is the camera's picture (the stored file itself is unmasked).
        stored_file = store.get("camera.front", inside).snapshot_path.read_bytes()
        assert _pixel(stored_file, 32, 24)[0] > 150
        preview = await ws.ok("footage/preview", request_id=request_id, event_id=inside)
        assert preview["content_type"] == "image/jpeg"
        shown = base64.b64decode(preview["image"])
        assert max(_pixel(shown, 32, 24)) < 60 and _pixel(shown, 2, 2)[0] > 150
        error = await ws.error("footage/preview", request_id=request_id, event_id=outside)
        assert error["code"] == "not_found" and outside in error["message"]

        # 3. Not approved yet: nothing leaves, nothing is logged as shared.
        error = await ws.error(
            "footage/share", request_id=request_id, camera="camera.front", event_ids=[inside]
        )
        assert error["code"] == "not_allowed" and "not_approved" in error["message"]
        assert "footage_shared" not in audit_actions(entry)

        await ws.ok("request/approve", request_id=request_id)
        await api.wait_for_grant(inc_id, "camera.front", scope="clip")

        # 4. Refusals after approval: unknown request, a camera the request is not about, a
        #    camera not set up here, an event outside the window (nothing uploaded for any).
        refusals = [
            ({"request_id": "req-unknown", "camera": "camera.front"}, [inside], "not_found"),
            ({"request_id": request_id, "camera": "camera.back"}, [inside], "not_allowed"),
            ({"request_id": request_id, "camera": "camera.nope"}, [inside], "not_found"),
            ({"request_id": request_id, "camera": "camera.front"}, [outside], "not_allowed"),
            ({"request_id": request_id, "camera": "camera.front"}, ["0-nope"], "not_allowed"),
        ]
        for data, event_ids, code in refusals:
            error = await ws.error("footage/share", event_ids=event_ids, **data)
            assert error["code"] == code, (data, event_ids, error)
        error = await ws.error(
            "footage/share", request_id=request_id, camera="camera.front", event_ids=[outside]
        )
        assert "outside the requested window" in error["message"]
        evidence = await api.expect(200, "GET", f"/api/v1/incidents/{inc_id}/evidence")
        assert evidence["evidence"] == []
        assert "footage_shared" not in audit_actions(entry)

        # 5. Share one of the two: the hub holds exactly that one, masked.
        result = await ws.ok(
            "footage/share", request_id=request_id, camera="camera.front", event_ids=[inside]
        )
        (record,) = result["evidence"]
        assert record["content_type"] == "image/jpeg" and record["masked"] is True
        evidence = await api.expect(200, "GET", f"/api/v1/incidents/{inc_id}/evidence")
        assert [e["evidence_id"] for e in evidence["evidence"]] == [record["evidence_id"]]
        url = f"{hub.url}/api/v1/evidence/{record['evidence_id']}/file"
        async with http.get(url, headers=api.headers) as resp:
            assert resp.status == 200
            uploaded = await resp.read()
        assert max(_pixel(uploaded, 32, 24)) < 60 and _pixel(uploaded, 2, 2)[0] > 150
        # The local log records what left the house: that event, that file.
        shared = [e for e in inst.audit.entries if e.action == "footage_shared"]
        assert len(shared) == 1
        assert (
            shared[0].detail["event_id"] == inside and shared[0].detail["camera"] == "camera.front"
        )
        assert shared[0].detail["files"][0]["sha256"] == record["sha256"]

        # 6. "Stop all" withdraws the approval: the other event can no longer be shared.
        await ws.ok("stop_all")
        error = await ws.error(
            "footage/share", request_id=request_id, camera="camera.front", event_ids=[second]
        )
        assert error["code"] == "not_allowed"
        evidence = await api.expect(200, "GET", f"/api/v1/incidents/{inc_id}/evidence")
        assert len(evidence["evidence"]) == 1
        assert len([e for e in inst.audit.entries if e.action == "footage_shared"]) == 1

        # 7. A request the resident declined: its footage cannot be shared.
        declined = await _footage_request(hass, api, entry, window)
        await ws.ok("request/decline", request_id=declined)
        error = await ws.error(
            "footage/share", request_id=declined, camera="camera.front", event_ids=[second]
        )
        assert error["code"] == "not_allowed"
        evidence = await api.expect(200, "GET", f"/api/v1/incidents/{inc_id}/evidence")
        assert len(evidence["evidence"]) == 1
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_share_of_several_events_is_all_or_nothing(
    hass: HomeAssistant,
    config_dir: Path,
    model_server: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    hass_ws_client: Any,
) -> None:
    """One event of the picked ones is outside the window: the share is refused and none of
    them reaches the hub (the panel said "not shared", so nothing may have been)."""
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub") as hub:
        entry = await _setup(hass, hub, model_server)
        inst = entry.runtime_data
        store = inst.detection.service.store
        now = time.time()
        window = (now - 1800, now + 600)
        inside = await hass.async_add_executor_job(_recorded, store, "camera.front", now - 600)
        outside = await hass.async_add_executor_job(
            _recorded, store, "camera.front", now - 3 * 3600
        )
        api = hub.client(await hub.create_user(role="officer"))
        request_id = await _footage_request(hass, api, entry, window)
        inc_id = inst.requests.find(request_id).incident.incident_id
        ws = Ws(await hass_ws_client(hass))
        await ws.ok("request/approve", request_id=request_id)
        await api.wait_for_grant(inc_id, "camera.front", scope="clip")

        error = await ws.error(
            "footage/share",
            request_id=request_id,
            camera="camera.front",
            event_ids=[inside, outside],
        )
        assert error["code"] == "not_allowed" and "outside the requested window" in error["message"]
        evidence = await api.expect(200, "GET", f"/api/v1/incidents/{inc_id}/evidence")
        assert evidence["evidence"] == []
        assert "footage_shared" not in audit_actions(entry)
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_footage_without_detection_says_why(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path, hass_ws_client: Any
) -> None:
    """A footage request while on-device detection is not set up: the panel says so."""
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await update_options(
        hass,
        entry,
        {
            "notify_target": "",
            "cameras": {"camera.front": {**camera_options("registered"), "name": "Front"}},
        },
    )
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    now = time.time()
    request = replace(
        fake_hub.request(fake_hub.incident(), ["camera.front"], scope="clip"),
        window_start=now - 600,
        window_end=now,
    )
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending request")
    ws = Ws(await hass_ws_client(hass))
    error = await ws.error("footage/events", request_id=request.request_id)
    assert error["code"] == "not_supported" and "detection is not running" in error["message"]
    error = await ws.error("footage/preview", request_id=request.request_id, event_id="e")
    assert error["code"] == "not_supported"
