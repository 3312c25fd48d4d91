"""Clips from a go2rtc stand-in that follows go2rtc's /api/stream.mp4 (see ../shared/reference)."""

from __future__ import annotations

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from PIL import Image

from custom_components.connect_share.detection.clips import ClipError, record_clip
from custom_components.connect_share.detection.detector import AsyncDetector
from custom_components.connect_share.detection.event_store import EventStore
from custom_components.connect_share.detection.pipeline import CameraDetection

from .test_motion import jpeg, noisy, scene

pytestmark = pytest.mark.usefixtures("socket_enabled")

FTYP = b"\x00\x00\x00\x18ftypiso5\x00\x00\x02\x00iso5iso6"
BODY = FTYP + b"\x00\x00\x10\x00moof" + bytes(range(256)) * 64


class Go2rtc:
    """/api/stream.mp4?src=&duration=: fMP4 for known streams, 404 otherwise."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/stream.mp4", self.stream_mp4)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def stream_mp4(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(dict(request.query))
        src = request.query.get("src", "")
        if src == "html":
            return web.Response(text="<html>not video</html>", content_type="text/html")
        if src not in ("front", "yard"):
            return web.Response(status=404, text="stream not found")
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        await response.prepare(request)
        for i in range(0, len(BODY), 4096):  # progressive, as go2rtc sends fragments
            await response.write(BODY[i : i + 4096])
        await response.write_eof()
        return response


@pytest.fixture
async def go2rtc():
    server = Go2rtc()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def test_records_a_clip(go2rtc, http, tmp_path):
    dest = tmp_path / "clips" / "a.mp4"
    assert await record_clip(http, go2rtc.url, "front", 5, dest) == dest
    assert dest.read_bytes() == BODY
    assert go2rtc.calls == [{"src": "front", "duration": "5"}]
    assert [p.name for p in dest.parent.iterdir()] == ["a.mp4"]


@pytest.mark.parametrize(
    ("stream", "kwargs", "message"),
    [
        ("nope", {}, "HTTP 404"),
        ("html", {}, "no MP4"),
        ("front", {"max_bytes": 1000}, "larger than"),
    ],
)
async def test_failures_leave_nothing(go2rtc, http, tmp_path, stream, kwargs, message):
    with pytest.raises(ClipError, match=message):
        await record_clip(http, go2rtc.url, stream, 5, tmp_path / "a.mp4", **kwargs)
    assert list(tmp_path.iterdir()) == []


async def test_bad_duration(http, tmp_path):
    with pytest.raises(ClipError, match="1 to 600"):
        await record_clip(http, "http://127.0.0.1:1", "front", 0, tmp_path / "a.mp4")


async def test_pipeline_attaches_a_clip_to_the_event(
    go2rtc, http, tmp_path, model_path, labels_path, images_dir
):
    rng = np.random.default_rng(5)
    base = scene(rng)
    person = Image.open(images_dir / "squat.bmp").convert("RGB").resize((250, 305))
    with_person = Image.fromarray(base)
    with_person.paste(person, (200, 40))
    store = EventStore(tmp_path / "events")
    detector = await AsyncDetector.create(model_path, labels_path)
    try:
        cam = CameraDetection(
            "camera.front",
            detector,
            store,
            record_clip=lambda event, dest: record_clip(http, go2rtc.url, "front", 3, dest),
        )
        await cam.process(jpeg(noisy(base, rng)), 1000.0)
        [start] = await cam.process(jpeg(np.asarray(with_person)), 1001.0)
        await cam.wait_for_clips()
        stored = store.get("camera.front", start.event.event_id)
        assert stored is not None and stored.clip_path is not None
        assert stored.clip_path.read_bytes() == BODY
        await cam.close(1002.0)
        assert store.get("camera.front", start.event.event_id).clip is not None
    finally:
        await detector.close()
