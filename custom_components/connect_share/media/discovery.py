"""One call per config-flow step: check a go2rtc server, read an ONVIF camera.

Both return plain data for the flow's next form and raise ``SourceError``; ``flow_error``
turns its code into the key for the flow's ``errors`` dict.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from .go2rtc import MIN_VERSION, Go2rtcClient
from .onvif_camera import OnvifCamera, OnvifDeviceInfo, OnvifProfile
from .sources import DEFAULT_TIMEOUT, SourceError

_FLOW_ERRORS = {
    "auth": "invalid_auth",
    "timeout": "cannot_connect",
    "unavailable": "cannot_connect",
    "bad_response": "not_go2rtc",
    "unsupported": "unsupported",
    "not_found": "not_found",
}


def flow_error(err: SourceError) -> str:
    """``invalid_auth``, ``cannot_connect``, ``not_go2rtc``, ``unsupported``, ``not_found``
    or ``unknown``."""
    return _FLOW_ERRORS.get(err.code, "unknown")


@dataclass(frozen=True)
class Go2rtcServer:
    url: str
    version: str
    streams: list[str]


async def check_go2rtc(
    url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    username: str | None = None,
    password: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Go2rtcServer:
    """Is this go2rtc, new enough, and what streams does it have?"""
    client = Go2rtcClient(
        url, session=session, username=username, password=password, timeout=timeout
    )
    try:
        version = await client.check_version(MIN_VERSION)
        streams = sorted(await client.streams())
    finally:
        await client.close()
    return Go2rtcServer(client.base_url, version, streams)


@dataclass(frozen=True)
class OnvifDevice:
    info: OnvifDeviceInfo
    profiles: list[OnvifProfile]
    stream_uri: str
    snapshot_uri: str | None


async def read_onvif(
    host: str,
    port: int,
    username: str | None,
    password: str | None,
    *,
    profile_token: str | None = None,
    register_as: str | None = None,
    go2rtc: Go2rtcClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> OnvifDevice:
    """Device information, profiles and URIs; with ``go2rtc`` and ``register_as`` the
    camera's stream is added to go2rtc under that name as well."""
    camera = OnvifCamera(host, port, username, password, timeout=timeout)
    try:
        info = await camera.connect()
        profiles = await camera.profiles()
        token = profile_token or profiles[0].token
        if token not in {p.token for p in profiles}:
            raise SourceError("not_found", f"ONVIF {host}: no profile {token!r}")
        stream_uri = await camera.stream_uri(token)
        snapshot_uri = await camera.snapshot_uri(token)
        if go2rtc is not None and register_as:
            await camera.register_in_go2rtc(go2rtc, register_as, token)
    finally:
        await camera.close()
    return OnvifDevice(info, profiles, stream_uri, snapshot_uri)
