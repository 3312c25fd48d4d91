"""Strict request-body parsing: a wrong type or a missing field is a 400 with its name."""

from __future__ import annotations

import math
import re
from typing import Any

from aiohttp import web

from connect_share_protocol import ProtocolError, safe_json

from .errors import ApiError, bad_request
from .state import HUB

_MISSING = object()


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400/413/415 that says what is wrong."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")
    max_size = request.app[HUB].settings.max_body_bytes
    if request.content_length is not None and request.content_length > max_size:
        raise ApiError(413, "body_too_large", f"the body limit is {max_size} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as err:
        raise ApiError(413, "body_too_large", f"the body limit is {max_size} bytes") from err
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise bad_request("bad_json", "the body must be a JSON object")
    return body


def parse_json(raw: bytes | str, what: str = "body") -> Any:
    """Any JSON from the network: malformed or too deeply nested is a 400, never a 500."""
    try:
        return safe_json.loads(raw)
    except ProtocolError as err:
        code = "too_deep" if err.code == "too_deep" else "bad_json"
        raise bad_request(code, f"the {what} is not acceptable JSON: {err.detail}") from err


class Fields:
    """Typed access to a JSON object; ``done()`` refuses fields nobody asked for."""

    def __init__(self, data: dict[str, Any], where: str = "body") -> None:
        self._data = data
        self._where = where
        self._seen: set[str] = set()

    def _get(self, name: str, required: bool) -> Any:
        self._seen.add(name)
        value = self._data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise bad_request("missing_field", f"{name} is required")
            return None
        return value

    def text(
        self, name: str, *, required: bool = True, max_len: int = 200, default: str | None = None
    ) -> str | None:
        value = self._get(name, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise bad_request("bad_field", f"{name} must be a string")
        value = value.strip()
        check_text(value, name)
        if required and not value:
            raise bad_request("missing_field", f"{name} must not be empty")
        if len(value) > max_len:
            raise bad_request("bad_field", f"{name} is longer than {max_len} characters")
        return value

    def number(
        self,
        name: str,
        *,
        required: bool = True,
        low: float | None = None,
        high: float | None = None,
        default: float | None = None,
    ) -> float | None:
        value = self._get(name, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request("bad_field", f"{name} must be a number")
        value = float(value)
        if not math.isfinite(value):
            raise bad_request("bad_field", f"{name} must be finite")
        if low is not None and value < low:
            raise bad_request("out_of_range", f"{name} must be at least {low:g}")
        if high is not None and value > high:
            raise bad_request("out_of_range", f"{name} must be at most {high:g}")
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = True,
        low: int | None = None,
        high: int | None = None,
        default: int | None = None,
    ) -> int | None:
        value = self._get(name, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request("bad_field", f"{name} must be an integer")
        if (low is not None and value < low) or (high is not None and value > high):
            raise bad_request("out_of_range", f"{name} must be in {low}..{high}")
        return value

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.text(name, required=required, max_len=64)
        if value is not None and value not in options:
            raise bad_request("bad_field", f"{name} must be one of {', '.join(options)}")
        return value

    def list_of(self, name: str, *, required: bool = True, max_items: int = 500) -> list[Any]:
        value = self._get(name, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise bad_request("bad_field", f"{name} must be a list")
        if required and not value:
            raise bad_request("missing_field", f"{name} must not be empty")
        if len(value) > max_items:
            raise bad_request("bad_field", f"{name} has more than {max_items} items")
        return value

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise bad_request("unknown_field", f"unknown field {unknown[0]}")


def check_text(value: str, name: str) -> None:
    """Refuse what no database column can hold: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise bad_request("bad_field", f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise bad_request("bad_field", f"{name} is not valid Unicode text") from err


def is_clean_text(value: str) -> bool:
    try:
        check_text(value, "")
    except ApiError:
        return False
    return True


HEX_ID = re.compile(r"^[0-9a-f]{32}$")  # every hub id is uuid4().hex


def path_id(request: web.Request, name: str, what: str) -> str:
    """A 32-hex id from the URL; anything else cannot exist, so it is a 404."""
    value = request.match_info[name]
    if not HEX_ID.match(value):
        raise ApiError(404, "not_found", f"{what} not found")
    return value


def query_text(request: web.Request, name: str, max_len: int = 64) -> str | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    check_text(value, name)
    if len(value) > max_len:
        raise bad_request("bad_query", f"{name} is longer than {max_len} characters")
    return value


def query_int(
    request: web.Request, name: str, default: int, *, low: int = 0, high: int = 10_000
) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise bad_request("bad_query", f"{name} must be an integer") from err
    if not low <= value <= high:
        raise bad_request("out_of_range", f"{name} must be in {low}..{high}")
    return value
