"""Several real hub processes behind nginx, sharing PostgreSQL and a NATS server.

Every service is started here, on 127.0.0.1, and stopped on exit. Binaries: ``nats-server``
and ``nginx`` from ``$PATH``, ``/usr/sbin`` or ``/usr/bin`` (Debian packages ``nats-server``
and ``nginx``; ``find_binary`` returns None when absent so tests can skip with the reason).

``Cluster.front`` looks enough like ``tests.hub_harness.HubHarness`` for
``SimulatedInstallation`` (``url``, ``ws_url``, ``http``, ``new_enrollment_code``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hub_server import enrollment, users
from hub_server.database import Database
from tests.hub.postgres import free_port
from tests.hub_harness import HubClient, HubUser, SimulatedInstallation

ROOT = Path(__file__).resolve().parent.parent
NATS_MAX_PAYLOAD = 9 * 1024 * 1024


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"):
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return None


def start_nats(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = find_binary("nats-server")
    assert binary is not None
    port = free_port()
    log = open(root / "nats.log", "wb")  # noqa: SIM115 - lives as long as the server
    conf = root / "nats.conf"
    # Frames may be up to 8 MiB (protocol MAX_FRAME_BYTES); NATS allows 1 MiB by default.
    conf.write_text(f"listen: 127.0.0.1:{port}\nmax_payload: {NATS_MAX_PAYLOAD}\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    _wait_port(port, proc, "nats-server")
    return proc, f"nats://127.0.0.1:{port}"


NGINX_CONF = """
# Two workers: each proxied socket costs nginx two descriptors, and a host may cap a
# process at 20,000 (10,000 installations need more than one worker then).
worker_processes 2;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log info;
{user}
worker_rlimit_nofile 65536;
events {{ worker_connections 30000; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # Plain round robin: no stickiness. A dead instance is skipped (next upstream).
    upstream hubs {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{
            proxy_pass http://hubs;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 3600s;
            proxy_buffering off;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def start_nginx(root: Path, ports: list[int]) -> tuple[subprocess.Popen[bytes], int]:
    binary = find_binary("nginx")
    assert binary is not None
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port, servers=servers, user=user))
    log = open(root / "nginx.out", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(root)], stdout=log, stderr=subprocess.STDOUT
    )
    _wait_port(port, proc, "nginx", root / "nginx-error.log")
    return proc, port


def _wait_port(
    port: int, proc: subprocess.Popen[bytes], what: str, log: Path | None = None
) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            detail = log.read_text()[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {detail}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


@dataclass
class HubProcess:
    name: str
    port: int
    metrics_port: int
    database_url: str
    bus_url: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "CONNECT_SHARE_HUB_BUS_URL": self.bus_url,
            "CONNECT_SHARE_HUB_METRICS_PORT": str(self.metrics_port),
            "CONNECT_SHARE_HUB_HEARTBEAT_S": "2",
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
        }
        out = open(self.log, "ab")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub_server.cli",
                "--database-url",
                self.database_url,
                "serve",
                "--port",
                str(self.port),
                "--no-migrate",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )

    async def wait_ready(self, http: aiohttp.ClientSession, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                async with http.get(self.url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready: {self.log.read_text()[-3000:]}")

    async def metric(self, http: aiohttp.ClientSession, name: str) -> float:
        async with http.get(f"http://127.0.0.1:{self.metrics_port}/metrics") as resp:
            text = await resp.text()
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        raise KeyError(name)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)


@dataclass
class Front:
    """The load balancer's address, usable by ``SimulatedInstallation``."""

    url: str
    http: aiohttp.ClientSession
    db: Database

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/v1/installations/ws"

    async def new_enrollment_code(self, ttl_s: int = 3600) -> str:
        async with self.db.write() as session:
            code, _ = await enrollment.create_code(self.db, session, ttl_s=ttl_s, created_by=None)
        return code


@dataclass
class Cluster:
    root: Path
    database_url: str
    hubs: list[HubProcess]
    front: Front
    http: aiohttp.ClientSession
    db: Database
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def create_user(self, role: str = "analyst") -> HubUser:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        async with self.db.write() as session:
            user = await users.create_user(
                self.db,
                session,
                username=username,
                password="correct horse battery staple",
                role=role,
                display_name=f"Cluster {role}",
                badge="4242",
            )
            token = await users.create_api_token(self.db, session, user, name="t", ttl_days=1)
        return HubUser(user.id, username, "", role, token, user.display_name, user.badge)

    def client(self, hub: HubProcess | Front, user: HubUser) -> HubClient:
        return HubClient(self.http, hub.url, {"Authorization": f"Bearer {user.token}"})

    async def installation(self, cameras: list[Any]) -> SimulatedInstallation:
        sim = SimulatedInstallation(self.front, "Cluster house", cameras)  # type: ignore[arg-type]
        await sim.enroll()
        await sim.connect()
        return sim

    async def holder(self, sim: SimulatedInstallation) -> HubProcess:
        """The instance that holds the installation's socket (from its metrics)."""
        for hub in self.hubs:
            alive = hub.proc is not None and hub.proc.poll() is None
            if alive and await hub.metric(self.http, "connect_share_installations_online") >= 1:
                return hub
        raise AssertionError("no instance holds the installation")

    def verify_audit(self) -> dict[str, Any]:
        import json

        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "hub_server.cli",
                "--database-url",
                self.database_url,
                "verify-audit",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        report["exit_code"] = out.returncode
        return report


@asynccontextmanager
async def running_cluster(
    database_url: str, instances: int = 2, hub_env: dict[str, str] | None = None
) -> AsyncIterator[Cluster]:
    """PostgreSQL database (given, migrated here), NATS, ``instances`` hubs, nginx in front."""
    from hub_server.database import migrate

    root = Path(tempfile.mkdtemp(prefix="connect-share-cluster-"))
    await migrate(database_url)
    db = Database(database_url)
    processes: list[subprocess.Popen[bytes]] = []
    hubs: list[HubProcess] = []
    http = aiohttp.ClientSession()
    try:
        nats_proc, bus_url = start_nats(root)
        processes.append(nats_proc)
        for n in range(instances):
            hub = HubProcess(
                name="AB"[n] if n < 2 else f"hub{n}",
                port=free_port(),
                metrics_port=free_port(),
                database_url=database_url,
                bus_url=bus_url,
                log=root / f"hub{n}.log",
                extra_env=dict(hub_env or {}),
            )
            hub.start()
            hubs.append(hub)
        for hub in hubs:
            await hub.wait_ready(http)
        nginx_proc, nginx_port = start_nginx(root, [h.port for h in hubs])
        processes.append(nginx_proc)
        front = Front(f"http://127.0.0.1:{nginx_port}", http, db)
        yield Cluster(root, database_url, hubs, front, http, db, processes)
    finally:
        await http.close()
        for hub in hubs:
            hub.kill(signal.SIGTERM)
        for hub in hubs:
            if hub.proc is not None:
                try:
                    hub.wait(15)
                except subprocess.TimeoutExpired:
                    hub.kill()
                    hub.wait(5)
        for proc in reversed(processes):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        await db.close()
        shutil.rmtree(root, ignore_errors=True)
