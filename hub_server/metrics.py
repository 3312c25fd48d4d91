"""Prometheus metrics on a separate, non-public listener (``metrics_port``; 0 = off).

Everything is read from the hub's state when Prometheus scrapes, except the token latency
histogram, which the decision batcher feeds. Each hub has its own registry (several hubs
can run in one process, as in the tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .state import Hub

TOKEN_LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        yield GaugeMetricFamily(
            "connect_share_installations_online",
            "Installation sockets held by this instance",
            value=len(hub.connections),
        )
        yield GaugeMetricFamily(
            "connect_share_live_sessions",
            "Live sessions this instance relays or views",
            value=len(hub.relay.sessions),
        )
        yield CounterMetricFamily(
            "connect_share_frames_relayed",
            "Frames handed to viewers by this instance",
            value=hub.relay.frames_total,
        )
        stats = hub.decisions.stats
        yield CounterMetricFamily(
            "connect_share_decisions", "Decisions recorded", value=stats.decisions
        )
        yield CounterMetricFamily(
            "connect_share_decision_groups",
            "Transactions that recorded decisions (group commit)",
            value=stats.groups,
        )
        pool = hub.db.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        if callable(checked_out):
            yield GaugeMetricFamily(
                "connect_share_db_pool_checked_out",
                "Database connections in use",
                value=checked_out(),
            )
        if callable(size):
            yield GaugeMetricFamily(
                "connect_share_db_pool_size", "Database pool size", value=size()
            )


class HubMetrics:
    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(HubCollector(hub))
        self.token_latency = Histogram(
            "connect_share_token_latency_seconds",
            "From a decision's arrival to its grant committed and ready to send",
            buckets=TOKEN_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._runner: web.AppRunner | None = None

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def start(self, host: str, port: int) -> int:
        """Serve ``/metrics`` on its own listener; returns the bound port."""
        app = web.Application()

        async def metrics(_request: web.Request) -> web.Response:
            return web.Response(body=self.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        app.router.add_get("/metrics", metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # bound port when port=0
        sockets = getattr(server, "sockets", None) or []
        return sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
