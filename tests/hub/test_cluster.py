"""Two hub processes behind nginx, sharing PostgreSQL and NATS (all started here).

The installation connects through nginx (no stickiness) and lands on instance A; the officer
talks to the other instance, B. Requests, decisions, tokens, session open, live frames and
revocations all cross the bus. Then A is killed (SIGKILL) during a live session: the
installation reconnects through nginx to B, the viewer's stream ends with a clear status,
the grant still works, a revocation made while the installation was away arrives. A is
restarted and B is stopped with SIGTERM: it drains (viewers end, the installation moves to
A). ``verify-audit`` passes at the end.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time

import pytest
from sqlalchemy import select

from hub_server.models import AuditEntry
from tests.cluster_harness import Cluster, find_binary, running_cluster
from tests.hub.postgres import PostgresServer
from tests.hub_harness import HubClient, SimulatedInstallation, camera, tiny_jpeg

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        find_binary("nats-server") is None,
        reason="nats-server not installed (Debian package nats-server, in "
        "scripts/debian-packages.txt)",
    ),
    pytest.mark.skipif(
        find_binary("nginx") is None,
        reason="nginx not installed (Debian package nginx, in scripts/debian-packages.txt)",
    ),
]

LAT, LON = 33.7490, -84.3880


async def live_grant(
    officer: HubClient, sim: SimulatedInstallation, camera_id: str = "cam-1"
) -> tuple[str, dict]:
    inc = await officer.open_incident(LAT, LON, 300)
    await officer.request_live(inc["incident_id"], [(sim.installation_id, camera_id)])
    req = await sim.next_message("access_request")
    await sim.approve(req)
    grant_msg = await sim.next_message("grant")
    grant = await officer.wait_for_grant(inc["incident_id"], camera_id, "live")
    assert sim.verify(grant_msg.token).claims.token_id == grant["grant_id"]
    return inc["incident_id"], grant


async def start_session(officer: HubClient, sim: SimulatedInstallation, grant_id: str) -> str:
    opening = asyncio.create_task(officer.open_session(grant_id, "cam-1"))
    msg = await sim.next_message("session_open")
    await sim.accept_session(msg)
    session = await opening
    return session["session"]["session_id"] if "session" in session else session["session_id"]


async def reconnect(cluster: Cluster, sim: SimulatedInstallation, timeout: float = 20) -> float:
    """What the integration does after its socket drops: reconnect through the balancer."""
    start = time.monotonic()
    if sim._reader is not None:
        await asyncio.wait_for(sim._reader, timeout)  # the old socket is closed
    deadline = start + timeout
    while True:
        try:
            await sim.connect()
            return time.monotonic() - start
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_two_instances_nginx_nats_failover_and_drain(
    postgres_server: PostgresServer,
) -> None:
    async with running_cluster(postgres_server.create_database()) as cluster:
        sim = await cluster.installation([camera("cam-1", LAT, LON)])
        a = await cluster.holder(sim)
        b = next(h for h in cluster.hubs if h is not a)
        user = await cluster.create_user("analyst")
        officer = cluster.client(b, user)

        # --- request, approval, token, live frames, all across instances -------------
        _incident, grant = await live_grant(officer, sim)
        session_id = await start_session(officer, sim, grant["grant_id"])
        async with officer.mjpeg(session_id) as reader:
            for seq in range(3):
                await sim.send_frame(session_id, tiny_jpeg(seq), seq)
                assert (await asyncio.wait_for(reader.next_frame(), 10)) == tiny_jpeg(seq)
            big = b"\xff\xd8" + bytes(range(256)) * 8192  # 2 MiB: over NATS' default payload
            await sim.send_frame(session_id, big, 3)
            assert (await asyncio.wait_for(reader.next_frame(), 10)) == big
            # --- revoke on B: the stream stops, no frame after it --------------------
            revoked = await officer.revoke_grant(grant["grant_id"])
            assert revoked == [grant["grant_id"]]
            await sim.send_frame(session_id, tiny_jpeg(9), 9)
            assert await asyncio.wait_for(reader.next_frame(), 10) is None
        revoke_msg = await sim.next_message("revoke")
        assert grant["grant_id"] in revoke_msg.token_ids
        assert (await officer.session(session_id))["end_reason"] == "revoked"
        assert await a.metric(cluster.http, "connect_share_frames_relayed_total") == 0
        assert await b.metric(cluster.http, "connect_share_frames_relayed_total") == 4

        # --- SIGKILL A during a live session --------------------------------------------
        _incident2, grant2 = await live_grant(officer, sim)
        _incident3, grant3 = await live_grant(officer, sim)
        session_id = await start_session(officer, sim, grant2["grant_id"])
        async with officer.mjpeg(session_id) as reader:
            await sim.send_frame(session_id, tiny_jpeg(1), 1)
            assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(1)
            a.kill(signal.SIGKILL)
            a.wait(10)
            # A revocation made while the installation has no socket anywhere.
            await officer.revoke_grant(grant3["grant_id"])
            took = await reconnect(cluster, sim)
            assert took < 20
            assert await cluster.holder(sim) is b
            # The viewer's stream ends with a clear status.
            assert await asyncio.wait_for(reader.next_frame(), 10) is None
        ended = await officer.session(session_id)
        assert ended["end_reason"] == "installation_reconnected"
        # Sent right after auth_ok (sim.messages keeps what next_message skipped).
        assert any(m.TYPE == "revoke" and grant3["grant_id"] in m.token_ids for m in sim.messages)
        # The grant issued before the failure still works on the surviving instance.
        session_id = await start_session(officer, sim, grant2["grant_id"])
        async with officer.mjpeg(session_id) as reader:
            await sim.send_frame(session_id, tiny_jpeg(2), 2)
            assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(2)

            # --- SIGTERM drains B: viewer ends cleanly, installation moves to A ----------
            a.start()
            await a.wait_ready(cluster.http)
            b.kill(signal.SIGTERM)
            assert await asyncio.wait_for(reader.next_frame(), 10) is None
        assert b.wait(30) == 0
        await reconnect(cluster, sim)
        assert await cluster.holder(sim) is a
        officer_a = cluster.client(a, user)
        assert (await officer_a.session(session_id))["end_reason"] == "hub_shutdown"
        await sim.close()

    report = cluster.verify_audit()
    assert report["ok"] and report["exit_code"] == 0, report
    assert report["entries"] > 10


async def test_viewers_are_counted_across_instances_and_leased(
    postgres_server: PostgresServer,
) -> None:
    """Issue 13: the installation's socket on A, the officer's player on B.

    A adds up B's players (reported over NATS, renewed as a lease): the installation hears
    the count, a watched session is not ended as unwatched, and it ends (``no_viewer``) when
    the player leaves, or when B is killed with its player and its lease lapses.
    """
    # Short, but with seconds of slack for a busy machine: a renewal (every 2/3 s) may be
    # late by lease - 2/3 + grace before a watched session would be taken as unwatched.
    timings = {
        "CONNECT_SHARE_HUB_VIEWER_LEASE_S": "2",
        "CONNECT_SHARE_HUB_NO_VIEWER_GRACE_S": "1",
        "CONNECT_SHARE_HUB_FIRST_VIEWER_GRACE_S": "60",
    }
    async with running_cluster(postgres_server.create_database(), hub_env=timings) as cluster:
        sim = await cluster.installation([camera("cam-1", LAT, LON)])
        a = await cluster.holder(sim)
        b = next(h for h in cluster.hubs if h is not a)
        user = await cluster.create_user("analyst")
        officer = cluster.client(b, user)
        _incident, grant = await live_grant(officer, sim)

        session_id = await start_session(officer, sim, grant["grant_id"])
        async with officer.mjpeg(session_id) as reader:
            told = await sim.next_message("session_viewers")
            assert (told.session_id, told.viewers) == (session_id, 1)
            # Watched through B for several lease periods (B renews every third of one):
            # A keeps counting B's player and the session stays live.
            for seq in range(20):
                await sim.send_frame(session_id, tiny_jpeg(seq), seq)
                assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(seq)
                await asyncio.sleep(0.25)
            assert (await officer.session(session_id))["state"] == "live"
            assert not [m for m in sim.messages if m.TYPE == "session_close"]
        told = await sim.next_message("session_viewers")
        assert (told.session_id, told.viewers) == (session_id, 0)
        closed = await sim.next_message("session_close")
        assert (closed.session_id, closed.reason) == (session_id, "no_viewer")
        assert (await officer.session(session_id))["end_reason"] == "no_viewer"

        # B dies with its player: its lease lapses on A, which ends the session and, with
        # B gone, records the end itself.
        session_id = await start_session(officer, sim, grant["grant_id"])
        async with officer.mjpeg(session_id) as reader:
            told = await sim.next_message("session_viewers")
            assert (told.session_id, told.viewers) == (session_id, 1)
            await sim.send_frame(session_id, tiny_jpeg(20), 20)
            assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(20)
            b.kill(signal.SIGKILL)
            b.wait(10)
            told = await sim.next_message("session_viewers")
            assert (told.session_id, told.viewers) == (session_id, 0)
            closed = await sim.next_message("session_close")
            assert (closed.session_id, closed.reason) == (session_id, "no_viewer")
        ended = await cluster.client(a, user).session(session_id)
        assert ended["end_reason"] == "no_viewer" and ended["ended_at"] is not None
        await sim.close()

    report = cluster.verify_audit()
    assert report["ok"] and report["exit_code"] == 0, report


async def recorded_end(officer: HubClient, session_id: str) -> str:
    """The session's recorded end reason, waiting for it: an owner stopped by a revocation
    made elsewhere answers first and records the end right after."""
    async with asyncio.timeout(10):
        while (reason := (await officer.session(session_id))["end_reason"]) is None:
            await asyncio.sleep(0.05)
    return str(reason)


async def test_a_stream_balanced_to_another_instance_is_served_and_counted(
    postgres_server: PostgresServer,
) -> None:
    """Issue 13, no stickiness: the player's request may reach an instance other than the
    one that opened the session. It is served there too (frames over NATS), counted, and
    closing or revoking through any instance stops every stream."""
    async with running_cluster(postgres_server.create_database()) as cluster:
        sim = await cluster.installation([camera("cam-1", LAT, LON)])
        a = await cluster.holder(sim)
        b = next(h for h in cluster.hubs if h is not a)
        user = await cluster.create_user("analyst")
        on_a, on_b = cluster.client(a, user), cluster.client(b, user)
        _incident, grant = await live_grant(on_b, sim)

        # Opened through B (not the socket's instance), watched through A and B.
        session_id = await start_session(on_b, sim, grant["grant_id"])
        async with on_a.mjpeg(session_id) as via_a, on_b.mjpeg(session_id) as via_b:
            counts = [(await sim.next_message("session_viewers")).viewers for _ in range(2)]
            assert counts == [1, 2]
            await sim.send_frame(session_id, tiny_jpeg(1), 1)
            assert await asyncio.wait_for(via_a.next_frame(), 10) == tiny_jpeg(1)
            assert await asyncio.wait_for(via_b.next_frame(), 10) == tiny_jpeg(1)
            # Closed through A, which does not own it: both streams end, recorded once.
            assert (await on_a.close_session(session_id))["ended"] == "closed_by_officer"
            assert await asyncio.wait_for(via_a.next_frame(), 10) is None
            assert await asyncio.wait_for(via_b.next_frame(), 10) is None
        closed = await sim.next_message("session_close")
        assert (closed.session_id, closed.reason) == (session_id, "closed_by_officer")
        assert (await on_b.session(session_id))["end_reason"] == "closed_by_officer"

        # Opened through A (the socket's instance), watched through B only. B, which
        # neither owns nor serves it yet, reports it live like A does.
        session_id = await start_session(on_a, sim, grant["grant_id"])
        assert (await on_b.session(session_id))["state"] == "live"
        assert (await on_a.session(session_id))["state"] == "live"
        async with on_b.mjpeg(session_id) as via_b:
            told = await sim.next_message("session_viewers")
            assert (told.session_id, told.viewers) == (session_id, 1)
            await sim.send_frame(session_id, tiny_jpeg(2), 2)
            assert await asyncio.wait_for(via_b.next_frame(), 10) == tiny_jpeg(2)
            # Revoked through B: the stream served there stops, the owner records it.
            assert await on_b.revoke_grant(grant["grant_id"]) == [grant["grant_id"]]
            assert await asyncio.wait_for(via_b.next_frame(), 10) is None
        assert await recorded_end(on_a, session_id) == "revoked"
        async with cluster.db.read() as session:
            stops = (
                await session.scalars(
                    select(AuditEntry.detail).where(AuditEntry.action == "session.stop")
                )
            ).all()
        ended = sorted(json.loads(d)["reason"] for d in stops)
        assert ended == ["closed_by_officer", "revoked"]  # each recorded once

        # A session whose owner died is not served from its still open row.
        _incident, grant = await live_grant(on_a, sim)
        session_id = await start_session(on_b, sim, grant["grant_id"])
        b.kill(signal.SIGKILL)
        b.wait(10)
        async with asyncio.timeout(30):  # a stream with no frames would never finish
            status, body = await on_a.call("GET", f"/api/v1/sessions/{session_id}/stream")
        assert (status, body["error"]) == (410, "session_ended")
        assert (await on_a.session(session_id))["state"] == "ended"
        await sim.close()

    report = cluster.verify_audit()
    assert report["ok"] and report["exit_code"] == 0, report
