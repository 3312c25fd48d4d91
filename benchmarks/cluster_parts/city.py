"""City-scale pieces of benchmarks/cluster.py: radius search on the spatial indexes and
group-committed token issuing with 200 installations deciding at once.

Cameras are generated inside the database (a recursive CTE on SQLite, generate_series on
PostgreSQL) so that seeding a million rows takes seconds, not minutes of Python.
"""

from __future__ import annotations

import asyncio
import math
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, text

from benchmarks.common import median, percentile, report
from connect_share_protocol.messages import Decision
from hub_server import grants
from hub_server.bootstrap import ensure_bootstrap, resolve_kek
from hub_server.database import Database
from hub_server.geo import haversine_m
from hub_server.models import AccessRequestRow, Incident, Installation, User
from hub_server.search import cameras_in_radius
from hub_server.settings import Settings
from hub_server.state import Hub

CENTER = (33.7490, -84.3880)
CITY_SPREAD_DEG = 0.25  # 100,000 cameras over about 56 x 46 km (Atlanta and around)
RADIUS_M = 500.0
INSTALLATIONS = 1000


def spread_for(cameras: int) -> float:
    """Same density as 100,000 cameras over the city: a larger region for more cameras."""
    return CITY_SPREAD_DEG * math.sqrt(cameras / 100_000)


async def seed_installations(db: Database, ids: list[str]) -> None:
    now = time.time()
    async with db.write() as s:
        await s.execute(
            insert(Installation),
            [
                {
                    "id": i,
                    "name": "bench",
                    "public_key": uuid.uuid4().hex + i[:8],
                    "client_version": "bench",
                    "enrolled_at": now,
                    "online": False,
                }
                for i in ids
            ],
        )


async def seed_cameras(db: Database, cameras: int, spread: float) -> None:
    inst_ids = [f"{n:032x}" for n in range(INSTALLATIONS)]
    await seed_installations(db, inst_ids)
    params = {"n": cameras, "lat": CENTER[0], "lon": CENTER[1], "spread": spread}
    if db.dialect == "sqlite":
        sql = """
            WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :n - 1)
            INSERT INTO cameras (installation_id, camera_id, name, mode, lat, lon, masked,
                                 scopes, updated_at)
            SELECT printf('%032x', i % 1000), 'cam-' || i, 'cam ' || i,
                   CASE i % 3 WHEN 0 THEN 'registered' WHEN 1 THEN 'on_request' ELSE 'auto' END,
                   :lat + ((abs(random()) % 2000001) / 1000000.0 - 1.0) * :spread,
                   :lon + ((abs(random()) % 2000001) / 1000000.0 - 1.0) * :spread,
                   0, '[]', 0 FROM seq
        """
    else:
        sql = """
            INSERT INTO cameras (installation_id, camera_id, name, mode, lat, lon, masked,
                                 scopes, updated_at)
            SELECT lpad(to_hex(i % 1000), 32, '0'), 'cam-' || i, 'cam ' || i,
                   (ARRAY['registered', 'on_request', 'auto'])[i % 3 + 1],
                   :lat + (random() * 2 - 1) * :spread, :lon + (random() * 2 - 1) * :spread,
                   false, '[]', 0 FROM generate_series(0, :n - 1) AS i
        """
    async with db.write() as s:
        await s.execute(text(sql), params)
    if db.dialect == "postgresql":
        # Steady state, as autovacuum leaves it: hint bits and visibility map set, statistics.
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with db.write() as s:
            await s.execute(text("ANALYZE"))


async def bench_radius(db: Database, label: str, cameras: int, repeats: int) -> None:
    spread = spread_for(cameras)
    await seed_cameras(db, cameras, spread)
    rng = random.Random(2)
    centers = [
        (CENTER[0] + rng.uniform(-spread, spread), CENTER[1] + rng.uniform(-spread, spread))
        for _ in range(repeats)
    ]
    for lat, lon in centers[:10]:  # warm-up: page cache, prepared statements
        async with db.read() as s:
            await cameras_in_radius(s, lat, lon, RADIUS_M)
    samples, cpu, counts, floor = [], [], [], []
    for lat, lon in centers:
        async with db.read() as s:
            start, start_cpu = time.perf_counter(), time.process_time()
            found = await cameras_in_radius(s, lat, lon, RADIUS_M)
            samples.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        counts.append(len(found))
        # Baseline, interleaved: the cheapest query through the same session and driver
        # (what the machine's load alone costs a round trip at that moment).
        async with db.read() as s:
            start = time.perf_counter()
            await s.execute(text("SELECT 1"))
            floor.append(time.perf_counter() - start)
    # Correctness of what was timed: one query against the exact distance over every row.
    lat, lon = centers[0]
    async with db.read() as s:
        rows = (await s.execute(text("SELECT lat, lon, mode FROM cameras"))).all()
    exact = sum(1 for r in rows if haversine_m(lat, lon, r.lat, r.lon) <= RADIUS_M)
    assert exact == counts[0], (exact, counts[0])
    report(f"radius_found_median_{label}", median([float(c) for c in counts]))
    report(f"radius_spread_deg_{label}", spread)
    report(f"radius_median_ms_{label}", median(samples) * 1e3)
    report(f"radius_p95_ms_{label}", percentile(samples, 95) * 1e3)
    # This process's CPU time per query (all its threads, so SQLite's work counts; the
    # PostgreSQL server's does not): what the figure would be without other load.
    report(f"radius_cpu_p95_ms_{label}", percentile(cpu, 95) * 1e3)
    report(f"select_1_median_ms_{label}", median(floor) * 1e3)
    report(f"select_1_p95_ms_{label}", percentile(floor, 95) * 1e3)


