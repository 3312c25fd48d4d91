"""The config-flow helpers against the go2rtc and ONVIF stand-ins."""

from __future__ import annotations

import pytest

from custom_components.connect_share.media.discovery import check_go2rtc, flow_error, read_onvif
from custom_components.connect_share.media.go2rtc import Go2rtcClient
from custom_components.connect_share.media.sources import SourceError

from .frames import frame_sequence, photo_jpeg
from .go2rtc_standin import StandinState
from .go2rtc_standin import serve as serve_go2rtc
from .onvif_standin import OnvifState
from .onvif_standin import serve as serve_onvif


async def test_check_go2rtc() -> None:
    state = StandinState(frames=frame_sequence(64, 36, 1), streams={"b": "x", "a": "y"})
    async with serve_go2rtc(state) as url:
        server = await check_go2rtc(url + "/")
        assert (server.url, server.version, server.streams) == (url, "1.9.14", ["a", "b"])
        state.username, state.password = "u", "p"
        with pytest.raises(SourceError) as err:
            await check_go2rtc(url)
        assert flow_error(err.value) == "invalid_auth"
        assert (await check_go2rtc(url, username="u", password="p")).version == "1.9.14"


async def test_check_go2rtc_unreachable() -> None:
    with pytest.raises(SourceError) as err:
        await check_go2rtc("http://127.0.0.1:9", timeout=2)
    assert flow_error(err.value) == "cannot_connect"


async def test_read_onvif_and_register() -> None:
    cam = OnvifState(snapshot=photo_jpeg("squat.bmp", 320, 240))
    go2rtc_state = StandinState(frames=frame_sequence(64, 36, 1))
    async with serve_onvif(cam) as (host, port), serve_go2rtc(go2rtc_state) as url:
        client = Go2rtcClient(url)
        try:
            device = await read_onvif(
                host,
                port,
                cam.username,
                cam.password,
                profile_token="Profile_2",
                register_as="porch",
                go2rtc=client,
            )
            with pytest.raises(SourceError) as err:
                await read_onvif(host, port, cam.username, cam.password, profile_token="nope")
            assert flow_error(err.value) == "not_found"
            with pytest.raises(SourceError) as err:
                await read_onvif(host, port, cam.username, "wrong")
            assert flow_error(err.value) == "invalid_auth"
        finally:
            await client.close()
    assert device.info.model == "DS-2CD2043G2-I"
    assert [p.token for p in device.profiles] == ["Profile_1", "Profile_2"]
    assert "/Channels/102" in device.stream_uri
    assert device.snapshot_uri is not None and device.snapshot_uri.endswith("Profile_2")
    assert go2rtc_state.streams["porch"].startswith("rtsp://admin:cam-pass-1@")


def test_flow_error_unknown() -> None:
    assert flow_error(SourceError("weird", "x")) == "unknown"
