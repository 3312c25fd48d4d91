"""Hub figures: radius search over 100,000 cameras (vs a full scan in the same run), token
issuing through the hub's real decision path, and memory per idle installation WebSocket.

Usage: .venv/bin/python -m benchmarks.hub [--quick]
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import insert, select

from benchmarks.cluster_parts.city import seed_pending_requests
from benchmarks.common import median, open_installation_socket, parse_args, percentile, report
from connect_share_protocol import (
    generate_private_key,
    issue_token,
    public_key_to_b64,
)
from connect_share_protocol.messages import Decision
from connect_share_protocol.tokens import new_claims
from hub_server import grants
from hub_server.bootstrap import ensure_bootstrap, resolve_kek
from hub_server.database import Database, migrate
from hub_server.geo import haversine_m
from hub_server.kek import default_kek_path
from hub_server.models import Camera, Installation
from hub_server.search import SHARED_MODES, cameras_in_radius
from hub_server.settings import Settings
from hub_server.state import Hub

CENTER = (33.7490, -84.3880)
SPREAD_DEG = 0.25  # about 28 x 23 km: a city
RADIUS_M = 500.0
CAMERAS = 100_000


async def seed(db: Database, cameras: int, installations: int) -> list[str]:
    rng = random.Random(1)
    now = time.time()
    inst_ids = [uuid.uuid4().hex for _ in range(installations)]
    async with db.write() as s:
        await s.execute(
            insert(Installation),
            [
                {
                    "id": i,
                    "name": "bench",
                    "public_key": public_key_to_b64(generate_private_key().public_key()),
                    "client_version": "bench",
                    "enrolled_at": now,
                    "online": False,
                }
                for i in inst_ids
            ],
        )
        await s.execute(
            insert(Camera),
            [
                {
                    "installation_id": inst_ids[n % installations],
                    "camera_id": f"cam-{n}",
                    "name": f"cam {n}",
                    "mode": rng.choice(SHARED_MODES),
                    "lat": CENTER[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG),
                    "lon": CENTER[1] + rng.uniform(-SPREAD_DEG, SPREAD_DEG),
                    "masked": False,
                    "scopes": [],
                    "updated_at": now,
                }
                for n in range(cameras)
            ],
        )
    return inst_ids


async def bench_radius(db: Database, repeats: int, scan_repeats: int) -> None:
    rng = random.Random(2)
    centers = [
        (
            CENTER[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG),
            CENTER[1] + rng.uniform(-SPREAD_DEG, SPREAD_DEG),
        )
        for _ in range(repeats)
    ]
    indexed: list[float] = []
    counts = []
    for lat, lon in centers:
        async with db.read() as s:
            start = time.perf_counter()
            found = await cameras_in_radius(s, lat, lon, RADIUS_M)
            indexed.append(time.perf_counter() - start)
        counts.append(len(found))

    # Baseline: the same answer without the bounding box (read every camera, exact distance).
    scan: list[float] = []
    for lat, lon in centers[:scan_repeats]:
        async with db.read() as s:
            start = time.perf_counter()
            rows = (
                await s.execute(
                    select(Camera.installation_id, Camera.camera_id, Camera.lat, Camera.lon).where(
                        Camera.mode.in_(SHARED_MODES), Camera.lat.is_not(None)
                    )
                )
            ).all()
            hits = [r for r in rows if haversine_m(lat, lon, r.lat, r.lon) <= RADIUS_M]
            scan.append(time.perf_counter() - start)
        assert len(hits) == counts[centers.index((lat, lon))]
    report("radius_cameras", CAMERAS)
    report("radius_m", RADIUS_M)
    report("radius_found_median", median([float(c) for c in counts]))
    report("radius_median_ms", median(indexed) * 1e3)
    report("radius_p95_ms", percentile(indexed, 95) * 1e3)
    report("scan_median_ms", median(scan) * 1e3)
    report("radius_speedup_vs_scan", median(scan) / median(indexed))


async def bench_tokens(db: Database, inst_id: str, count: int) -> None:
    """Decision -> grant row + audit entries + signed token, as the WebSocket handler runs it."""
    hub = Hub(Settings(database_url=db.url), db)
    hub.kek = await resolve_kek(db, default_kek_path(db.url))
    hub.hub_id = await ensure_bootstrap(db, hub.kek)
    keys = await hub.signing_keys()
    request_ids = [uuid.uuid4().hex for _ in range(count)]
    officer_id, incident_id = await seed_pending_requests(db, {inst_id: request_ids})
    start = time.perf_counter()
    for rid in request_ids:
        reply = await grants.handle_decision(
            hub, inst_id, Decision(request_id=rid, approved_camera_ids=["cam-0"])
        )
        assert [m.TYPE for m in reply] == ["grant"], reply
    elapsed = time.perf_counter() - start
    report("tokens_per_s", count / elapsed)

    claims = new_claims(
        issuer="hub",
        installation_id=inst_id,
        officer_id=officer_id,
        officer_name="Bench Officer",
        badge="1",
        incident_id=incident_id,
        case_number="B-1",
        cameras=["cam-0"],
        scopes=["live"],
    )
    sign_count = count * 5
    start = time.perf_counter()
    for _ in range(sign_count):
        issue_token(keys.current.private_key, keys.current.kid, claims)
    report("token_sign_only_per_s", sign_count / (time.perf_counter() - start))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def bench_ws_memory(workdir: Path, connections: int) -> None:
    """A separate hub process; RSS growth per authenticated, idle installation socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, connections * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    url = f"sqlite+aiosqlite:///{workdir / 'ws.sqlite3'}"
    await migrate(url)
    db = Database(url)
    keys = {uuid.uuid4().hex: generate_private_key() for _ in range(connections + 20)}
    try:
        await ensure_bootstrap(db, await resolve_kek(db, default_kek_path(url)))
        async with db.write() as s:
            await s.execute(
                insert(Installation),
                [
                    {
                        "id": i,
                        "name": "bench",
                        "public_key": public_key_to_b64(k.public_key()),
                        "client_version": "bench",
                        "enrolled_at": time.time(),
                        "online": False,
                    }
                    for i, k in keys.items()
                ],
            )
    finally:
        await db.close()
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub_server.cli",
        "--database-url",
        url,
        "serve",
        "--port",
        str(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "CONNECT_SHARE_HUB_HEARTBEAT_S": "3600",
            # 50 installations authenticate at once from one address here.
            "CONNECT_SHARE_HUB_MAX_UNAUTHENTICATED_PER_ADDRESS": "1000",
        },
    )
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(base + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("hub did not start")
                await asyncio.sleep(0.2)
            ws_url = base.replace("http", "ws") + "/api/v1/installations/ws"

            async def connect(inst_id: str) -> None:
                sockets.append(
                    await open_installation_socket(http, ws_url, inst_id, keys[inst_id], 30)
                )

            ids = list(keys)
            for inst_id in ids[:20]:  # warm-up: lazy imports, pools, first allocations
                await connect(inst_id)
            await asyncio.sleep(0.5)
            before = rss_kib(server.pid)
            for batch in range(20, len(ids), 50):
                await asyncio.gather(*(connect(i) for i in ids[batch : batch + 50]))
            await asyncio.sleep(1.0)
            after = rss_kib(server.pid)
            report("ws_connections", len(sockets))
            report("ws_idle_kib_per_conn", (after - before) / connections)
            report("hub_rss_mib_with_conns", after / 1024)
        finally:
            for ws in sockets:
                await ws.close()
            server.terminate()
            await asyncio.wait_for(server.wait(), 30)


async def run(quick: bool) -> None:
    # Context for the absolute figures: the token path is many small SQLite round trips
    # through aiosqlite's thread, and slows down a lot on a busy machine.
    report("load_avg_1m_at_start", os.getloadavg()[0])
    with tempfile.TemporaryDirectory(prefix="connect-share-bench-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite+aiosqlite:///{workdir / 'radius.sqlite3'}"
        await migrate(url)
        db = Database(url)
        try:
            inst_ids = await seed(db, CAMERAS, 1000)
            await bench_radius(db, repeats=100 if quick else 1000, scan_repeats=5 if quick else 30)
            await bench_tokens(db, inst_ids[0], count=200 if quick else 2000)
        finally:
            await db.close()
        await bench_ws_memory(workdir, connections=1000)


def main() -> None:
    args = parse_args(__doc__ or "")
    asyncio.run(run(args.quick))


if __name__ == "__main__":
    main()
