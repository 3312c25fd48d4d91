"""go2rtc HTTP API client (``../shared/reference/go2rtc-openapi.yaml``) and a camera source.

Only the endpoints the media path needs: application info (version check), stream list,
add stream, ``/api/frame.jpeg``, ``/api/stream.mjpeg`` and the WebRTC offer/answer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp

from .sources import (
    DEFAULT_TIMEOUT,
    SourceError,
    boundary_from_content_type,
    check_jpeg,
    read_mjpeg,
    with_timeout,
)

DEFAULT_PORT = 1984
# /api/frame.jpeg on any stream type and the JSON WebRTC exchange are there since 1.8.
MIN_VERSION = (1, 8, 0)


def parse_version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    if not parts:
        raise SourceError("unsupported", f"go2rtc version {text!r} is not understood")
    return tuple(parts)


class Go2rtcClient:
    """Thin async client. Pass Home Assistant's shared aiohttp session, or let it own one."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        # aiohttp 3.14 deprecates BasicAuth/auth=; the header is what go2rtc checks.
        self._headers = (
            {"Authorization": aiohttp.encode_basic_auth(username, password or "")}
            if username
            else {}
        )
        self.timeout = timeout

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any
    ) -> tuple[int, str, bytes]:
        url = f"{self.base_url}{path}"
        where = f"go2rtc {method} {path}"

        async def go() -> tuple[int, str, bytes]:
            async with self._http().request(
                method, url, params=params, headers=self._headers, **kwargs
            ) as resp:
                body = await resp.content.read(16 * 1024 * 1024 + 1)
                return resp.status, resp.headers.get("Content-Type", ""), body

        try:
            status, ctype, body = await with_timeout(go(), self.timeout, where)
        except aiohttp.ClientError as err:
            raise SourceError("unavailable", f"{where}: {err}") from err
        if status == 401:
            raise SourceError("auth", f"{where}: go2rtc wants other credentials")
        if status == 404:
            raise SourceError("not_found", f"{where}: {body[:200].decode(errors='replace')}")
        if status >= 400:
            raise SourceError("unavailable", f"{where}: HTTP {status}")
        return status, ctype, body

    async def _json(self, method: str, path: str, params: dict[str, str] | None = None) -> Any:
        _, _, body = await self._request(method, path, params)
        try:
            return json.loads(body)
        except ValueError as err:
            raise SourceError("bad_response", f"go2rtc {path}: not JSON") from err

    async def info(self) -> dict[str, Any]:
        data = await self._json("GET", "/api")
        if not isinstance(data, dict) or not isinstance(data.get("version"), str):
            raise SourceError("bad_response", "go2rtc /api: no version (is this go2rtc?)")
        return data

    async def version(self) -> str:
        # info() has checked that "version" is a string.
        return cast(str, (await self.info())["version"])

    async def check_version(self, minimum: tuple[int, ...] = MIN_VERSION) -> str:
        version = await self.version()
        if parse_version(version) < minimum:
            wanted = ".".join(map(str, minimum))
            raise SourceError("unsupported", f"go2rtc {version} is too old; need {wanted}")
        return version

    async def streams(self) -> dict[str, Any]:
        data = await self._json("GET", "/api/streams")
        if data is None:  # go2rtc answers null when no stream is configured
            return {}
        if not isinstance(data, dict):
            raise SourceError("bad_response", "go2rtc /api/streams: not an object")
        return data

    async def add_stream(self, name: str, src: str) -> None:
        """PUT /api/streams?src=...&name=...: create (or replace) a stream."""
        await self._request("PUT", "/api/streams", {"src": src, "name": name})

    async def frame_jpeg(self, name: str) -> bytes:
        _, _, body = await self._request("GET", "/api/frame.jpeg", {"src": name})
        return check_jpeg(body, f"go2rtc frame {name}")

    async def mjpeg(self, name: str) -> AsyncIterator[bytes]:
        """Frames of ``/api/stream.mjpeg?src=name``; the response closes with the iterator."""
        where = f"go2rtc mjpeg {name}"
        try:
            resp = await with_timeout(
                self._http().get(
                    f"{self.base_url}/api/stream.mjpeg", params={"src": name}, headers=self._headers
                ),
                self.timeout,
                where,
            )
        except aiohttp.ClientError as err:
            raise SourceError("unavailable", f"{where}: {err}") from err
        try:
            if resp.status == 404:
                raise SourceError("not_found", f"{where}: no such stream")
            if resp.status != 200:
                raise SourceError("unavailable", f"{where}: HTTP {resp.status}")
            boundary = boundary_from_content_type(resp.headers.get("Content-Type", ""))
            async for frame in read_mjpeg(
                resp.content.iter_any(), boundary, timeout=self.timeout, where=where
            ):
                yield frame
        except aiohttp.ClientError as err:
            raise SourceError("unavailable", f"{where}: {err}") from err
        finally:
            resp.close()

    async def webrtc_answer(self, name: str, offer_sdp: str) -> str:
        """Relay an SDP offer (from the officer's browser via the hub) and return the answer."""
        _, _, body = await self._request(
            "POST", "/api/webrtc", {"src": name}, json={"type": "offer", "sdp": offer_sdp}
        )
        try:
            data = json.loads(body)
        except ValueError as err:
            raise SourceError("bad_response", "go2rtc webrtc: answer is not JSON") from err
        if not isinstance(data, dict) or data.get("type") != "answer" or "sdp" not in data:
            raise SourceError("bad_response", "go2rtc webrtc: no SDP answer")
        return str(data["sdp"])


class Go2rtcSource:
    """A go2rtc stream as a camera source (snapshots via frame.jpeg, live via MJPEG)."""

    def __init__(
        self,
        client: Go2rtcClient,
        stream: str,
        *,
        use_mjpeg: bool = True,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self._owns_client = owns_client
        self.stream = stream
        self.name = f"go2rtc:{stream}"
        self._use_mjpeg = use_mjpeg

    async def snapshot(self) -> bytes:
        return await self.client.frame_jpeg(self.stream)

    def mjpeg(self) -> AsyncIterator[bytes] | None:
        return self.client.mjpeg(self.stream) if self._use_mjpeg else None

    async def close(self) -> None:
        if self._owns_client:
            with contextlib.suppress(Exception):
                await self.client.close()
