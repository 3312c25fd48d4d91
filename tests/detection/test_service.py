"""DetectionService: model and labels from a local server, and the ways it stays off."""

from __future__ import annotations

import io
import threading

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from PIL import Image

from custom_components.connect_share.detection import runtime
from custom_components.connect_share.detection.model_store import ModelSource
from custom_components.connect_share.detection.service import (
    DetectionConfig,
    DetectionService,
    Status,
)

from .conftest import MODEL_NAME, MODEL_SHA256
from .test_motion import jpeg, scene

pytestmark = pytest.mark.usefixtures("socket_enabled")
LABELS_SHA256 = "dc183f003fc753c4c43fae6fdf7f387559449573f13fa32e517fb7453fd380f1"


@pytest.fixture
async def files_url(shared_dir):
    app = web.Application()
    app.router.add_static("/m/", shared_dir / "models")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/m"
    await runner.cleanup()


def config(url: str, tmp_path, model_sha: str = MODEL_SHA256) -> DetectionConfig:
    return DetectionConfig(
        model=ModelSource(sha256=model_sha, url=f"{url}/{MODEL_NAME}"),
        labels=ModelSource(sha256=LABELS_SHA256, url=f"{url}/coco_labels.txt"),
        model_dir=tmp_path / "connect_share",
        events_dir=tmp_path / "connect_share" / "events",
        quiet_s=5,
    )


async def test_ready_service_detects_and_stores(files_url, tmp_path, images_dir):
    seen = []
    async with aiohttp.ClientSession() as http:
        service = DetectionService(config(files_url, tmp_path), http)
        try:
            assert await service.start() is Status.READY
            assert service.reason == "using ai-edge-litert"
            assert (tmp_path / "connect_share" / MODEL_NAME).is_file()
            cam = service.camera("camera.front", on_change=lambda c: seen.append(c.kind.value))
            assert cam is service.camera("camera.front")
            base = scene(np.random.default_rng(3))
            img = Image.fromarray(base)
            with Image.open(images_dir / "squat.bmp") as person:
                img.paste(person.convert("RGB").resize((250, 305)), (200, 40))
            buf = io.BytesIO()
            img.save(buf, format="JPEG")
            await cam.process(jpeg(base), 1000.0)
            await cam.process(buf.getvalue(), 1001.0)
        finally:
            await service.stop()
    assert seen == ["start", "end"]  # stop() closed the running event
    assert [s.event.best_label for s in service.store.query(0, 2e10)] == ["person"]
    assert not [t for t in threading.enumerate() if t.name.startswith("connect_share_detect")]


async def test_wrong_model_hash_is_a_model_error_not_a_crash(files_url, tmp_path):
    async with aiohttp.ClientSession() as http:
        service = DetectionService(config(files_url, tmp_path, model_sha="1" * 64), http)
        assert await service.start() is Status.MODEL_ERROR
        assert "expected 1111" in service.reason
        assert service.camera("camera.front") is None
        await service.stop()
    assert not (tmp_path / "connect_share" / MODEL_NAME).exists()


async def test_no_runtime_is_unavailable_with_a_reason(files_url, tmp_path, monkeypatch):
    runtime._find.cache_clear()
    monkeypatch.setattr(runtime, "_CANDIDATES", (("no_such_litert.x", "ai-edge-litert"),))
    try:
        async with aiohttp.ClientSession() as http:
            service = DetectionService(config(files_url, tmp_path), http)
            assert await service.start() is Status.UNAVAILABLE
            assert "ai-edge-litert" in service.reason
            assert service.camera("camera.front") is None
            assert await service.prune() == 0  # the store works without a detector
            await service.stop()
    finally:
        runtime._find.cache_clear()
