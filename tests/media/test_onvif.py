"""ONVIF through the real onvif-zeep-async client against a SOAP stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from custom_components.connect_share.media.go2rtc import Go2rtcClient
from custom_components.connect_share.media.onvif_camera import OnvifCamera, OnvifSource
from custom_components.connect_share.media.sources import SourceError

from .frames import frame_sequence, photo_jpeg
from .go2rtc_standin import StandinState
from .go2rtc_standin import serve as serve_go2rtc
from .onvif_standin import OnvifState, serve

SNAPSHOT = photo_jpeg("grace_hopper.bmp", 640, 480)


@pytest.fixture
async def camera_state() -> AsyncIterator[tuple[OnvifState, str, int]]:
    state = OnvifState(snapshot=SNAPSHOT)
    async with serve(state) as (host, port):
        yield state, host, port


@pytest.fixture
async def camera(camera_state: tuple[OnvifState, str, int]) -> AsyncIterator[OnvifCamera]:
    state, host, port = camera_state
    cam = OnvifCamera(host, port, state.username, state.password, timeout=5)
    yield cam
    await cam.close()


async def test_device_info_and_profiles(camera: OnvifCamera) -> None:
    info = await camera.connect()
    assert info.manufacturer == "HIKVISION"
    assert info.model == "DS-2CD2043G2-I"
    profiles = await camera.profiles()
    assert [(p.token, p.width, p.height, p.encoding) for p in profiles] == [
        ("Profile_1", 2560, 1440, "H264"),
        ("Profile_2", 640, 360, "H264"),
    ]
    assert profiles[1].fps == 15


async def test_stream_and_snapshot_uri(camera: OnvifCamera) -> None:
    await camera.connect()
    uri = await camera.stream_uri()
    assert uri.startswith("rtsp://127.0.0.1:554/Streaming/Channels/101")
    assert "profile=Profile_1" in uri
    assert (await camera.stream_uri("Profile_2")).count("/Channels/102") == 1
    snap = await camera.snapshot_uri("Profile_2")
    assert snap is not None and snap.endswith("/onvif-http/snapshot?Profile_2")


async def test_snapshot_with_digest_auth(
    camera_state: tuple[OnvifState, str, int], camera: OnvifCamera
) -> None:
    await camera.connect()
    source = OnvifSource(camera)
    assert await source.snapshot() == SNAPSHOT
    assert camera_state[0].snapshot_requests == 1


async def test_wrong_password_is_an_auth_error(camera_state: tuple[OnvifState, str, int]) -> None:
    state, host, port = camera_state
    cam = OnvifCamera(host, port, state.username, "wrong", timeout=5)
    try:
        with pytest.raises(SourceError) as err:
            await cam.connect()
        assert err.value.code == "auth"
    finally:
        await cam.close()


async def test_register_in_go2rtc(camera: OnvifCamera) -> None:
    await camera.connect()
    go2rtc_state = StandinState(frames=frame_sequence(320, 180, 1))
    async with serve_go2rtc(go2rtc_state) as url:
        client = Go2rtcClient(url, timeout=5)
        try:
            src = await camera.register_in_go2rtc(client, "front_door")
        finally:
            await client.close()
    assert src.startswith("rtsp://admin:cam-pass-1@127.0.0.1:554/Streaming/Channels/101")
    assert go2rtc_state.streams == {"front_door": src}


def test_credentials_are_quoted() -> None:
    cam = OnvifCamera("h", 80, "ad min", "p@ss:w/rd")
    assert (
        cam.stream_source_url("rtsp://10.0.0.2/s") == "rtsp://ad%20min:p%40ss%3Aw%2Frd@10.0.0.2/s"
    )
    assert cam.stream_source_url("rtsp://u:p@10.0.0.2:554/s") == "rtsp://u:p@10.0.0.2:554/s"


async def test_hanging_camera_times_out() -> None:
    release = asyncio.Event()

    async def hang(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await release.wait()  # accepts the connection, never answers
        w.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cam = OnvifCamera("127.0.0.1", port, "admin", "x", timeout=0.3)
    try:
        with pytest.raises(SourceError) as err:
            await cam.connect()
        assert err.value.code == "timeout"
    finally:
        await cam.close()
        release.set()
        server.close()
        await server.wait_closed()


async def test_not_connected() -> None:
    with pytest.raises(SourceError, match="connect"):
        await OnvifCamera("127.0.0.1", 1, None, None).profiles()
