"""The aiohttp application: ``create_app(settings)``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import WSCloseCode, web

from . import (
    api_audit,
    api_auth,
    api_incidents,
    api_installations,
    api_meta,
    api_ops,
    api_retention,
    api_sessions,
    api_users,
    purposes,
    retention,
    transparency,
)
from .audit_view import setup_audit_view_routes
from .auth import make_auth_middleware
from .bootstrap import ensure_bootstrap, resolve_kek
from .console_config import setup_console_config
from .console_routes import setup_console_routes
from .database import Database, migrate
from .errors import error_middleware
from .evidence import EVIDENCE, setup_evidence_routes
from .installation_ws import heartbeat
from .request_lapse import sweep as request_sweep
from .sessions import end_replica, end_session
from .settings import Settings
from .state import HUB, Hub

_LOGGER = logging.getLogger(__name__)

ROUTE_TABLES = (
    api_meta.routes,
    api_ops.routes,
    api_auth.routes,
    api_installations.routes,
    api_incidents.routes,
    api_sessions.routes,
    api_audit.routes,
    api_users.routes,
    api_retention.routes,
    purposes.routes,
    transparency.routes,
)


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
    return response


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    purposes.check_agency(settings)  # an agency that cannot go into a token stops here
    retention.default_periods(settings)  # so does a negative retention period
    hub = Hub(settings, Database(settings.database_url))
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[security_headers, error_middleware, make_auth_middleware(hub.db.sessions)],
    )
    app[HUB] = hub
    for table in ROUTE_TABLES:
        app.add_routes(table)
    setup_audit_view_routes(app)  # names, action list and CSV export of the audit log
    setup_evidence_routes(app)  # footage with signed manifests (hub_server/evidence.py)
    # The officer console at /console/ (hub_server/console/) and its map/time settings.
    setup_console_routes(app, config=setup_console_config(app, settings))
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_close_connections)
    return app


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    hub = app[HUB]
    try:
        if hub.settings.migrate_on_start:
            await migrate(hub.db.url)
        hub.kek = await resolve_kek(hub.db, hub.settings.kek_path())
        hub.hub_id = await ensure_bootstrap(hub.db, hub.kek)
        await hub.signing_keys()
        await hub.bus.start()
        await hub.router.start()
        if hub.settings.metrics_port:
            from .metrics import HubMetrics  # prometheus-client only when metrics are on

            hub.metrics = HubMetrics(hub)
            hub.metrics_port = await hub.metrics.start(
                hub.settings.metrics_host, hub.settings.metrics_port
            )
        hub.spawn(heartbeat(hub), "installation-heartbeat")
        hub.spawn(request_sweep(hub), "request-sweep")  # lapses due requests by itself
        hub.spawn(retention.run_periodically(hub.db, hub.settings, app[EVIDENCE].root), "retention")
        yield
    finally:
        if hub.metrics is not None:
            await hub.metrics.stop()
        await hub.router.close()
        await hub.bus.close()
        await hub.decisions.close()
        await hub.stop_tasks()
        await hub.db.close()


async def _close_connections(app: web.Application) -> None:
    """On shutdown (SIGTERM drains): /readyz turns 503, live sessions end (viewers see the
    end), installation sockets close with "going away" so they reconnect elsewhere."""
    hub = app[HUB]
    hub.draining = True
    for live in list(hub.relay.sessions.values()):
        with contextlib.suppress(Exception):
            await end_session(hub, live, "hub_shutdown", notify_installation=True)
    for replica in list(hub.relay.replicas.values()):  # streams of sessions owned elsewhere
        with contextlib.suppress(Exception):
            await end_replica(hub, replica, "hub_shutdown")
    for conn in hub.connections.all():
        with contextlib.suppress(Exception):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"hub shutdown")
    await hub.stop_tasks()
