"""Group commit of decisions, /readyz and the Prometheus listener, on a real hub."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from hub_server.database import Database
from hub_server.models import GrantRow
from tests.hub.postgres import free_port
from tests.hub_harness import camera, running_hub

LAT, LON = 33.7490, -84.3880


async def test_concurrent_decisions_share_commits_and_grants_are_durable_first(
    tmp_path: Path, database_url: str
) -> None:
    # A wide window makes the grouping certain on a slow machine; the default is 2 ms.
    async with running_hub(tmp_path, database_url=database_url, decision_batch_ms=50) as hub:
        sims = [
            await hub.simulated_installation([camera("cam-1", LAT + i * 1e-5, LON)])
            for i in range(12)
        ]
        officer = hub.client(await hub.create_user("analyst"))
        inc = await officer.open_incident(LAT, LON, 300)
        await officer.request_live(inc["incident_id"], [(s.installation_id, "cam-1") for s in sims])
        requests = [await s.next_message("access_request") for s in sims]
        # One bad decision (a camera that was not asked for) rides along in the same group.
        await sims[0].approve(requests[0], camera_ids=["cam-9"])
        await asyncio.gather(*(s.approve(r) for s, r in zip(sims[1:], requests[1:], strict=True)))
        other = Database(database_url)  # a separate connection: sees only committed rows
        try:
            for sim in sims[1:]:
                grant = await sim.next_message("grant")
                jti = sim.verify(grant.token).claims.token_id
                async with other.read() as s:
                    assert await s.get(GrantRow, jti) is not None  # durable before it left
            bad = await sims[0].next_message("error")
            assert bad.code == "bad_decision"
            async with other.read() as s:
                assert await s.scalar(select(func.count()).select_from(GrantRow)) == 11
        finally:
            await other.close()
        stats = hub.state.decisions.stats
        assert stats.decisions == 12
        assert stats.groups < stats.decisions  # grouped, not one transaction each
        assert (await hub.verify_audit()).ok


async def test_readyz_and_metrics_listener(tmp_path: Path) -> None:
    metrics_port = free_port()
    async with running_hub(tmp_path, metrics_port=metrics_port) as hub:
        sim = await hub.simulated_installation([camera("cam-1", LAT, LON)])
        api = hub.client()
        ready = await api.expect(200, "GET", "/readyz")
        assert ready["checks"] == {"database": "ok", "bus": "ok"}
        assert ready["bus"] == "in_process"
        # Metrics are not on the public listener ...
        status, _ = await api.call("GET", "/metrics")
        assert status == 404
        # ... but on their own port.
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200
            text = await resp.text()
        assert "connect_share_installations_online 1.0" in text
        assert "connect_share_live_sessions 0.0" in text
        assert "connect_share_token_latency_seconds_bucket" in text
        assert "connect_share_db_pool_checked_out" in text
        await sim.close()
        hub.state.draining = True
        status, body = await api.call("GET", "/readyz")
        assert status == 503 and body["checks"]["instance"] == "draining"


async def test_a_failing_group_is_retried_one_decision_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub_server import grants

    real_decide = grants.decide
    failed: list[str] = []

    async def decide_failing_in_groups(*args: Any, **kwargs: Any) -> Any:
        msg = args[4]
        if kwargs.get("flush") is False and not failed:  # only inside a group, only once
            failed.append(msg.request_id)
            raise RuntimeError("simulated failure inside the group transaction")
        return await real_decide(*args, **kwargs)

    monkeypatch.setattr(grants, "decide", decide_failing_in_groups)
    async with running_hub(tmp_path, decision_batch_ms=50) as hub:
        sims = [
            await hub.simulated_installation([camera("cam-1", LAT + i * 1e-5, LON)])
            for i in range(4)
        ]
        officer = hub.client(await hub.create_user("analyst"))
        inc = await officer.open_incident(LAT, LON, 300)
        await officer.request_live(inc["incident_id"], [(s.installation_id, "cam-1") for s in sims])
        requests = [await s.next_message("access_request") for s in sims]
        await asyncio.gather(*(s.approve(r) for s, r in zip(sims, requests, strict=True)))
        for sim in sims:  # every decision still got its grant, from the one-by-one retry
            grant = await sim.next_message("grant")
            sim.verify(grant.token)
        assert failed
        assert (await hub.verify_audit()).ok
        async with hub.state.db.read() as s:
            assert await s.scalar(select(func.count()).select_from(GrantRow)) == 4
