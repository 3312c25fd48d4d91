"""API errors: every refusal is JSON ``{"error": code, "message": reason}`` with a 4xx."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

_LOGGER = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str = "", **extra: object) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message or code.replace("_", " ")
        self.extra = extra


def bad_request(code: str, message: str = "") -> ApiError:
    return ApiError(400, code, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def forbidden(code: str = "forbidden", message: str = "") -> ApiError:
    return ApiError(403, code, message)


def error_response(status: int, code: str, message: str, **extra: object) -> web.Response:
    body = {"error": code, "message": message, **extra}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn ``ApiError`` and aiohttp's HTTP errors into JSON; never leak a traceback."""
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err.status, err.code, err.message, **err.extra)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code = _HTTP_CODES.get(err.status, "http_error")
        response = error_response(err.status, code, err.reason or code)
        for name in ("Allow", "Retry-After"):
            if name in err.headers:
                response.headers[name] = err.headers[name]
        return response
    except Exception:
        _LOGGER.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error")
