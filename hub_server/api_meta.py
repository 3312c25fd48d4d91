"""Public endpoints: hub identity, JWKS, health, transparency, the OpenAPI document."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from . import __version__
from .auth import policy, user_from_request
from .errors import ApiError
from .openapi import openapi_document
from .state import get_hub
from .transparency import COUNTS, monthly_counts

routes = web.RouteTableDef()


@routes.get("/api/v1/hub")
@policy(public=True)
async def hub_info(request: web.Request) -> web.Response:
    hub = get_hub(request)
    return web.json_response(
        {
            "service": "connect-share-hub",
            "version": __version__,
            "hub_id": hub.hub_id,
            "name": hub.settings.hub_name,
        }
    )


@routes.get("/.well-known/jwks.json")
@policy(public=True)
async def jwks(request: web.Request) -> web.Response:
    keys = await get_hub(request).signing_keys()
    return web.json_response(keys.jwks(), headers={"Cache-Control": "max-age=60"})


@routes.get("/healthz")
@policy(public=True)
async def healthz(request: web.Request) -> web.Response:
    hub = get_hub(request)
    try:
        async with hub.db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception as err:
        raise ApiError(503, "database_unavailable", "the database does not answer") from err
    body: dict[str, object] = {"status": "ok"}
    # Details only for staff who log in: how many homes are online is nobody else's business.
    try:
        caller = await user_from_request(request, hub.db.sessions)
    except ApiError:
        caller = None
    if caller is not None and caller.role in ("supervisor", "admin"):
        body.update(database=hub.db.dialect, installations_online=len(hub.connections))
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@routes.get("/api/v1/transparency")
@policy(public=True)
async def transparency(request: web.Request) -> web.Response:
    hub = get_hub(request)
    return web.json_response(
        {
            "hub": hub.settings.hub_name,
            "counts": list(COUNTS),
            "months": await monthly_counts(hub.db),
        },
        headers={"Cache-Control": "max-age=300"},
    )


@routes.get("/api/openapi.json")
@policy(public=True)
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(get_hub(request).settings))
