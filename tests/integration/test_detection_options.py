"""Detection options through the real options flow, a model from a local path, and masks:
a person inside a privacy mask makes no event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN

from .conftest import camera_options, enroll, until, update_options
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
    await update_options(hass, entry, options)
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
    await update_options(hass, entry, options)
    await entry.runtime_data.detection.ready.wait()
    diag = await async_get_config_entry_diagnostics(hass, entry)
    assert diag["detection"]["status"] == "ready" and diag["detection"]["runtime_available"]
    assert diag["detection"]["cameras"]["camera.front"]["running"] is True
    assert diag["entry"]["data"]["private_key"] == "**REDACTED**"
    assert await hass.config_entries.async_unload(entry.entry_id)


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40


@pytest.fixture
async def go2rtc_like(socket_enabled: None, shared_dir: Path) -> AsyncIterator[dict[str, Any]]:
    """The two go2rtc endpoints detection uses: a frame and a recorded MP4 (a real photo,
    a small MP4-shaped body); counts the clip requests."""
    seen: dict[str, Any] = {"clips": []}
    frame = photo_jpeg(shared_dir)

    async def frame_jpeg(request: web.Request) -> web.Response:
        return web.Response(body=frame, content_type="image/jpeg")

    async def stream_mp4(request: web.Request) -> web.Response:
        seen["clips"].append(dict(request.query))
        return web.Response(body=MP4, content_type="video/mp4")

    app = web.Application()
    app.router.add_get("/api/frame.jpeg", frame_jpeg)
    app.router.add_get("/api/stream.mp4", stream_mp4)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    seen["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield seen
    await runner.cleanup()


async def test_go2rtc_camera_records_a_clip_shown_in_the_media_browser(
    hass: HomeAssistant,
    config_dir: Path,
    cameras: dict,
    fake_hub: FakeHub,
    shared_dir: Path,
    go2rtc_like: dict[str, Any],
    hass_client: Any,
) -> None:
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    cam_id = "go2rtc.driveway"
    options = {
        "notify_target": "",
        "go2rtc": {"url": go2rtc_like["url"], "username": "", "password": ""},
        "sources": {cam_id: {"type": "go2rtc", "stream": "driveway", "name": "Driveway"}},
        "cameras": {
            cam_id: {
                **camera_options("registered"),
                "name": "Driveway",
                "detection": True,
                "detection_fps": 5,
            }
        },
        "detection": local_model(shared_dir),
    }
    await update_options(hass, entry, options)
    detection = entry.runtime_data.detection
    await detection.ready.wait()
    store = detection.service.store
    await until(
        lambda: (latest := store.latest(cam_id)) is not None and latest.clip is not None,
        "event with a clip",
    )
    assert go2rtc_like["clips"][0]["src"] == "driveway"
    assert await async_setup_component(hass, "media_source", {})
    await hass.async_block_till_done()
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert [c.title for c in root.children] == ["Driveway"]
    cam = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    day = await media_source.async_browse_media(hass, cam.children[0].media_content_id)
    event = await media_source.async_browse_media(hass, day.children[0].media_content_id)
    assert [c.title for c in event.children] == ["Snapshot", "Clip"]
    resolved = await media_source.async_resolve_media(
        hass, event.children[1].media_content_id, None
    )
    assert resolved.mime_type == "video/mp4"
    resp = await (await hass_client()).get(resolved.url)
    assert resp.status == 200 and await resp.read() == MP4
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_no_runtime_is_a_repair_with_the_reason(
    hass: HomeAssistant, config_dir: Path, cameras: dict, fake_hub: FakeHub, shared_dir: Path
) -> None:
    """As on Home Assistant OS: neither LiteRT nor tflite-runtime imports."""
    import sys

    from custom_components.connect_share.detection import runtime

    names = (
        "ai_edge_litert",
        "ai_edge_litert.interpreter",
        "tflite_runtime",
        "tflite_runtime.interpreter",
    )
    saved = {name: sys.modules.get(name, False) for name in names}
    for name in names:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    runtime._find.cache_clear()
    try:
        entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
        options = {
            "notify_target": "",
            "cameras": {
                "camera.front": {
                    **camera_options("on_request"),
                    "name": "Front",
                    "detection": True,
                }
            },
            "detection": local_model(shared_dir),
        }
        await update_options(hass, entry, options)
        detection = entry.runtime_data.detection
        await detection.ready.wait()
        assert detection.service.status.value == "unavailable"
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"detection_unavailable_{entry.entry_id}"
        )
        assert issue is not None
        reason = issue.translation_placeholders["reason"]
        assert "ai-edge-litert" in reason and "unavailable" in reason
        # The rest of the integration is unaffected.
        await until(lambda: entry.runtime_data.connection.is_connected, "connection")
        await fake_hub.wait_for("camera_sync", lambda m: len(m.cameras) == 1)
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        for name, module in saved.items():
            if module is False:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        runtime._find.cache_clear()
