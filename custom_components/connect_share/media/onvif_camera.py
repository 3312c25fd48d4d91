"""ONVIF cameras through ``onvif-zeep-async`` (the client Home Assistant core uses).

Device information, media profiles, stream and snapshot URIs, snapshots over HTTP (digest,
falling back to basic auth), and registering the camera's RTSP stream in go2rtc so the
live path can use go2rtc's MJPEG output. Every call has a timeout and fails as
``SourceError``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import onvif
import zeep.exceptions
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError

from .go2rtc import Go2rtcClient
from .sources import DEFAULT_TIMEOUT, SourceError, check_jpeg, with_timeout

# The package's default WSDL path points outside the package; the files ship inside it
# (Home Assistant core passes this same directory).
WSDL_DIR = os.path.join(os.path.dirname(onvif.__file__), "wsdl")


@dataclass(frozen=True)
class OnvifDeviceInfo:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str


@dataclass(frozen=True)
class OnvifProfile:
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    fps: int | None


def _fault_code(err: zeep.exceptions.Fault) -> str:
    text = f"{err.code} {err.subcodes} {err.message}".lower()
    return "auth" if "notauthorized" in text or "not authorized" in text else "unavailable"


class OnvifCamera:
    """One ONVIF device. Call ``connect()`` first; ``close()`` when done."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.timeout = timeout
        # no_cache: zeep's SQLite cache would write to the user's cache directory.
        self._device: ONVIFCamera | None = None
        self._profiles: list[OnvifProfile] | None = None

    async def _call[T](self, awaitable: Awaitable[T], what: str) -> T:
        where = f"ONVIF {self.host}:{self.port} {what}"
        try:
            return await with_timeout(awaitable, self.timeout, where)
        except SourceError:
            raise
        except zeep.exceptions.Fault as err:
            raise SourceError(_fault_code(err), f"{where}: {err.message}") from err
        except ONVIFAuthError as err:
            raise SourceError("auth", f"{where}: {err.reason}") from err
        except ONVIFTimeoutError as err:
            raise SourceError("timeout", f"{where}: {err.reason}") from err
        except ONVIFError as err:
            raise SourceError("unavailable", f"{where}: {err.reason}") from err
        except (httpx.HTTPError, zeep.exceptions.Error, OSError) as err:
            raise SourceError("unavailable", f"{where}: {err}") from err

    @property
    def device(self) -> ONVIFCamera:
        if self._device is None:
            raise SourceError("unavailable", "ONVIF camera not connected: call connect()")
        return self._device

    async def connect(self) -> OnvifDeviceInfo:
        """Discover the service addresses and read the device information."""
        if self._device is None:
            self._device = ONVIFCamera(
                self.host, self.port, self.username, self.password, WSDL_DIR, no_cache=True
            )
        await self._call(self._device.update_xaddrs(), "GetCapabilities")
        return await self.device_info()

    async def device_info(self) -> OnvifDeviceInfo:
        async def go() -> Any:
            service = await self.device.create_devicemgmt_service()
            return await service.GetDeviceInformation()

        info = await self._call(go(), "GetDeviceInformation")
        return OnvifDeviceInfo(
            manufacturer=str(info.Manufacturer or ""),
            model=str(info.Model or ""),
            firmware=str(info.FirmwareVersion or ""),
            serial=str(info.SerialNumber or ""),
            hardware_id=str(info.HardwareId or ""),
        )

    async def profiles(self) -> list[OnvifProfile]:
        async def go() -> Any:
            media = await self.device.create_media_service()
            return await media.GetProfiles()

        raw = await self._call(go(), "GetProfiles")
        out = []
        for p in raw or []:
            enc = getattr(p, "VideoEncoderConfiguration", None)
            res = getattr(enc, "Resolution", None) if enc is not None else None
            rate = getattr(enc, "RateControl", None) if enc is not None else None
            out.append(
                OnvifProfile(
                    token=str(p.token),
                    name=str(p.Name or p.token),
                    encoding=str(enc.Encoding) if enc is not None else None,
                    width=int(res.Width) if res is not None else None,
                    height=int(res.Height) if res is not None else None,
                    fps=int(rate.FrameRateLimit) if rate is not None else None,
                )
            )
        if not out:
            raise SourceError("unsupported", f"ONVIF {self.host}: the camera has no profiles")
        self._profiles = out
        return out

    async def _token(self, token: str | None) -> str:
        if token is not None:
            return token
        profiles = self._profiles or await self.profiles()
        return profiles[0].token

    async def stream_uri(self, token: str | None = None) -> str:
        """RTSP URI of a profile (the first one, usually the main stream, by default)."""
        token = await self._token(token)

        async def go() -> Any:
            media = await self.device.create_media_service()
            return await media.GetStreamUri(
                {
                    "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                    "ProfileToken": token,
                }
            )

        result = await self._call(go(), "GetStreamUri")
        uri = getattr(result, "Uri", None)
        if not uri:
            raise SourceError("unsupported", f"ONVIF {self.host}: no stream URI")
        return str(uri)

    async def snapshot_uri(self, token: str | None = None) -> str | None:
        token = await self._token(token)
        return await self._call(self.device.get_snapshot_uri(token), "GetSnapshotUri")

    async def snapshot(self, token: str | None = None) -> bytes:
        """A JPEG from the snapshot URI (digest auth, then basic auth for older cameras)."""
        token = await self._token(token)
        data = await self._call(self.device.get_snapshot(token), "snapshot")
        if data is None:
            data = await self._call(self.device.get_snapshot(token, basic_auth=True), "snapshot")
        if data is None:
            raise SourceError("unsupported", f"ONVIF {self.host}: no snapshot available")
        return check_jpeg(data, f"ONVIF {self.host} snapshot")

    def stream_source_url(self, stream_uri: str) -> str:
        """The RTSP URI with this camera's credentials, as go2rtc needs it."""
        parts = urlsplit(stream_uri)
        if not self.username or parts.username:
            return stream_uri
        auth = quote(self.username, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        netloc = f"{auth}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))

    async def register_in_go2rtc(
        self, client: Go2rtcClient, name: str, token: str | None = None
    ) -> str:
        """Add this camera's stream to go2rtc under ``name``; returns the source URL used."""
        src = self.stream_source_url(await self.stream_uri(token))
        await client.add_stream(name, src)
        return src

    async def close(self) -> None:
        if self._device is not None:
            with contextlib.suppress(Exception):
                await self._device.close()
            self._device = None


class OnvifSource:
    """An ONVIF camera's snapshot URI as a camera source (live view polls snapshots)."""

    def __init__(self, camera: OnvifCamera, token: str | None = None, *, owns: bool = False):
        self.camera = camera
        self.token = token
        self.name = f"onvif:{camera.host}"
        self._owns = owns

    async def snapshot(self) -> bytes:
        return await self.camera.snapshot(self.token)

    def mjpeg(self) -> AsyncIterator[bytes] | None:
        return None

    async def close(self) -> None:
        if self._owns:
            await self.camera.close()
