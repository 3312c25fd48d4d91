"""Hub memory under unauthenticated installation sockets (issue 12 item 1).

A separate hub process; ``senders`` raw WebSocket clients from 127.0.0.1 each announce one
text message of ``size`` bytes before ``hello`` and stream it in 64 KiB chunks. The figures
are the hub's RSS before (after a warm-up in the same run) and after, and its peak (VmHWM).

Usage: .venv/bin/python -m benchmarks.hub_memory [--quick]
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from benchmarks.common import parse_args, report

WS_PATH = "/api/v1/installations/ws"
CHUNK = 64 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


@dataclass
class FloodResult:
    rss_before_kib: int
    rss_after_kib: int
    peak_kib: int
    sent_bytes: int
    closed_by_hub: int
    hub_alive: bool

    @property
    def growth_kib(self) -> int:
        return max(self.rss_after_kib, self.peak_kib) - self.rss_before_kib


async def _sender(port: int, size: int, address: str) -> tuple[int, bool]:
    """One stranger: WebSocket handshake, then a ``size``-byte text frame. (bytes, cut)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    status = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in status.split(b"\r\n", 1)[0]:
        writer.close()
        return 0, True
    # FIN + text, masked, 64-bit length; an all-zero mask leaves the payload as sent.
    writer.write(struct.pack("!BBQ", 0x81, 0x80 | 127, size) + b"\0\0\0\0")
    sent, cut = 0, False
    chunk = b"a" * CHUNK
    try:
        while sent < size:
            writer.write(chunk[: min(CHUNK, size - sent)])
            await writer.drain()
            sent += min(CHUNK, size - sent)
        # Stay connected a moment, as an attacker would, while the hub holds what it got.
        await asyncio.wait_for(reader.read(1), 2.0)
        cut = reader.at_eof()
    except TimeoutError:
        cut = False  # still open: the hub holds the socket (and what it buffered)
    except ConnectionError:
        cut = True
    finally:
        writer.close()
    return sent, cut


async def flood(
    workdir: Path, senders: int, size: int, *, addresses: int = 1, env: dict[str, str] | None = None
) -> FloodResult:
    """Start a hub, warm it up, send the flood, measure. Addresses: 127.0.0.1, .2, ..."""
    port = free_port()
    url = f"sqlite+aiosqlite:///{workdir / 'flood.sqlite3'}"
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
            "CONNECT_SHARE_HUB_KEK_FILE": str(workdir / "flood.kek"),
            **(env or {}),
        },
        cwd=workdir,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
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
            # Warm-up: one small stranger, so lazy imports and first allocations are done.
            await _sender(port, 1024, "127.0.0.1")
            await asyncio.sleep(0.5)
            before = proc_kib(server.pid, "VmRSS")
            # Start the peak (VmHWM) afresh, so start-up (migrations) does not count.
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")
            results = await asyncio.gather(
                *(_sender(port, size, f"127.0.0.{1 + i % addresses}") for i in range(senders)),
                return_exceptions=True,
            )
            await asyncio.sleep(0.5)
            after = proc_kib(server.pid, "VmRSS")
            peak = proc_kib(server.pid, "VmHWM")
            async with http.get(base + "/healthz") as resp:
                alive = resp.status == 200
        done = [r for r in results if isinstance(r, tuple)]
        return FloodResult(
            rss_before_kib=before,
            rss_after_kib=after,
            peak_kib=peak,
            sent_bytes=sum(r[0] for r in done),
            closed_by_hub=sum(1 for r in done if r[1]) + (len(results) - len(done)),
            hub_alive=alive,
        )
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)


async def run(quick: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="connect-share-flood-") as tmp:
        result = await flood(Path(tmp), 40, 8 * 1024 * 1024, addresses=8)
    report("flood_senders", 40)
    report("flood_message_mib", 8)
    report("hub_rss_before_mib", result.rss_before_kib / 1024)
    report("hub_rss_after_mib", result.rss_after_kib / 1024)
    report("hub_rss_peak_mib", result.peak_kib / 1024)
    report("hub_rss_growth_mib", result.growth_kib / 1024)
    report("flood_sockets_cut_by_hub", result.closed_by_hub)


def main() -> None:
    args = parse_args(__doc__ or "")
    asyncio.run(run(args.quick))


if __name__ == "__main__":
    main()
