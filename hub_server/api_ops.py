"""Readiness for the load balancer: ``/readyz`` (database and bus reachable, not draining).

``/healthz`` (api_meta) stays the liveness check.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from .auth import policy
from .state import get_hub

routes = web.RouteTableDef()
CHECK_TIMEOUT_S = 2.0


@routes.get("/readyz")
@policy(public=True)
async def readyz(request: web.Request) -> web.Response:
    hub = get_hub(request)
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), hub.db.read() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            ok = await hub.bus.ping()
        checks["bus"] = "ok" if ok else "unavailable"
    except Exception:
        checks["bus"] = "unavailable"
    if hub.draining:
        checks["instance"] = "draining"
    ready = all(v == "ok" for k, v in checks.items() if k != "instance") and not hub.draining
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks, "bus": hub.bus.kind},
        status=200 if ready else 503,
    )
