"""How sessions end when something goes wrong, on a real Home Assistant test instance with real
camera entities and the protocol-faithful fake hub: a camera that fails or answers garbage, a
pause or a stop while a snapshot is being grabbed, the hub going away mid-grab or mid-stream,
masks that cannot be read. In every case nothing leaves the house, the local log records
the real reason and the hub hears only a neutral end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.protocol.messages import (
    NEUTRAL_REASONS,
    SessionOpen,
    new_session_id,
)

from .conftest import StillCamera, until
from .fake_hub import FakeHub
from .helpers import audit_actions
from .test_resident_promises import _approved, _setup, fast_backoff  # noqa: F401

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras", "config_dir")


def _closed(entry: Any, session_id: str) -> dict[str, Any]:
    (closed,) = [
        e.detail
        for e in entry.runtime_data.audit.entries
        if e.action == "session_closed" and e.detail["session_id"] == session_id
    ]
    return closed


def _refused(entry: Any, session_id: str) -> dict[str, Any]:
    (refused,) = [
        e.detail
        for e in entry.runtime_data.audit.entries
        if e.action == "session_refused" and e.detail["session_id"] == session_id
    ]
    return refused


class HeldCamera:
    """Makes a test camera wait inside its image call until released (a slow camera), so
    the test can act while a frame is being grabbed."""

    def __init__(self, camera: StillCamera) -> None:
        self.camera = camera
        self.grabbing = asyncio.Event()
        self.release = asyncio.Event()
        self.original = camera.async_camera_image
        camera.async_camera_image = self.image  # type: ignore[method-assign]

    async def image(self, width: int | None = None, height: int | None = None) -> bytes:
        self.grabbing.set()
        await self.release.wait()
        return self.camera.image


async def _open(hub: FakeHub, token: str, scope: str) -> str:
    session_id = new_session_id()
    await hub.send(
        SessionOpen(session_id=session_id, token=token, camera_id="camera.front", scope=scope)
    )
    return session_id


async def _hub_close(hub: FakeHub, session_id: str) -> Any:
    return await hub.wait_for("session_close", lambda m: m.session_id == session_id)


@pytest.mark.parametrize(
    ("failure", "why"),
    [
        ("raises", "the camera integration raises"),
        ("garbage", "the camera answers something that is not a JPEG"),
    ],
)
async def test_snapshot_from_a_failing_camera_sends_nothing(
    hass: HomeAssistant, fake_hub: FakeHub, cameras: dict[str, StillCamera], failure: str, why: str
) -> None:
    entry = await _setup(hass, fake_hub)
    _incident, _request, token = await _approved(hass, fake_hub, entry, scope="snapshot")
    front = cameras["camera.front"]
    if failure == "raises":

        async def broken(width: int | None = None, height: int | None = None) -> bytes:
            raise HomeAssistantError("camera offline")

        front.async_camera_image = broken  # type: ignore[method-assign]
    else:
        front.image = b"<html>login</html>"

    session_id = await _open(fake_hub, token, "snapshot")
    closed = await _hub_close(fake_hub, session_id)
    assert closed.reason in NEUTRAL_REASONS and closed.frames_sent == 0, why
    assert fake_hub.binary_frames == []
    local = _closed(entry, session_id)
    assert local["reason"] == "source_error" and local["frames_sent"] == 0
    assert session_id not in entry.runtime_data.sessions


@pytest.mark.parametrize("action", ["pause", "stop"])
async def test_pause_or_stop_while_the_snapshot_is_grabbed_keeps_it_home(
    hass: HomeAssistant, fake_hub: FakeHub, cameras: dict[str, StillCamera], action: str
) -> None:
    """The resident pauses sharing (or stops the session in the panel) while the camera is
    still answering: the picture it then gives never leaves."""
    entry = await _setup(hass, fake_hub)
    _incident, _request, token = await _approved(hass, fake_hub, entry, scope="snapshot")
    held = HeldCamera(cameras["camera.front"])
    session_id = await _open(fake_hub, token, "snapshot")
    await fake_hub.wait_for("session_started", lambda m: m.session_id == session_id)
    async with asyncio.timeout(10):
        await held.grabbing.wait()

    if action == "pause":
        await hass.services.async_call(DOMAIN, "pause_sharing", {}, blocking=True)
    else:
        session = entry.runtime_data.sessions[session_id]
        await session.stop("stopped_by_resident")
    held.release.set()
    closed = await _hub_close(fake_hub, session_id)
    await hass.async_block_till_done()
    assert closed.reason in NEUTRAL_REASONS and closed.frames_sent == 0
    assert fake_hub.binary_frames == []
    local = _closed(entry, session_id)
    assert local["frames_sent"] == 0
    assert local["reason"] != "snapshot_sent"
    if action == "stop":
        assert local["reason"] == "stopped_by_resident"


async def test_hub_gone_mid_grab_and_mid_stream(
    hass: HomeAssistant, fake_hub: FakeHub, cameras: dict[str, StillCamera]
) -> None:
    """The hub's socket drops while a snapshot is grabbed and while a live view runs: both
    end at once, locally logged as such; after the reconnect the hub hears both ends."""
    entry = await _setup(hass, fake_hub)
    _i, _r, live_token = await _approved(hass, fake_hub, entry, scope="live")
    _i2, _r2, snap_token = await _approved(hass, fake_hub, entry, scope="snapshot")
    live_id = await _open(fake_hub, live_token, "live")
    await fake_hub.wait_for("session_started", lambda m: m.session_id == live_id)
    await fake_hub.wait_frames(2)

    held = HeldCamera(cameras["camera.front"])
    snap_id = await _open(fake_hub, snap_token, "snapshot")
    await fake_hub.wait_for("session_started", lambda m: m.session_id == snap_id)
    async with asyncio.timeout(10):
        await held.grabbing.wait()

    connections = fake_hub.connections
    assert fake_hub.ws is not None
    await fake_hub.ws.close()
    await until(lambda: not entry.runtime_data.sessions, "both sessions ended")
    frames_at_drop = len(fake_hub.binary_frames)
    held.release.set()
    await until(lambda: fake_hub.connections > connections, "reconnected")
    for session_id in (live_id, snap_id):
        closed = await _hub_close(fake_hub, session_id)
        assert closed.reason in NEUTRAL_REASONS
        assert _closed(entry, session_id)["reason"] == "hub_disconnected"
    assert _closed(entry, snap_id)["frames_sent"] == 0
    assert _closed(entry, live_id)["frames_sent"] >= 2
    await hass.async_block_till_done()
    assert len(fake_hub.binary_frames) == frames_at_drop  # nothing more after the drop


async def test_unreadable_masks_turn_the_camera_off(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """Masks that cannot be parsed (an edited or damaged options file): deny by default. The
    camera counts as off, so even a hub-signed token opens nothing and no picture leaves."""
    entry = await _setup(hass, fake_hub, masks="[[[0.1, 0.1], [0.9")
    assert entry.runtime_data.cameras["camera.front"].mode == "off"
    token = fake_hub.token(fake_hub.incident(), ["camera.front"], scope="live")
    session_id = await _open(fake_hub, token, "live")
    closed = await _hub_close(fake_hub, session_id)
    assert closed.reason in NEUTRAL_REASONS and closed.frames_sent == 0
    assert _refused(entry, session_id)["camera"] == "camera.front"
    assert "session_started" not in audit_actions(entry)
    assert fake_hub.binary_frames == []
