"""Media figures: privacy-mask cost per frame, and the hub's live relay.

- ``mask_overhead_ratio_720p`` / ``_1080p``: decode + mask + encode of a real photograph
  against plain decode + encode (the floor) in the same run, interleaved.
- ``relay_added_ms_median`` / ``_p95``: a frame's latency from the installation's send to
  the officer's HTTP MJPEG client through the real hub (a separate process on 127.0.0.1),
  minus the same latency over a direct connection (the installation serving MJPEG itself).
- ``relay_sessions_720p_5fps``: the most concurrent 720p sessions at 5 fps, in steps, for
  which one hub process relayed every frame to its viewer (a step gets a second run if
  the first missed frames). ``--quick`` stops at 16 sessions.

The installations and officers are simulated in this process (``tests.hub_harness``); the
hub runs in its own process so its CPU is its own. ``relay_load_cpu`` / ``relay_hub_cpu``
(cores used at the last step) show which side ran out first.

Usage: .venv/bin/python -m benchmarks.media [--quick]
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

from benchmarks.common import median, parse_args, percentile, report

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CONNECT_SHARE_SHARED", ROOT.parent / "shared"))
PHOTOS = ("cat_720p.jpg", "kite_and_cold.jpg", "grace_hopper.bmp", "squat.bmp")
QUICK_STEPS = (4, 16)
FULL_STEPS = (1, 8, 16, 32, 64, 128, 192, 256, 384)
# A neighbour's window, a strip of the street and a corner: about a fifth of the frame.
MASKS_TEXT = (
    "[[[0.05,0.1],[0.3,0.1],[0.3,0.45],[0.05,0.45]],"
    "[[0.55,0.6],[0.95,0.55],[0.98,0.8],[0.6,0.85]],"
    "[[0.4,0],[0.6,0],[0.5,0.2]]]"
)


def photo(name: str, width: int, height: int, quality: int = 85) -> bytes:
    with Image.open(SHARED / "testdata" / "images" / name) as img:
        rgb = img.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- masks -------------------------------------------------------------------------------


def mask_figures(quick: bool) -> None:
    # Imported here: the package's parent is the HA integration, and the hub subprocess
    # (``--serve-hub``) need not load Home Assistant.
    from custom_components.connect_share.media.jpeg import process_frame, recode_frame
    from custom_components.connect_share.media.masks import parse_masks

    masks = parse_masks(MASKS_TEXT)
    repeats = 12 if quick else 120
    for label, (w, h) in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
        frames = [photo(p, w, h) for p in PHOTOS]
        for f in frames:  # warm up (and fill the mask raster cache, as a live session does)
            recode_frame(f)
            process_frame(f, masks)
        plain: list[float] = []
        masked: list[float] = []
        for i in range(repeats):
            f = frames[i % len(frames)]
            t0 = time.perf_counter()
            recode_frame(f)
            t1 = time.perf_counter()
            process_frame(f, masks)
            t2 = time.perf_counter()
            plain.append(t1 - t0)
            masked.append(t2 - t1)
        report(f"mask_overhead_ratio_{label}", median(masked) / median(plain))
        report(f"mask_frame_ms_{label}", median(masked) * 1000)
        report(f"plain_frame_ms_{label}", median(plain) * 1000)


# --- relay -------------------------------------------------------------------------------


def tagged(jpeg: bytes, tag: int) -> bytes:
    """The JPEG with a COM segment carrying ``tag`` right after SOI (still a valid JPEG)."""
    body = b"cs-bench:" + struct.pack("!Q", tag)
    return jpeg[:2] + b"\xff\xfe" + struct.pack("!H", len(body) + 2) + body + jpeg[2:]


def tag_of(jpeg: bytes) -> int:
    return struct.unpack("!Q", jpeg[15:23])[0]


async def read_parts(resp: aiohttp.ClientResponse, on_frame: Any) -> None:
    """Minimal multipart reader (parts carry Content-Length)."""
    stream = resp.content
    while True:
        line = await stream.readline()
        if not line:
            return
        line = line.strip()
        if line.startswith(b"--") and line.endswith(b"--") and len(line) > 4:
            return
        if not line.startswith(b"--"):
            continue
        length = 0
        while header := (await stream.readline()).strip():
            name, _, value = header.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await stream.readexactly(length)
        on_frame(data, time.perf_counter())


async def direct_latencies(frame: bytes, count: int, interval: float) -> list[float]:
    """The installation serves MJPEG to the officer directly (no hub): the baseline."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace; boundary=b"})
        await resp.prepare(request)
        while (data := await queue.get()) is not None:
            await resp.write(
                f"--b\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        await resp.write(b"--b--\r\n")
        return resp

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sent: dict[int, float] = {}
    got: dict[int, float] = {}
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/") as resp,
        ):
            reader = asyncio.create_task(
                read_parts(resp, lambda d, t: got.__setitem__(tag_of(d), t))
            )
            for i in range(count):
                sent[i] = time.perf_counter()
                queue.put_nowait(tagged(frame, i))
                await asyncio.sleep(interval)
            queue.put_nowait(None)
            await asyncio.wait_for(reader, 30)
    finally:
        await runner.cleanup()
    return [got[i] - sent[i] for i in sent if i in got]


