"""Where a shared camera's frames come from: an HA camera entity, a go2rtc stream or ONVIF.

Options layout (the options flow writes it, ``source_flow.py``):

- ``options["go2rtc"]``: ``{"url", "username", "password"}``, the resident's go2rtc server.
- ``options["sources"][camera_id]``: how a camera that is not an HA entity is reached:
  ``{"type": "go2rtc", "stream", "name"}`` or ``{"type": "onvif", "host", "port",
  "username", "password", "profile", "name", "go2rtc_stream"}`` (``go2rtc_stream`` is set
  when the camera's RTSP stream was registered in go2rtc; live view then goes through it).
- ``options["cameras"][camera_id]``: the sharing rules, the same for every kind of camera.

Camera ids: entity ids (``camera.front``), ``go2rtc.<stream>``, ``onvif.<name>``.
Passwords live only in the entry options: never logged, redacted in diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

from homeassistant.components.camera import async_get_image
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .media.go2rtc import Go2rtcClient, Go2rtcSource
from .media.onvif_camera import OnvifCamera
from .media.sources import DEFAULT_TIMEOUT, CallableSource, CameraSource, SourceError

OPT_GO2RTC = "go2rtc"
OPT_SOURCES = "sources"
KIND_GO2RTC = "go2rtc"
KIND_ONVIF = "onvif"
GO2RTC_PREFIX = "go2rtc."
ONVIF_PREFIX = "onvif."
# Streams this integration registers in go2rtc for ONVIF cameras.
GO2RTC_STREAM_PREFIX = "connect_share_"


def slug(text: str) -> str:
    """A camera-id-safe slug (the hub accepts ``[A-Za-z0-9._:@/-]``)."""
    out = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    return out[:60] or "camera"


def go2rtc_camera_id(stream: str) -> str:
    return GO2RTC_PREFIX + slug(stream)


def onvif_camera_id(name: str) -> str:
    return ONVIF_PREFIX + slug(name)


def source_spec(options: Mapping[str, Any], camera_id: str) -> dict[str, Any] | None:
    """The stored source of a non-entity camera, or None for an HA camera entity."""
    spec = (options.get(OPT_SOURCES) or {}).get(camera_id)
    return dict(spec) if isinstance(spec, Mapping) else None


def camera_name(hass: HomeAssistant, options: Mapping[str, Any], camera_id: str) -> str:
    spec = source_spec(options, camera_id)
    if spec is not None:
        return str(spec.get("name") or camera_id)
    state = hass.states.get(camera_id)
    return state.name if state else camera_id


def camera_available(hass: HomeAssistant, options: Mapping[str, Any], camera_id: str) -> bool:
    """Can a source be built at all? (Whether the camera answers shows on the first frame.)"""
    spec = source_spec(options, camera_id)
    if spec is None:
        return camera_id.startswith("camera.") and hass.states.get(camera_id) is not None
    if spec.get("type") == KIND_GO2RTC:
        return bool(go2rtc_settings(options)) and bool(spec.get("stream"))
    return spec.get("type") == KIND_ONVIF and bool(spec.get("host"))


def go2rtc_settings(options: Mapping[str, Any]) -> dict[str, Any] | None:
    server = options.get(OPT_GO2RTC)
    if not isinstance(server, Mapping) or not server.get("url"):
        return None
    return dict(server)


def go2rtc_client(
    hass: HomeAssistant, server: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> Go2rtcClient:
    """A client on Home Assistant's shared HTTP session (closing it leaves that open)."""
    return Go2rtcClient(
        str(server["url"]),
        session=async_get_clientsession(hass),
        username=server.get("username") or None,
        password=server.get("password") or None,
        timeout=timeout,
    )


class LazyOnvifSource:
    """An ONVIF camera's snapshots, connecting on the first frame (and again after an error)."""

    def __init__(self, camera: OnvifCamera, token: str | None, name: str) -> None:
        self.camera = camera
        self.token = token
        self.name = name
        self._connected = False

    async def snapshot(self) -> bytes:
        if not self._connected:
            await self.camera.connect()
            self._connected = True
        try:
            return await self.camera.snapshot(self.token)
        except SourceError:
            await self.close()
            raise

    def mjpeg(self) -> AsyncIterator[bytes] | None:
        return None

    async def close(self) -> None:
        self._connected = False
        await self.camera.close()


def build_source(
    hass: HomeAssistant,
    options: Mapping[str, Any],
    camera_id: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> CameraSource:
    """The media source for a shared camera. Raises ``SourceError`` if it cannot exist."""
    spec = source_spec(options, camera_id)
    if spec is None:

        async def fetch() -> bytes:
            return (await async_get_image(hass, camera_id, timeout=int(timeout))).content

        return CallableSource(camera_id, fetch, timeout=timeout)
    server = go2rtc_settings(options)
    kind = spec.get("type")
    if kind == KIND_GO2RTC:
        if server is None:
            raise SourceError("unavailable", f"{camera_id}: no go2rtc server configured")
        return Go2rtcSource(go2rtc_client(hass, server, timeout=timeout), str(spec["stream"]))
    if kind == KIND_ONVIF:
        if server is not None and spec.get("go2rtc_stream"):
            client = go2rtc_client(hass, server, timeout=timeout)
            return Go2rtcSource(client, str(spec["go2rtc_stream"]))
        camera = OnvifCamera(
            str(spec["host"]),
            int(spec.get("port") or 80),
            spec.get("username") or None,
            spec.get("password") or None,
            timeout=timeout,
        )
        return LazyOnvifSource(camera, spec.get("profile") or None, f"onvif:{spec['host']}")
    raise SourceError("unsupported", f"{camera_id}: unknown source type {kind!r}")


def uses_stream(source: CameraSource) -> bool:
    """go2rtc gives a continuous MJPEG stream; entities and ONVIF give snapshots."""
    return isinstance(source, Go2rtcSource)


async def async_snapshot(
    hass: HomeAssistant,
    options: Mapping[str, Any],
    camera_id: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """One checked JPEG from any shared camera (entity, go2rtc or ONVIF), e.g. for detection.
    Raises ``SourceError``."""
    if not camera_available(hass, options, camera_id):
        raise SourceError("unavailable", f"{camera_id}: not available")
    source = build_source(hass, options, camera_id, timeout=timeout)
    try:
        return await source.snapshot()
    finally:
        await source.close()
