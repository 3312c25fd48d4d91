"""Detection options through the real options flow, a model from a local path, and masks:
a person inside a privacy mask makes no event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN

from .conftest import camera_options, enroll, until
from .fake_hub import FakeHub
from .test_detection_ha import LABELS_SHA256, MODEL_NAME, MODEL_SHA256, photo_jpeg

pytestmark = pytest.mark.usefixtures("enable_custom_integrations")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


def local_model(shared_dir: Path) -> dict[str, Any]:
    models = shared_dir / "models"
    return {
        "model_path": str(models / MODEL_NAME),
        "model_sha256": MODEL_SHA256.upper(),  # hex in any case is accepted
        "labels_path": str(models / "coco_labels.txt"),
        "labels_sha256": LABELS_SHA256,
        "retention_days": 7,
        "share_summaries": False,
    }


async def test_options_flow_sets_detection_from_a_local_model(
    hass: HomeAssistant, config_dir: Path, cameras: dict, fake_hub: FakeHub, shared_dir: Path
) -> None:
    cameras["camera.front"].image = photo_jpeg(shared_dir)
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    bad = {**local_model(shared_dir), "model_sha256": "abc"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"cameras": ["camera.front"], "notify_target": "", "detection": bad}
    )
    assert result["step_id"] == "init" and result["errors"] == {"base": "invalid_sha256"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"cameras": ["camera.front"], "notify_target": "", "detection": local_model(shared_dir)},
    )
    assert result["step_id"] == "camera"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"mode": "on_request", "detection": True, "detection_fps": 4}
    )
    assert result["type"] == "create_entry", result
    await hass.async_block_till_done()
    assert entry.options["detection"]["model_sha256"] == MODEL_SHA256
    assert entry.options["detection"]["retention_days"] == 7
    assert entry.options["cameras"]["camera.front"]["detection"] is True

    # The reload after the options change started detection from the local files.
    detection = entry.runtime_data.detection
    await detection.ready.wait()
    assert detection.service is not None and detection.service.status.value == "ready"
    assert detection.camera_fps == {"camera.front": 4.0}
    assert detection.service.store.retention_days == 7
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"detection_unavailable_{entry.entry_id}")
        is None
    )
    await until(lambda: detection.active("camera.front", "person"), "person")

    # Detection off again: no detection service, no detection entities, no repair.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"cameras": ["camera.front"], "notify_target": ""}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"mode": "on_request", "detection": False}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options["detection"]["model_sha256"] == MODEL_SHA256  # kept for later
    detection = entry.runtime_data.detection
    assert not detection.enabled and detection.service is None
    iid = entry.data["installation_id"]
    person = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{iid}_camera.front_person"
    )
    assert person is not None  # registered earlier, not provided any more
    assert hass.states.get(person).state == "unavailable"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_person_inside_a_mask_makes_no_event(
    hass: HomeAssistant, config_dir: Path, cameras: dict, fake_hub: FakeHub, shared_dir: Path
) -> None:
    """The same photo, with the whole frame masked: frames are processed, nothing is found."""
    cameras["camera.front"].image = photo_jpeg(shared_dir)
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    whole = "[[[0,0],[1,0],[1,1],[0,1]]]"
    options = {
        "notify_target": "",
        "cameras": {
            "camera.front": {
                **camera_options("on_request", masks=whole),
                "name": "Front",
                "detection": True,
                "detection_fps": 10,
            }
        },
        "detection": local_model(shared_dir),
    }
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done()
    detection = entry.runtime_data.detection
    await detection.ready.wait()
    cam = detection.service.cameras["camera.front"]
    await until(lambda: cam.detected_frames >= 1 and cam.frames >= 3, "frames processed")
    assert cam.errors == 0
    assert cam.tracker.current is None and not detection.active("camera.front", "person")
    assert await hass.async_add_executor_job(detection.service.store.cameras) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_diagnostics_show_detection_status(
    hass: HomeAssistant, config_dir: Path, cameras: dict, fake_hub: FakeHub, shared_dir: Path
) -> None:
    from custom_components.connect_share.diagnostics import async_get_config_entry_diagnostics

    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    options = {
        "notify_target": "",
        "cameras": {
            "camera.front": {
                **camera_options("on_request"),
                "name": "Front",
                "detection": True,
                "detection_fps": 2,
            }
        },
        "detection": local_model(shared_dir),
    }
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done()
    await entry.runtime_data.detection.ready.wait()
    diag = await async_get_config_entry_diagnostics(hass, entry)
    assert diag["detection"]["status"] == "ready" and diag["detection"]["runtime_available"]
    assert diag["detection"]["cameras"]["camera.front"]["running"] is True
    assert diag["entry"]["data"]["private_key"] == "**REDACTED**"
    assert await hass.config_entries.async_unload(entry.entry_id)
