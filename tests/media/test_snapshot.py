"""Snapshots go through the rule check and the masks; WebRTC only without masks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from custom_components.connect_share.media.go2rtc import Go2rtcClient, Go2rtcSource
from custom_components.connect_share.media.jpeg import decode
from custom_components.connect_share.media.masks import parse_masks
from custom_components.connect_share.media.snapshot import NotAllowed, take_snapshot, webrtc_answer
from custom_components.connect_share.media.sources import CallableSource, SourceError

from .frames import frame_sequence, huge_header_jpeg
from .go2rtc_standin import StandinState, serve

TOP_HALF = parse_masks("[[[0,0],[1,0],[1,0.5],[0,0.5]]]")


@pytest.fixture
async def go2rtc() -> AsyncIterator[tuple[StandinState, Go2rtcClient]]:
    state = StandinState(frames=frame_sequence(640, 360, 2), streams={"front": "rtsp://x"})
    async with serve(state) as url:
        client = Go2rtcClient(url, timeout=5)
        yield state, client
        await client.close()


async def test_snapshot_is_masked(go2rtc: tuple[StandinState, Go2rtcClient]) -> None:
    state, client = go2rtc
    out = await take_snapshot(Go2rtcSource(client, "front"), TOP_HALF, allowed=lambda: True)
    rgb = decode(out)
    assert rgb[: 180 - 16].max() <= 3
    assert out not in state.frames


async def test_snapshot_refused_before_grabbing(go2rtc: tuple[StandinState, Go2rtcClient]) -> None:
    state, client = go2rtc
    with pytest.raises(NotAllowed, match="paused"):
        await take_snapshot(Go2rtcSource(client, "front"), (), allowed=lambda: "paused")
    assert state.frame_requests == 0


async def test_pause_while_grabbing_drops_the_snapshot() -> None:
    verdicts = iter([True, False])
    gate = asyncio.Event()

    async def fetch() -> bytes:
        gate.set()
        return frame_sequence(64, 36, 1)[0]

    with pytest.raises(NotAllowed, match="rule_denied"):
        await take_snapshot(CallableSource("c", fetch), (), allowed=lambda: next(verdicts))
    assert gate.is_set()


async def test_bad_snapshot_is_a_source_error() -> None:
    async def fetch() -> bytes:
        return huge_header_jpeg()

    with pytest.raises(SourceError) as err:
        await take_snapshot(CallableSource("c", fetch), TOP_HALF, allowed=lambda: True)
    assert err.value.code == "too_large"


async def test_webrtc_only_without_masks(go2rtc: tuple[StandinState, Go2rtcClient]) -> None:
    _, client = go2rtc
    assert (await webrtc_answer(client, "front", (), "v=0\r\n")).startswith("v=0")
    with pytest.raises(NotAllowed, match="masked_camera"):
        await webrtc_answer(client, "front", TOP_HALF, "v=0\r\n")
