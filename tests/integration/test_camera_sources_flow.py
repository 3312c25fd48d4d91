"""go2rtc and ONVIF cameras: the options flow against the stand-ins on 127.0.0.1 (the go2rtc
OpenAPI stand-in and the SOAP camera stand-in from ``tests/media``), and live sessions
whose frames come from them, driven through the fake hub."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from PIL import Image

from custom_components.connect_share import hub_client
from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.protocol.messages import (
    SessionOpen,
    new_session_id,
    unpack_frame,
)
from custom_components.connect_share.source_flow import normalize_go2rtc_url
from tests.media.frames import frame_sequence, photo_jpeg
from tests.media.go2rtc_standin import StandinState
from tests.media.go2rtc_standin import serve as serve_go2rtc
from tests.media.onvif_standin import OnvifState
from tests.media.onvif_standin import serve as serve_onvif

from .conftest import camera_options, enroll, until, update_options
from .fake_hub import FakeHub
from .helpers import audit_actions

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras", "config_dir")

GO2RTC_USER, GO2RTC_PASS = "resident", "go2rtc-s3cret-pw"
CAM_PASS = "cam-pass-1"  # the ONVIF stand-in's password
RULES = {"mode": "on_request", "max_fps": 5}


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("192.168.1.5", "http://192.168.1.5:1984"),
        ("http://nvr.local/", "http://nvr.local:1984"),
        ("http://nvr.local:8080/go2rtc/", "http://nvr.local:8080/go2rtc"),
        ("https://nvr.example", "https://nvr.example"),
        ("ftp://nvr.local", None),
        ("http://u:pw@nvr.local", None),
        ("http://", None),
    ],
)
def test_go2rtc_url_normalised(text: str, url: str | None) -> None:
    if url is None:
        with pytest.raises(vol.Invalid):
            normalize_go2rtc_url(text)
    else:
        assert normalize_go2rtc_url(text) == url


def _logged(caplog: pytest.LogCaptureFixture, secret: str) -> list[str]:
    """Log lines (any logger, any level) with the secret in them, except the stand-ins'
    own access log (the go2rtc stand-in, like go2rtc, logs the RTSP URL it is given)."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name != "aiohttp.access" and secret in r.getMessage()
    ]


async def _options_init(hass: HomeAssistant, entry, **fields: Any) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"cameras": ["camera.front"], "notify_target": "", **fields}
    )


async def _configure(hass: HomeAssistant, result: dict[str, Any], data: dict[str, Any]):
    return await hass.config_entries.options.async_configure(result["flow_id"], data)


