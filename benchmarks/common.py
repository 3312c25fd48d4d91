"""The benchmark convention: ``name = value`` lines, ``--quick`` under 60 s, exit 0.

Every figure that claims a speed comes with a baseline measured in the same run, so a
slower or faster machine does not change what the ratio says.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from connect_share_protocol import decode_message, encode_message, sign_auth_challenge
from connect_share_protocol.messages import Auth, Hello


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller run, under 60 s")
    return parser.parse_args()


def report(name: str, value: float | int | str) -> None:
    if isinstance(value, float):
        value = f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"
    print(f"{name} = {value}", flush=True)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def time_calls(fn: Callable[[], object], repeats: int, *, warmup: int = 20) -> list[float]:
    """Seconds per call, one sample per call."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


async def open_installation_socket(
    http: aiohttp.ClientSession, ws_url: str, inst_id: str, key: Any, timeout: float
) -> aiohttp.ClientWebSocketResponse:
    """An installation's socket to the hub, authenticated (hello, signed challenge)."""
    ws = await http.ws_connect(ws_url, heartbeat=None, autoping=True)
    await ws.send_str(encode_message(Hello(installation_id=inst_id, client_version="b")))
    challenge = decode_message((await ws.receive(timeout=timeout)).data)
    nonce = challenge.nonce  # type: ignore[attr-defined]
    sig = sign_auth_challenge(key, inst_id, nonce)
    await ws.send_str(encode_message(Auth(installation_id=inst_id, nonce=nonce, signature=sig)))
    ok = decode_message((await ws.receive(timeout=timeout)).data)
    assert ok.TYPE == "auth_ok", ok
    return ws
