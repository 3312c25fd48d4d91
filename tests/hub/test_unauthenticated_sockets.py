"""Issue 12 item 1: strangers on the installation WebSocket cannot exhaust the hub's memory.

Before ``auth_ok`` a socket gets 16 KiB in total, a short deadline, and one address holds at
most a few such sockets. The memory test runs a separate hub process and reads its RSS.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from benchmarks.hub_memory import flood
from connect_share_protocol import decode_message
from tests.hub_harness import running_hub


async def test_big_message_before_hello_cuts_the_socket(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        async with hub.http.ws_connect(hub.ws_url, heartbeat=None) as ws:
            await ws.send_str("x" * (1024 * 1024))
            msg = await ws.receive(timeout=10)
            # No error reply to read: the hub closed the connection.
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
        # Small junk before hello still gets an error reply and keeps the socket.
        async with hub.http.ws_connect(hub.ws_url, heartbeat=None) as ws:
            await ws.send_str("{}")
            reply = decode_message((await ws.receive(timeout=10)).data)
            assert reply.TYPE == "error"
        # An installation still connects and is served.
        sim = await hub.simulated_installation()
        await sim.roundtrip()


async def test_authenticated_socket_takes_big_messages(tmp_path: Path) -> None:
    """The budget ends at auth_ok: frames of a few hundred KiB still reach the relay."""
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation()
        await sim.send_raw("x" * (300 * 1024))  # over MAX_MESSAGE_BYTES: an error, not a cut
        err = await sim.next_message("error")
        assert err.code == "too_large"
        await sim.roundtrip()


async def test_per_address_cap_on_unauthenticated_sockets(tmp_path: Path) -> None:
    async with running_hub(tmp_path, max_unauthenticated_per_address=3) as hub:
        waiting = [await hub.http.ws_connect(hub.ws_url, heartbeat=None) for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await hub.http.ws_connect(hub.ws_url, heartbeat=None)
        assert refused.value.status == 429
        # Another address is not affected.
        other = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0)))
        try:
            async with other.ws_connect(hub.ws_url, heartbeat=None) as ws:
                assert not ws.closed
        finally:
            await other.close()
        await waiting[0].close()
        # A freed slot is usable again, and authenticated sockets do not count.
        sim = await hub.simulated_installation()
        await sim.roundtrip()
        for ws in waiting[1:]:
            await ws.close()


async def test_authentication_deadline(tmp_path: Path) -> None:
    async with (
        running_hub(tmp_path, auth_timeout_s=0.5) as hub,
        hub.http.ws_connect(hub.ws_url, heartbeat=None) as ws,
    ):
        reply = decode_message((await ws.receive(timeout=10)).data)
        assert reply.TYPE == "error" and reply.code == "auth_timeout"  # type: ignore[attr-defined]
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_forty_8mib_strangers_grow_rss_less_than_32mib(tmp_path: Path) -> None:
    """The issue's attack on a separate hub process; a memory bound, not a timing."""
    result = await flood(tmp_path, senders=40, size=8 * 1024 * 1024, addresses=8)
    assert result.hub_alive
    assert result.closed_by_hub == 40
    assert result.growth_kib < 32 * 1024, result