class HubProcess:
    """The hub in its own process (``--serve-hub``); talks JSON on stdout, stops on stdin EOF."""

    def __init__(self, codes: int) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.media", "--serve-hub", self.tmp.name, str(codes)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info: dict[str, Any] = {}

    def ready(self) -> None:
        """Wait for the hub's JSON line (it starts while the mask figures run)."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the hub process exited before it was ready")
        self.info = json.loads(line)
        _phase("hub process up")

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.proc.pid)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def serve_hub(directory: str, codes: int) -> None:
    from tests.hub_harness import running_hub

    # Sessions are set up in steps, long before and after their viewers read: no-viewer
    # closing (which a person's player needs) would end them between steps.
    async with running_hub(
        Path(directory), no_viewer_grace_s=3600, first_viewer_grace_s=3600
    ) as hub:
        officer = await hub.create_user(role="analyst")
        info = {
            "url": hub.url,
            "ws_url": hub.ws_url,
            "token": officer.token,
            "codes": [await hub.new_enrollment_code() for _ in range(codes)],
        }
        print(json.dumps(info), flush=True)
        # Nobody reads our stdout after this line: send any later output to stderr, or a
        # full pipe would freeze the hub's event loop.
        os.dup2(2, 1)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


class RelayRig:
    """Simulated installations (one camera each) with live sessions open through the hub."""

    def __init__(self, hub: HubProcess, http: aiohttp.ClientSession) -> None:
        from tests.hub_harness import HubClient

        self.hub = hub
        self.http = http
        self.stub = SimpleNamespace(http=http, url=hub.info["url"], ws_url=hub.info["ws_url"])
        self.api = HubClient(
            http, hub.info["url"], {"Authorization": f"Bearer {hub.info['token']}"}
        )
        self.codes = list(hub.info["codes"])
        self.sims: list[Any] = []
        self.sessions: list[tuple[Any, str]] = []  # (installation, session_id)

    async def add_sessions(self, n: int) -> None:
        from tests.hub_harness import SimulatedInstallation, camera

        if n <= 0:
            return
        new = []
        for _ in range(n):
            k = len(self.sims)
            cam = camera(f"cam-{k}", 33.75 + k * 1e-5, -84.39, mode="auto")
            sim = SimulatedInstallation(self.stub, f"house {k}", [cam], auto_approve=True)  # type: ignore[arg-type]
            await sim.enroll(self.codes.pop())
            await sim.connect()
            self.sims.append(sim)
            new.append(sim)
        inc = await self.api.open_incident(lat=33.75, lon=-84.39, radius_m=2000)
        await self.api.request_access(
            inc["incident_id"], [(s.installation_id, s.cameras[0].camera_id) for s in new]
        )
        for sim in new:
            cam_id = sim.cameras[0].camera_id
            grant = await self.api.wait_for_grant(inc["incident_id"], cam_id, scope="live")
            session = await self.api.open_session(grant["grant_id"], cam_id, fps=5.0)
            self.sessions.append((sim, session["session_id"]))

    async def run(
        self, frame: bytes, fps: float, seconds: float
    ) -> tuple[int, int, list[float], float, float]:
        """Every session sends ``fps`` frames/s for ``seconds`` while its viewer reads.

        Returns (sent, received, latencies, load_cpu_cores, hub_cpu_cores)."""
        sent: dict[tuple[int, int], float] = {}
        got: dict[tuple[int, int], float] = {}
        count = max(1, int(seconds * fps))
        interval = 1 / fps
        viewers = []
        responses = []
        for idx, (_sim, sid) in enumerate(self.sessions):
            resp = await self.http.get(
                self.hub.info["url"] + f"/api/v1/sessions/{sid}/stream",
                headers=self.api.headers,
            )
            responses.append(resp)
            if resp.status != 200:
                raise RuntimeError(f"viewer {idx}: HTTP {resp.status} {await resp.text()}")

            def on_frame(data: bytes, t: float, idx: int = idx) -> None:
                got[(idx, tag_of(data) % 1_000_000)] = t

            viewers.append(asyncio.create_task(read_parts(resp, on_frame)))
        await asyncio.sleep(0.3)  # the hub attaches the viewers

        async def sender(idx: int, sim: Any, sid: str) -> None:
            start = time.perf_counter() + idx * interval / len(self.sessions)  # spread
            for i in range(count):
                delay = start + i * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent[(idx, i)] = time.perf_counter()
                await sim.send_frame(sid, tagged(frame, idx * 1_000_000 + i), seq=i)

        cpu0, hub0, wall0 = time.process_time(), self.hub.cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(sender(i, sim, sid) for i, (sim, sid) in enumerate(self.sessions)))
        await asyncio.sleep(0.6)  # let the last frames through
        wall = time.perf_counter() - wall0
        load_cpu = (time.process_time() - cpu0) / wall
        hub_cpu = (self.hub.cpu_seconds() - hub0) / wall
        for task in viewers:
            task.cancel()
        await asyncio.gather(*viewers, return_exceptions=True)
        for resp in responses:
            resp.close()
        lat = [got[k] - sent[k] for k in sent if k in got]
        return len(sent), len(got), lat, load_cpu, hub_cpu

    async def close(self) -> None:
        for sim in self.sims:
            await sim.close()


async def relay_figures(quick: bool, hub: HubProcess) -> None:
    frame = photo("kite_and_cold.jpg", 1280, 720)
    hub.ready()
    try:
        # No connection cap: every session holds a WebSocket and a viewer stream.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            rig = RelayRig(hub, http)
            try:
                # Latency: one session, frames spaced so nothing queues.
                n = 30 if quick else 150
                direct = await direct_latencies(frame, n, 0.05)
                await rig.add_sessions(1)
                _, _, via_hub, _, _ = await rig.run(frame, 20.0, n / 20.0)
                report("relay_added_ms_median", max(0.0, median(via_hub) - median(direct)) * 1000)
                report(
                    "relay_added_ms_p95",
                    max(0.0, percentile(via_hub, 95) - percentile(direct, 95)) * 1000,
                )
                report("relay_direct_ms_median", median(direct) * 1000)
                report("relay_hub_ms_median", median(via_hub) * 1000)

                # Capacity: add sessions in steps until a viewer misses a frame.
                steps = QUICK_STEPS if quick else FULL_STEPS
                seconds = 2.0 if quick else 8.0
                best, cpu = 0, (0.0, 0.0)
                for target in steps:
                    await rig.add_sessions(target - len(rig.sessions))
                    # A step passes if one of two runs delivers every frame: other work on
                    # a shared machine can stall one run without saying much about the hub.
                    for attempt in (1, 2):
                        sent, received, lat, load_cpu, hub_cpu = await rig.run(frame, 5.0, seconds)
                        cpu = (load_cpu, hub_cpu)
                        _phase(
                            f"{target} sessions (run {attempt}): {received}/{sent} frames, "
                            f"p95 {percentile(lat, 95) * 1000:.1f} ms, "
                            f"cpu load {load_cpu:.2f} hub {hub_cpu:.2f}"
                        )
                        if received == sent:
                            break
                    if received < sent:
                        break
                    best = target
                report("relay_sessions_720p_5fps", best)
                report("relay_load_cpu", cpu[0])
                report("relay_hub_cpu", cpu[1])
            finally:
                await rig.close()
    finally:
        hub.close()


def _phase(name: str, t0: float = time.perf_counter()) -> None:
    print(f"[{time.perf_counter() - t0:6.1f} s] {name}", file=sys.stderr, flush=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-hub":
        asyncio.run(serve_hub(sys.argv[2], int(sys.argv[3])))
        return
    args = parse_args(__doc__.splitlines()[0])
    _phase("start")
    hub = HubProcess(codes=(QUICK_STEPS if args.quick else FULL_STEPS)[-1] + 1)
    try:
        mask_figures(args.quick)
        _phase("masks done")
    except BaseException:
        hub.close()
        raise
    asyncio.run(relay_figures(args.quick, hub))
    _phase("relay done")


if __name__ == "__main__":
    main()