async def seed_pending_requests(db: Database, plan: dict[str, list[str]]) -> tuple[str, str]:
    """One officer and one incident with pending live requests: ``plan`` maps an
    installation id to its request ids. Returns (officer id, incident id)."""
    now = time.time()
    officer_id, incident_id = uuid.uuid4().hex, uuid.uuid4().hex
    async with db.write() as s:
        s.add(
            User(
                id=officer_id,
                username=f"bench-{officer_id[:8]}",
                display_name="Bench Officer",
                badge="1",
                role="analyst",
                password_hash="x",
                active=True,
                created_at=now,
            )
        )
        await s.flush()  # no ORM relationship orders these inserts, so flush the user first
        s.add(
            Incident(
                id=incident_id,
                case_number="B-1",
                incident_type="bench",
                reason="bench",
                lat=CENTER[0],
                lon=CENTER[1],
                radius_m=500,
                created_by=officer_id,
                created_at=now,
            )
        )
        await s.flush()
        await s.execute(
            insert(AccessRequestRow),
            [
                {
                    "id": rid,
                    "incident_id": incident_id,
                    "installation_id": inst,
                    "scope": "live",
                    "camera_ids": ["cam-0"],
                    "created_by": officer_id,
                    "created_at": now,
                    "expires_at": now + 3600,
                    "status": "pending",
                    "approved_camera_ids": [],
                }
                for inst, rids in plan.items()
                for rid in rids
            ],
        )
    return officer_id, incident_id


async def _requests(
    db: Database, installations: int, per_installation: int
) -> dict[str, list[str]]:
    """``installations`` installations with ``per_installation`` pending live requests each."""
    inst_ids = [uuid.uuid4().hex for _ in range(installations)]
    await seed_installations(db, inst_ids)
    plan = {i: [uuid.uuid4().hex for _ in range(per_installation)] for i in inst_ids}
    await seed_pending_requests(db, plan)
    return plan


async def bench_tokens(db: Database, label: str, installations: int, per_inst: int) -> None:
    """200 installations, each answering its requests one after another (as over its socket),
    all at once: group commit vs one transaction per decision, same run, same database."""
    hub = Hub(Settings(database_url=db.url), db)
    # A fresh key-encryption key for this run's fresh database, never in the checkout
    # (for PostgreSQL the default place would be the working directory).
    with tempfile.TemporaryDirectory(prefix="connect-share-bench-") as keys:
        hub.kek = await resolve_kek(db, Path(keys) / "hub.kek")
    hub.hub_id = await ensure_bootstrap(db, hub.kek)
    await hub.signing_keys()

    async def run(plan: dict[str, list[str]], decide, name: str) -> float:  # type: ignore[no-untyped-def]
        latencies: list[float] = []

        async def one_installation(inst: str, rids: list[str]) -> None:
            for rid in rids:
                start = time.perf_counter()
                reply = await decide(inst, Decision(request_id=rid, approved_camera_ids=["cam-0"]))
                latencies.append(time.perf_counter() - start)
                assert [m.TYPE for m in reply] == ["grant"], reply

        start = time.perf_counter()
        await asyncio.gather(*(one_installation(i, r) for i, r in plan.items()))
        elapsed = time.perf_counter() - start
        report(f"token_latency_p95_ms_{name}", percentile(latencies, 95) * 1e3)
        return len(latencies) / elapsed

    async def one_by_one(inst: str, msg: Decision):  # type: ignore[no-untyped-def]
        return await grants.handle_decision(hub, inst, msg)

    baseline_plan = await _requests(db, installations, 1)
    grouped_plan = await _requests(db, installations, per_inst)
    report(
        f"tokens_per_s_{label}_one_tx_each",
        await run(baseline_plan, one_by_one, f"{label}_one_tx_each"),
    )
    rate = await run(grouped_plan, hub.decisions.submit, label)
    report(f"tokens_per_s_{label}", rate)
    stats = hub.decisions.stats
    report(f"decisions_per_commit_{label}", stats.decisions / max(1, stats.groups))
    await hub.decisions.close()
