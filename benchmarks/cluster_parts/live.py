"""Live figures of benchmarks/cluster.py on two real hub processes + nginx + NATS + PostgreSQL
(the services of tests/hub/test_cluster.py): relay latency across instances vs within one,
failover time after SIGKILL, audit entries lost, idle memory per installation socket.
"""

from __future__ import annotations

import asyncio
import resource
import signal
import time
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import insert, select

from benchmarks.common import open_installation_socket, percentile, report
from connect_share_protocol import (
    generate_private_key,
    public_key_to_b64,
)
from hub_server.models import AuditEntry, Installation
from tests.cluster_harness import Cluster, HubProcess, running_cluster
from tests.hub_harness import HubClient, SimulatedInstallation, camera, tiny_jpeg

LAT, LON = 33.7490, -84.3880


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _session(officer: HubClient, sim: SimulatedInstallation) -> str:
    inc = await officer.open_incident(LAT, LON, 300)
    await officer.request_live(inc["incident_id"], [(sim.installation_id, "cam-1")])
    await sim.approve(await sim.next_message("access_request"))
    grant = await officer.wait_for_grant(inc["incident_id"], "cam-1", "live")
    opening = asyncio.create_task(officer.open_session(grant["grant_id"], "cam-1"))
    await sim.accept_session(await sim.next_message("session_open"))
    return (await opening)["session_id"]


async def _relay_latencies(
    same: HubClient, cross: HubClient, sim: SimulatedInstallation, frames: int
) -> tuple[list[float], list[float]]:
    """One session viewed on the socket's instance, one on the other, measured alternately
    (frame by frame) so that load changes on the machine hit both alike."""
    sessions = [await _session(same, sim), await _session(cross, sim)]
    samples: tuple[list[float], list[float]] = ([], [])
    jpeg = tiny_jpeg(3)
    async with same.mjpeg(sessions[0]) as reader_same, cross.mjpeg(sessions[1]) as reader_cross:
        readers = (reader_same, reader_cross)
        for seq in range(frames + 10):
            for which in (0, 1) if seq % 2 else (1, 0):
                start = time.perf_counter()
                await sim.send_frame(sessions[which], jpeg, seq)
                assert await asyncio.wait_for(readers[which].next_frame(), 10) == jpeg
                if seq >= 10:  # warm-up frames are not counted
                    samples[which].append(time.perf_counter() - start)
    await same.close_session(sessions[0])
    await cross.close_session(sessions[1])
    return samples


async def _audit(cluster: Cluster) -> dict[int, str]:
    async with cluster.db.read() as s:
        return dict((await s.execute(select(AuditEntry.seq, AuditEntry.hash))).all())


async def bench_relay_and_failover(database_url: str, frames: int) -> None:
    async with running_cluster(database_url) as cluster:
        sim = SimulatedInstallation(cluster.front, "Bench house", [camera("cam-1", LAT, LON)])  # type: ignore[arg-type]
        await sim.enroll()
        await sim.connect()
        a = await cluster.holder(sim)
        b = next(h for h in cluster.hubs if h is not a)
        user = await cluster.create_user("analyst")
        same, cross = await _relay_latencies(
            cluster.client(a, user), cluster.client(b, user), sim, frames
        )
        report("relay_p95_ms_same_instance", percentile(same, 95) * 1e3)
        report("relay_p95_ms_cross_instance", percentile(cross, 95) * 1e3)
        report(
            "cross_instance_relay_added_ms_p95",
            (percentile(cross, 95) - percentile(same, 95)) * 1e3,
        )

        # SIGKILL the holder during a live session viewed on the other instance.
        officer = cluster.client(b, user)
        session_id = await _session(officer, sim)
        await sim.send_frame(session_id, tiny_jpeg(1), 1)
        before = await _audit(cluster)
        killed = time.monotonic()
        a.kill(signal.SIGKILL)
        a.wait(10)
        assert sim._reader is not None
        await asyncio.wait_for(sim._reader, 30)
        while True:  # the integration's reconnect through the balancer
            try:
                await sim.connect()
                break
            except Exception:
                await asyncio.sleep(0.1)
        report("failover_reconnect_s", time.monotonic() - killed)
        assert await cluster.holder(sim) is b
        after = await _audit(cluster)
        lost = sum(1 for seq, h in before.items() if after.get(seq) != h)
        report("audit_entries_lost", lost)
        report("audit_entries_after_failover", len(after))
        await sim.close()
    verdict = cluster.verify_audit()
    report("verify_audit_ok", int(bool(verdict["ok"])))


async def bench_idle_sockets(database_url: str, connections: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, connections * 2 + 512)), hard))
    keys = {uuid.uuid4().hex: generate_private_key() for _ in range(connections + 40)}
    # Thousands of installations from one address (127.0.0.1): lift the per-address cap on
    # sockets still authenticating (issue 12), as benchmarks/hub.py does.
    env = {
        "CONNECT_SHARE_HUB_HEARTBEAT_S": "3600",
        "CONNECT_SHARE_HUB_MAX_UNAUTHENTICATED_PER_ADDRESS": "1000",
        "CONNECT_SHARE_HUB_MAX_UNAUTHENTICATED_SOCKETS": "2000",
    }
    async with running_cluster(database_url, hub_env=env) as cluster:
        async with cluster.db.write() as s:
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
        ws_url = cluster.front.ws_url
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

            async def connect(inst_id: str) -> None:
                sockets.append(
                    await open_installation_socket(http, ws_url, inst_id, keys[inst_id], 60)
                )

            ids = list(keys)
            for inst_id in ids[:40]:  # warm-up on both instances
                await connect(inst_id)
            await asyncio.sleep(1.0)
            hubs: list[HubProcess] = cluster.hubs
            before = {h.name: rss_kib(h.proc.pid) for h in hubs}  # type: ignore[union-attr]
            for start in range(40, len(ids), 25):  # a reconnect storm, not all at once
                await asyncio.gather(*(connect(i) for i in ids[start : start + 25]))
            await asyncio.sleep(2.0)
            after = {h.name: rss_kib(h.proc.pid) for h in hubs}  # type: ignore[union-attr]
            online = [
                await h.metric(cluster.http, "connect_share_installations_online") for h in hubs
            ]
            report("ws_connections", len(sockets) - 40)
            report("ws_connections_per_instance", "/".join(str(int(x)) for x in online))
            growth = sum(after[n] - before[n] for n in after)
            report("ws_idle_kib_per_conn", growth / connections)
            for ws in sockets:
                await ws.close()