async def test_go2rtc_server_errors_then_streams_shared(
    hass: HomeAssistant, fake_hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state = StandinState(
        frames=frame_sequence(64, 36, 2),
        streams={"driveway": "rtsp://10.0.0.5/main", "porch": "rtsp://10.0.0.6/main"},
        username=GO2RTC_USER,
        password=GO2RTC_PASS,
    )
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    async with serve_go2rtc(state) as url:
        result = await _options_init(hass, entry, add_source="go2rtc")
        assert result["step_id"] == "go2rtc" and result["errors"] == {}
        good = {"url": url, "username": GO2RTC_USER, "password": GO2RTC_PASS}

        # Nothing listens there.
        result = await _configure(hass, result, {**good, "url": "http://127.0.0.1:9"})
        assert result["step_id"] == "go2rtc" and result["errors"] == {"base": "cannot_connect"}
        # go2rtc is there but the password is wrong.
        result = await _configure(hass, result, {**good, "password": "wrong"})
        assert result["errors"] == {"base": "invalid_auth"}
        # A web server that is not go2rtc (the hub).
        result = await _configure(hass, result, {**good, "url": fake_hub.url})
        assert result["errors"] == {"base": "not_go2rtc"}
        # Not an http URL; credentials in the URL are refused too.
        result = await _configure(hass, result, {**good, "url": "ftp://127.0.0.1"})
        assert result["errors"] == {"url": "invalid_url"}
        result = await _configure(
            hass, result, {**good, "url": url.replace("http://", f"http://u:{GO2RTC_PASS}@")}
        )
        assert result["errors"] == {"url": "invalid_url"}

        # Right: the server's streams are offered.
        result = await _configure(hass, result, good)
        assert result["step_id"] == "go2rtc_streams", result
        result = await _configure(hass, result, {"streams": ["driveway"]})
        assert result["step_id"] == "camera"
        assert result["description_placeholders"]["camera"] == "Front"
        result = await _configure(hass, result, RULES)
        assert result["description_placeholders"]["camera"] == "driveway"
        result = await _configure(hass, result, {**RULES, "mode": "registered"})
        assert result["type"] == "create_entry"
        await hass.async_block_till_done()

    opts = entry.options
    assert opts["go2rtc"] == {"url": url, "username": GO2RTC_USER, "password": GO2RTC_PASS}
    assert opts["sources"] == {
        "go2rtc.driveway": {"type": "go2rtc", "stream": "driveway", "name": "driveway"}
    }
    assert opts["cameras"]["go2rtc.driveway"]["mode"] == "registered"
    assert opts["cameras"]["go2rtc.driveway"]["name"] == "driveway"
    # The hub hears of the go2rtc camera like any other.
    sync = await fake_hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    by_id = {c.camera_id: c for c in sync.cameras}
    assert by_id["go2rtc.driveway"].name == "driveway"
    assert by_id["go2rtc.driveway"].mode == "registered"

    # Diagnostics redact the password; the log never had it.
    from custom_components.connect_share.diagnostics import async_get_config_entry_diagnostics

    diag = await async_get_config_entry_diagnostics(hass, entry)
    assert diag["entry"]["options"]["go2rtc"]["password"] == "**REDACTED**"
    assert GO2RTC_PASS not in repr(diag)
    assert _logged(caplog, GO2RTC_PASS) == []

    # The init form now lists the go2rtc camera; unticking it unshares and forgets it.
    result = await _options_init(hass, entry, other_cameras=[])
    result = await _configure(hass, result, RULES)
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options["sources"] == {}
    assert list(entry.options["cameras"]) == ["camera.front"]
    assert entry.options["go2rtc"]["url"] == url  # the server stays set up
    await fake_hub.wait_for(
        "camera_sync", lambda m: [c.camera_id for c in m.cameras] == ["camera.front"]
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_onvif_camera_checked_and_registered_in_go2rtc(
    hass: HomeAssistant, fake_hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cam = OnvifState(snapshot=photo_jpeg("squat.bmp", 320, 240))
    go2rtc = StandinState(frames=frame_sequence(64, 36, 1))
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    async with serve_onvif(cam) as (host, port), serve_go2rtc(go2rtc) as url:
        # go2rtc first (no streams yet), then the camera.
        result = await _options_init(hass, entry, add_source="go2rtc")
        result = await _configure(hass, result, {"url": url})
        assert result["step_id"] == "go2rtc_streams"
        result = await _configure(hass, result, {"streams": []})
        result = await _configure(hass, result, RULES)
        assert result["type"] == "create_entry"
        await hass.async_block_till_done()

        result = await _options_init(hass, entry, add_source="onvif")
        assert result["step_id"] == "onvif"
        form = {
            "name": "Porch",
            "host": host,
            "port": port,
            "username": cam.username,
            "password": CAM_PASS,
        }
        result = await _configure(hass, result, {**form, "password": "wrong"})
        assert result["step_id"] == "onvif" and result["errors"] == {"base": "invalid_auth"}
        result = await _configure(hass, result, {**form, "port": 9})
        assert result["errors"] == {"base": "cannot_connect"}
        result = await _configure(hass, result, {**form, "profile": "NoSuchProfile"})
        assert result["errors"] == {"base": "not_found"}
        assert go2rtc.streams == {}  # nothing registered by a failed attempt
        result = await _configure(hass, result, {**form, "profile": "Profile_2"})
        assert result["step_id"] == "camera", result
        assert result["description_placeholders"]["camera"] == "Front"
        result = await _configure(hass, result, RULES)
        assert result["description_placeholders"]["camera"] == "Porch"
        result = await _configure(hass, result, RULES)
        assert result["type"] == "create_entry"
        await hass.async_block_till_done()

    spec = entry.options["sources"]["onvif.porch"]
    assert spec["type"] == "onvif" and spec["host"] == host and spec["port"] == port
    assert spec["profile"] == "Profile_2" and spec["password"] == CAM_PASS
    assert spec["go2rtc_stream"] == "connect_share_porch"
    assert spec["model"] == "HIKVISION DS-2CD2043G2-I"
    # The camera's RTSP stream (with its credentials, as go2rtc needs them) is in go2rtc.
    assert go2rtc.streams["connect_share_porch"].startswith(f"rtsp://admin:{CAM_PASS}@")
    sync = await fake_hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    assert {c.camera_id: c.name for c in sync.cameras}["onvif.porch"] == "Porch"
    assert _logged(caplog, CAM_PASS) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


def _source_options(url: str, sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    cams = {"camera.front": {**camera_options("on_request"), "name": "Front"}}
    for cid, spec in sources.items():
        cams[cid] = {**camera_options("on_request"), "name": spec["name"]}
    return {
        "cameras": cams,
        "notify_target": "",
        "go2rtc": {"url": url, "username": GO2RTC_USER, "password": GO2RTC_PASS},
        "sources": sources,
    }


async def _watch(
    hass: HomeAssistant,
    hub: FakeHub,
    entry,
    camera: str,
    frames: int,
    while_open: Callable[[], object] | None = None,
):
    """Request, approve, token, session: returns the first frame's image and the close."""
    incident = hub.incident()
    request = hub.request(incident, [camera])
    await hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    token = hub.token(incident, [camera])
    sid = new_session_id()
    start = len(hub.received)
    await hub.send(SessionOpen(session_id=sid, token=token, camera_id=camera, scope="live", fps=5))
    started = await hub.wait_for("session_started", start=start)
    assert started.session_id == sid
    await hub.wait_frames(frames)
    header, payload = unpack_frame(hub.binary_frames[0])
    assert header.session_id == sid
    if while_open is not None:
        await until(while_open, "a condition while the session is open")
    await entry.runtime_data.sessions[sid].stop("test_done")
    closed = await hub.wait_for("session_close", lambda m: m.session_id == sid)
    assert closed.frames_sent == len(hub.binary_frames)
    return Image.open(io.BytesIO(payload)), closed


async def test_live_session_frames_come_from_go2rtc(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    state = StandinState(
        frames=frame_sequence(96, 54, 3),
        streams={"driveway": "rtsp://10.0.0.5/main"},
        username=GO2RTC_USER,
        password=GO2RTC_PASS,
    )
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    async with serve_go2rtc(state) as url:
        spec = {"type": "go2rtc", "stream": "driveway", "name": "Driveway"}
        await update_options(hass, entry, _source_options(url, {"go2rtc.driveway": spec}))
        await until(lambda: entry.runtime_data.connection.is_connected, "connection")
        await fake_hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
        # Live view reads go2rtc's MJPEG stream (one client while the session runs).
        image, closed = await _watch(
            hass, fake_hub, entry, "go2rtc.driveway", 2, lambda: state.mjpeg_clients == 1
        )
        # The go2rtc stand-in's 96 x 54 frames (the HA test cameras give 64 x 48).
        assert image.size == (96, 54)
        assert closed.reason == "ended"  # a hub's close comes back as the neutral "ended"
        assert state.frame_requests >= 2  # every frame the stand-in served is counted
        assert "session_started" in audit_actions(entry)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await until(lambda: state.mjpeg_clients == 0, "go2rtc stream closed")


async def test_live_session_from_onvif_snapshots_without_go2rtc(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    cam = OnvifState(snapshot=photo_jpeg("squat.bmp", 160, 120))
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    async with serve_onvif(cam) as (host, port):
        spec = {
            "type": "onvif",
            "name": "Porch",
            "host": host,
            "port": port,
            "username": cam.username,
            "password": CAM_PASS,
            "profile": "Profile_1",
            "go2rtc_stream": None,
        }
        options = _source_options("", {"onvif.porch": spec})
        del options["go2rtc"]
        await update_options(hass, entry, options)
        await until(lambda: entry.runtime_data.connection.is_connected, "connection")
        image, _closed = await _watch(hass, fake_hub, entry, "onvif.porch", 1)
        assert image.size == (160, 120)
        assert cam.snapshot_requests >= 1
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_async_snapshot_from_every_kind_of_camera(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """``camera_sources.async_snapshot``: entity, go2rtc stream, ONVIF; unknown ids refused."""
    from custom_components.connect_share.camera_sources import async_snapshot
    from custom_components.connect_share.media.sources import SourceError

    cam = OnvifState(snapshot=photo_jpeg("squat.bmp", 160, 120))
    state = StandinState(frames=frame_sequence(96, 54, 1), streams={"driveway": "rtsp://x"})
    async with serve_onvif(cam) as (host, port), serve_go2rtc(state) as url:
        onvif = {
            "type": "onvif",
            "name": "Porch",
            "host": host,
            "port": port,
            "username": cam.username,
            "password": CAM_PASS,
        }
        options = _source_options(
            url,
            {
                "go2rtc.driveway": {"type": "go2rtc", "stream": "driveway", "name": "Driveway"},
                "onvif.porch": onvif,
            },
        )
        options["go2rtc"].update(username="", password="")
        sizes = {}
        for cid in ("camera.front", "go2rtc.driveway", "onvif.porch"):
            sizes[cid] = Image.open(io.BytesIO(await async_snapshot(hass, options, cid))).size
        assert sizes == {
            "camera.front": (64, 48),
            "go2rtc.driveway": (96, 54),
            "onvif.porch": (160, 120),
        }
        for cid in ("camera.nowhere", "go2rtc.unknown", "sensor.front"):
            with pytest.raises(SourceError):
                await async_snapshot(hass, options, cid)


async def test_go2rtc_camera_without_server_is_refused(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    """Deny by default: a go2rtc camera whose server is gone serves nothing."""
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    spec = {"type": "go2rtc", "stream": "driveway", "name": "Driveway"}
    options = _source_options("", {"go2rtc.driveway": spec})
    del options["go2rtc"]
    await update_options(hass, entry, options)
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    incident = fake_hub.incident()
    request = fake_hub.request(incident, ["go2rtc.driveway"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    sid = new_session_id()
    start = len(fake_hub.received)
    token = fake_hub.token(incident, ["go2rtc.driveway"])
    await fake_hub.send(
        SessionOpen(session_id=sid, token=token, camera_id="go2rtc.driveway", scope="live")
    )
    closed = await fake_hub.wait_for("session_close", start=start)
    assert closed.session_id == sid and closed.reason == "unavailable"
    assert entry.runtime_data.audit.entries[-1].detail["reason"] == "camera_unavailable"
    assert fake_hub.binary_frames == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_onvif_without_go2rtc_then_go2rtc_set_up_registers_it(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    cam = OnvifState(snapshot=photo_jpeg("squat.bmp", 320, 240))
    go2rtc = StandinState(frames=frame_sequence(64, 36, 1), streams={"yard": "rtsp://x/1"})
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    async with serve_onvif(cam) as (host, port), serve_go2rtc(go2rtc) as url:
        result = await _options_init(hass, entry, add_source="onvif")
        form = {"name": "Porch", "host": host, "port": port, "username": cam.username}
        result = await _configure(hass, result, {**form, "password": CAM_PASS})
        result = await _configure(hass, result, RULES)
        result = await _configure(hass, result, RULES)
        assert result["type"] == "create_entry"
        await hass.async_block_till_done()
        spec = entry.options["sources"]["onvif.porch"]
        assert spec["go2rtc_stream"] is None and spec["profile"] == "Profile_1"

        # Editing the camera with an empty password keeps the stored one.
        result = await _options_init(hass, entry, add_source="onvif")
        result = await _configure(hass, result, {**form, "profile": "Profile_2"})
        assert result["step_id"] == "camera", result
        result = await _configure(hass, result, RULES)
        result = await _configure(hass, result, RULES)
        assert result["type"] == "create_entry"
        await hass.async_block_till_done()
        spec = entry.options["sources"]["onvif.porch"]
        assert spec["profile"] == "Profile_2" and spec["password"] == CAM_PASS

        # Setting up go2rtc afterwards registers the camera there; its own streams are
        # offered, the integration's registrations are not.
        result = await _options_init(hass, entry, add_source="go2rtc")
        result = await _configure(hass, result, {"url": url})
        assert result["step_id"] == "go2rtc_streams"
        schema = result["data_schema"].schema
        options = next(v for k, v in schema.items() if k == "streams").config["options"]
        assert options == ["yard"]
        result = await _configure(hass, result, {"streams": []})
        result = await _configure(hass, result, RULES)
        result = await _configure(hass, result, RULES)
        assert result["type"] == "create_entry"
        await hass.async_block_till_done()
    assert entry.options["sources"]["onvif.porch"]["go2rtc_stream"] == "connect_share_porch"
    assert "Profile_2" in go2rtc.streams["connect_share_porch"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_real_hub_officer_watches_a_go2rtc_camera(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The real hub (in-process) lists the go2rtc camera, the resident approves, and the
    officer's MJPEG carries the go2rtc stand-in's frames."""
    from tests.hub_harness import running_hub

    state = StandinState(
        frames=frame_sequence(96, 54, 3),
        streams={"driveway": "rtsp://10.0.0.5/main"},
        username=GO2RTC_USER,
        password=GO2RTC_PASS,
    )
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub") as hub, serve_go2rtc(state) as url:
        entry = await enroll(hass, hub.url, await hub.new_enrollment_code())
        spec = {"type": "go2rtc", "stream": "driveway", "name": "Driveway"}
        await update_options(hass, entry, _source_options(url, {"go2rtc.driveway": spec}))
        manager = entry.runtime_data
        await until(lambda: manager.connection.is_connected, "connection")
        iid = entry.data["installation_id"]

        api = hub.client(await hub.create_user(role="analyst"))
        incident = await api.open_incident(lat=52.3731, lon=4.8932, radius_m=300)

        async def listed() -> bool:
            cams = await api.cameras_in_incident(incident["incident_id"])
            return any(c["camera_id"] == "go2rtc.driveway" for c in cams)

        for _ in range(200):
            if await listed():
                break
            await hass.async_block_till_done()
        assert await listed()
        await api.request_access(incident["incident_id"], [(iid, "go2rtc.driveway")], scope="live")
        await until(lambda: manager.pending, "pending request")
        request_id = next(iter(manager.pending))
        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": request_id}, blocking=True
        )
        grant = await api.wait_for_grant(incident["incident_id"], "go2rtc.driveway", "live")
        session = await api.open_session(grant["grant_id"], "go2rtc.driveway", fps=5)
        frames = await api.read_mjpeg(session["session_id"], count=2)
        assert [Image.open(io.BytesIO(f)).size for f in frames] == [(96, 54), (96, 54)]
        assert state.frame_requests >= 2
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_go2rtc_set_up_again_keeps_password_and_swaps_streams(
    hass: HomeAssistant, fake_hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    """Setting the go2rtc server up again: an empty password field keeps the stored one, an
    ONVIF camera that cannot be reached keeps snapshots (no go2rtc stream), an unticked
    stream's camera is unshared, and two streams with the same slug get two cameras."""
    caplog.set_level(logging.INFO)
    state = StandinState(
        frames=frame_sequence(64, 36, 1),
        streams={
            "driveway": "rtsp://10.0.0.5/main",
            "porch": "rtsp://10.0.0.6/main",
            "back yard": "rtsp://10.0.0.7/main",
            "back_yard": "rtsp://10.0.0.8/main",
        },
        username=GO2RTC_USER,
        password=GO2RTC_PASS,
    )
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    async with serve_go2rtc(state) as url:
        gone = {
            "type": "onvif",
            "name": "Gone",
            "host": "127.0.0.1",
            "port": 9,  # nothing listens there
            "username": "admin",
            "password": CAM_PASS,
            "profile": "Profile_1",
            "go2rtc_stream": "connect_share_gone",
        }
        sources = {
            "go2rtc.driveway": {"type": "go2rtc", "stream": "driveway", "name": "driveway"},
            "go2rtc.back_yard": {"type": "go2rtc", "stream": "back yard", "name": "back yard"},
            "onvif.gone": gone,
        }
        await update_options(hass, entry, _source_options(url, sources))

        result = await _options_init(hass, entry, other_cameras=list(sources), add_source="go2rtc")
        assert result["step_id"] == "go2rtc"
        result = await _configure(hass, result, {"url": url, "username": GO2RTC_USER})
        assert result["step_id"] == "go2rtc_streams", result  # the stored password worked
        schema = result["data_schema"].schema
        default = next(k for k in schema if k == "streams").default()
        assert sorted(default) == ["back yard", "driveway"]
        result = await _configure(hass, result, {"streams": ["porch", "back yard", "back_yard"]})
        cameras_asked = []
        while result["type"] == "form" and result["step_id"] == "camera":
            cameras_asked.append(result["description_placeholders"]["camera"])
            result = await _configure(hass, result, RULES)
        assert result["type"] == "create_entry", result
        await hass.async_block_till_done()

    assert "driveway" not in cameras_asked
    opts = entry.options
    assert opts["go2rtc"]["password"] == GO2RTC_PASS
    assert "go2rtc.driveway" not in opts["sources"] and "go2rtc.driveway" not in opts["cameras"]
    streams = {
        spec["stream"]: cid for cid, spec in opts["sources"].items() if spec["type"] == "go2rtc"
    }
    assert set(streams) == {"porch", "back yard", "back_yard"}
    assert streams["back yard"] == "go2rtc.back_yard"
    assert streams["back_yard"] not in (streams["back yard"], streams["porch"])
    assert set(opts["cameras"]) == {"camera.front", "onvif.gone", *streams.values()}
    # The unreachable ONVIF camera is not registered in go2rtc; it keeps snapshots.
    assert opts["sources"]["onvif.gone"]["go2rtc_stream"] is None
    assert "connect_share_gone" not in state.streams
    assert "ONVIF camera 127.0.0.1 not registered in go2rtc" in caplog.text
    assert _logged(caplog, CAM_PASS) == [] and _logged(caplog, GO2RTC_PASS) == []
    assert await hass.config_entries.async_unload(entry.entry_id)
