"""go2rtc client and source against the stand-in; the stand-in against the OpenAPI file."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from custom_components.connect_share.media.go2rtc import (
    Go2rtcClient,
    Go2rtcSource,
    parse_version,
)
from custom_components.connect_share.media.jpeg import probe
from custom_components.connect_share.media.sources import SourceError

from .frames import frame_sequence
from .go2rtc_standin import (
    AUTH_STATUS,
    ROUTES,
    UNDOCUMENTED_STATUSES,
    StandinState,
    make_app,
    serve,
)


@pytest.fixture
def spec(shared_dir: Path) -> dict:
    return yaml.safe_load((shared_dir / "reference" / "go2rtc-openapi.yaml").read_text())


def _required_params(spec: dict, op: dict, spec_path: str) -> set[str]:
    """Required query parameters, counting go2rtc's ``?src={src}`` path templates as query."""
    names = set(re.findall(r"[?&](\w+)=\{\w+\}", spec_path))
    for param in op.get("parameters", []):
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param.get("required") and param["in"] in ("query", "path"):
            names.add(param["name"])
    return names


def test_go2rtc_standin_matches_spec(spec: dict) -> None:
    paths = spec["paths"]
    for route in ROUTES:
        assert route.spec_path in paths, f"{route.spec_path} is not in the OpenAPI file"
        op = paths[route.spec_path].get(route.method.lower())
        assert op is not None, f"{route.method} {route.spec_path} is not in the OpenAPI file"
        assert _required_params(spec, op, route.spec_path) == set(route.required_query), route
        documented = {str(code) for code in op["responses"]}
        for status in route.statuses:
            if "default" in documented or str(status) in documented:
                continue
            assert (route.method, route.spec_path, status) in UNDOCUMENTED_STATUSES, (
                f"{route.method} {route.spec_path} returns {status}, not in the spec"
            )
    # 401 is the stand-in's only status outside ROUTES, from basic auth.
    assert AUTH_STATUS == 401
    # The router serves exactly the routes listed (nothing undeclared).
    served = {
        (r.method, r.resource.canonical)
        for r in make_app(StandinState(frames=[b""])).router.routes()
        if r.method != "HEAD"
    }
    declared = {(r.method, r.spec_path.split("?", 1)[0]) for r in ROUTES}
    assert served == declared


@pytest.fixture
async def standin() -> AsyncIterator[tuple[StandinState, str]]:
    state = StandinState(frames=frame_sequence(640, 360), streams={"front": "rtsp://cam/1"})
    async with serve(state) as url:
        yield state, url


@pytest.fixture
async def client(standin: tuple[StandinState, str]) -> AsyncIterator[Go2rtcClient]:
    c = Go2rtcClient(standin[1], timeout=2)
    yield c
    await c.close()


async def test_version_and_streams(client: Go2rtcClient) -> None:
    assert await client.check_version() == "1.9.14"
    assert set(await client.streams()) == {"front"}


async def test_old_version_refused(client: Go2rtcClient) -> None:
    with pytest.raises(SourceError, match="too old") as err:
        await client.check_version((2, 0))
    assert err.value.code == "unsupported"


def test_parse_version() -> None:
    assert parse_version("1.9.14") == (1, 9, 14)
    assert parse_version("v1.8.5-beta") == (1, 8, 5)
    with pytest.raises(SourceError):
        parse_version("dev")


async def test_add_stream(standin: tuple[StandinState, str], client: Go2rtcClient) -> None:
    await client.add_stream("garage", "rtsp://user:pw@10.0.0.9/stream1")
    assert standin[0].streams["garage"] == "rtsp://user:pw@10.0.0.9/stream1"
    assert "garage" in await client.streams()


async def test_frame_jpeg_is_a_real_jpeg(client: Go2rtcClient) -> None:
    data = await client.frame_jpeg("front")
    info = probe(data)
    assert (info.width, info.height) == (640, 360)


async def test_unknown_stream_is_not_found(client: Go2rtcClient) -> None:
    with pytest.raises(SourceError) as err:
        await client.frame_jpeg("nope")
    assert err.value.code == "not_found"


async def test_mjpeg_frames(standin: tuple[StandinState, str], client: Go2rtcClient) -> None:
    frames = []
    stream = client.mjpeg("front")
    async for frame in stream:
        frames.append(frame)
        if len(frames) == 5:
            break
    await stream.aclose()
    expected = standin[0].frames
    assert frames == [expected[i % len(expected)] for i in range(5)]


async def test_webrtc_answer(client: Go2rtcClient) -> None:
    answer = await client.webrtc_answer("front", "v=0\r\n")
    assert answer.startswith("v=0")


async def test_basic_auth(standin: tuple[StandinState, str]) -> None:
    state, url = standin
    state.username, state.password = "admin", "secret"
    wrong = Go2rtcClient(url, username="admin", password="nope", timeout=2)
    right = Go2rtcClient(url, username="admin", password="secret", timeout=2)
    try:
        with pytest.raises(SourceError) as err:
            await wrong.version()
        assert err.value.code == "auth"
        assert await right.version() == "1.9.14"
    finally:
        await wrong.close()
        await right.close()


async def test_not_go2rtc(standin: tuple[StandinState, str]) -> None:
    c = Go2rtcClient(standin[1] + "/api/frame.jpeg?src=front&x=", timeout=2)
    try:
        with pytest.raises(SourceError):
            await c.info()
    finally:
        await c.close()


async def test_unreachable_server() -> None:
    c = Go2rtcClient("http://127.0.0.1:9", timeout=2)
    try:
        with pytest.raises(SourceError) as err:
            await c.version()
        assert err.value.code == "unavailable"
    finally:
        await c.close()


# --- bad input from the source -----------------------------------------------------------


async def test_hanging_source_times_out(standin: tuple[StandinState, str]) -> None:
    state, url = standin
    state.behaviour["front"] = "hang"
    c = Go2rtcClient(url, timeout=0.3)
    source = Go2rtcSource(c, "front", owns_client=True)
    try:
        with pytest.raises(SourceError) as err:
            await source.snapshot()
        assert err.value.code == "timeout"
        stream = source.mjpeg()
        assert stream is not None
        with pytest.raises(SourceError) as err:
            await anext(stream)
        assert err.value.code == "timeout"
        await stream.aclose()
    finally:
        await source.close()


@pytest.mark.parametrize(("behaviour", "code"), [("garbage", "bad_image"), ("huge", "too_large")])
async def test_bad_frames_are_clear_errors(
    standin: tuple[StandinState, str], client: Go2rtcClient, behaviour: str, code: str
) -> None:
    state, _ = standin
    state.behaviour["front"] = behaviour
    source = Go2rtcSource(client, "front")
    with pytest.raises(SourceError) as err:
        await source.snapshot()
    assert err.value.code == code
    stream = source.mjpeg()
    assert stream is not None
    with pytest.raises(SourceError) as err:
        await anext(stream)
    assert err.value.code == code
    await stream.aclose()
