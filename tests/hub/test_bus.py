"""The bus interface behaves the same on both engines: in-process and a real nats-server."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub_server.bus import Bus, InProcessBus, NatsBus, make_bus
from tests.cluster_harness import find_binary, start_nats


@pytest.fixture(params=["in_process", "nats"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "in_process":
        yield InProcessBus()
        return
    if find_binary("nats-server") is None:
        pytest.skip("nats-server not installed (Debian package nats-server)")
    root = Path(tempfile.mkdtemp(prefix="connect-share-nats-"))
    proc, url = start_nats(root)
    nats_bus = NatsBus(url)
    try:
        await nats_bus.start()
        yield nats_bus
    finally:
        await nats_bus.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


async def _settle(bus: Bus) -> None:
    """NATS delivers asynchronously: a ping round trip orders it after earlier publishes."""
    if isinstance(bus, NatsBus):
        await bus.ping()
        await asyncio.sleep(0.05)


async def test_publish_subscribe_in_order_and_unsubscribe(bus: Bus) -> None:
    assert await bus.ping()
    got: list[bytes] = []

    async def handler(data: bytes) -> None:
        got.append(data)

    sub = await bus.subscribe("cs.sess.abc", handler)
    await _settle(bus)
    for n in range(50):
        await bus.publish("cs.sess.abc", b"F%d" % n)
    await bus.publish("cs.sess.other", b"not for us")
    for _ in range(100):
        await _settle(bus)
        if len(got) == 50:
            break
    assert got == [b"F%d" % n for n in range(50)]
    await sub.unsubscribe()
    await _settle(bus)
    await bus.publish("cs.sess.abc", b"late")
    await _settle(bus)
    assert got[-1] == b"F49"


async def test_request_reply_and_no_responders(bus: Bus) -> None:
    assert await bus.request("cs.inst.nobody", b"x", timeout_s=2) is None

    async def holder(data: bytes) -> bytes:
        return b"1" if data == b"deliver" else b"0"

    await bus.subscribe("cs.inst.someone", holder)
    await _settle(bus)
    assert await bus.request("cs.inst.someone", b"deliver", timeout_s=5) == b"1"
    assert await bus.request("cs.inst.someone", b"other", timeout_s=5) == b"0"


def test_make_bus_picks_the_engine() -> None:
    assert isinstance(make_bus(""), InProcessBus)
    assert isinstance(make_bus("nats://127.0.0.1:4222"), NatsBus)
    with pytest.raises(ValueError):
        make_bus("redis://127.0.0.1")
