"""City-scale hub figures: radius search on the spatial indexes (100,000 and 1,000,000
cameras, SQLite and PostgreSQL), group-committed token issuing with 200 installations
deciding at once (vs one transaction per decision, same run), and on two hub processes
behind nginx with NATS and PostgreSQL: relay latency added by crossing instances (vs one
instance, same run), failover time after SIGKILL, audit entries lost, idle memory per
installation socket (10,000 sockets across the two instances).

``--quick`` (under a minute or two): 100,000 cameras only (seeding a million rows is most of
a full run), 1,000 decisions, 100 frames, 500 sockets.

PostgreSQL is started by the benchmark (as the tests do) with fsync on, so commits cost
what they cost in production. Usage: .venv/bin/python -m benchmarks.cluster [--quick]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from benchmarks.cluster_parts.city import bench_radius, bench_tokens
from benchmarks.cluster_parts.live import bench_idle_sockets, bench_relay_and_failover
from benchmarks.common import parse_args, report
from hub_server.database import Database, migrate
from tests.hub.postgres import PostgresServer, start_postgres


async def _fresh(url: str) -> Database:
    await migrate(url)
    return Database(url)


async def run(quick: bool) -> None:
    report("load_avg_1m_at_start", os.getloadavg()[0])
    report("cpus", os.cpu_count() or 0)
    repeats = 200 if quick else 1000
    per_inst = 5 if quick else 20
    pg: PostgresServer = start_postgres(durable=True)
    try:
        with tempfile.TemporaryDirectory(prefix="connect-share-cluster-") as tmp:
            for backend in ("sqlite", "postgres"):
                sizes = [("100k", 100_000)] + ([] if quick else [("1m", 1_000_000)])
                for label, cameras in sizes:
                    url = (
                        f"sqlite+aiosqlite:///{Path(tmp) / f'radius-{label}.sqlite3'}"
                        if backend == "sqlite"
                        else pg.create_database()
                    )
                    db = await _fresh(url)
                    try:
                        await bench_radius(db, f"{label}_{backend}", cameras, repeats)
                    finally:
                        await db.close()
                url = (
                    f"sqlite+aiosqlite:///{Path(tmp) / 'tokens.sqlite3'}"
                    if backend == "sqlite"
                    else pg.create_database()
                )
                db = await _fresh(url)
                try:
                    await bench_tokens(db, backend, installations=200, per_inst=per_inst)
                finally:
                    await db.close()
        await bench_relay_and_failover(pg.create_database(), frames=100 if quick else 500)
        await bench_idle_sockets(pg.create_database(), 500 if quick else 10_000)
    finally:
        pg.stop()
    report("load_avg_1m_at_end", os.getloadavg()[0])


def main() -> None:
    args = parse_args(__doc__ or "")
    asyncio.run(run(args.quick))


if __name__ == "__main__":
    main()
