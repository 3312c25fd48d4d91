"""Outbox acks (issue 10, defect 3): each ``msg_id`` is processed once, and acked each time.

The installation's outbox replays a ``decision``, ``revoke`` or ``session_close`` until the
hub acks it (after reconnects too). A replay must change nothing at the hub: no second
token, no second audit entry, and a replayed ``revoke all`` must not revoke a grant issued
after it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connect_share_protocol.messages import Decision, Revoke, SessionClose
from hub_server import audit, message_ids
from hub_server.models import ProcessedMessage
from tests.hub_harness import HubHarness, SimulatedInstallation, camera, running_hub

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)


def actions(entries: list[dict]) -> list[str]:
    return [e["action"] for e in entries]


async def reconnect(sim: SimulatedInstallation) -> None:
    await sim.close()
    sim.ws = None
    await sim.connect(sync=False)


async def processed_count(hub: HubHarness) -> int:
    async with hub.state.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedMessage)) or 0)


async def test_replays_are_acked_not_processed_again(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url, first_viewer_grace_s=600) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        analyst = hub.client(await hub.create_user(role="analyst"))
        supervisor = hub.client(await hub.create_user(role="supervisor"))
        inc = await analyst.open_incident(*HOME)
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        asked = await sim.next_message("access_request")
        decision = Decision(request_id=asked.request_id, approved_camera_ids=["cam"], msg_id="d-1")

        await sim.send(decision)
        grant = await sim.next_message("grant")
        assert (await sim.next_message("ack")).msg_id == "d-1"
        kinds = [m.TYPE for m in sim.messages]
        assert kinds.index("grant") < kinds.index("ack")  # acked after it took effect

        # Replayed on the same socket and after a reconnect: acked, nothing else.
        await sim.send(decision)
        assert (await sim.next_message("ack")).msg_id == "d-1"
        await reconnect(sim)
        await sim.send(decision)
        assert (await sim.next_message("ack")).msg_id == "d-1"
        await sim.roundtrip()
        assert [m.TYPE for m in sim.messages].count("grant") == 1
        assert not [m for m in sim.messages if m.TYPE == "error"]
        entries = await supervisor.audit(limit=5000)
        assert actions(entries).count("request.answered") == 1
        assert actions(entries).count("token.issued") == 1

        # The resident revokes everything; a later request is approved again.
        revoke = Revoke(reason="revoked_by_resident", all=True, msg_id="r-1")
        await sim.send(revoke)
        assert (await sim.next_message("ack")).msg_id == "r-1"
        first = sim.verify(grant.token).claims.token_id
        assert (await analyst.expect(200, "GET", f"/api/v1/grants/{first}"))["grant"][
            "state"
        ] == "revoked"
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        again = await sim.next_message("access_request")
        await sim.send(
            Decision(request_id=again.request_id, approved_camera_ids=["cam"], msg_id="d-2")
        )
        second = sim.verify((await sim.next_message("grant")).token).claims.token_id
        assert (await sim.next_message("ack")).msg_id == "d-2"

        # The old revoke replayed (e.g. its ack was lost): the new grant is untouched.
        await reconnect(sim)
        await sim.send(revoke)
        assert (await sim.next_message("ack")).msg_id == "r-1"
        got = await analyst.expect(200, "GET", f"/api/v1/grants/{second}")
        assert got["grant"]["state"] == "active"
        entries = await supervisor.audit(limit=5000)
        assert actions(entries).count("token.revoked") == 1

        # A session close through the outbox, replayed: one session.stop.
        opening_task = asyncio.ensure_future(analyst.open_session(second, "cam"))
        opened = await sim.next_message("session_open")
        await sim.accept_session(opened)
        await opening_task
        close = SessionClose(session_id=opened.session_id, reason="ended", msg_id="c-1")
        for _ in range(3):
            await sim.send(close)
            assert (await sim.next_message("ack")).msg_id == "c-1"
        entries = await supervisor.audit(limit=5000)
        assert actions(entries).count("session.stop") == 1
        assert (await analyst.session(opened.session_id))["end_reason"] == "installation:ended"
        assert await processed_count(hub) == 4
        assert (await hub.verify_audit()).ok


async def test_a_failed_message_is_neither_recorded_nor_acked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The id is recorded in the transaction that processes the message: when that fails,
    nothing of it stays, no ack goes out, and the replay is processed in full."""
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = await analyst.open_incident(*HOME)
        await analyst.request_live(inc["incident_id"], [(sim.installation_id, "cam")])
        asked = await sim.next_message("access_request")
        real_append = audit.append
        failures = []

        async def append_failing_once(*args: Any, **kwargs: Any) -> Any:
            if args[2] == "token.issued" and not failures:
                failures.append(args[2])
                raise OSError("disk trouble")
            return await real_append(*args, **kwargs)

        monkeypatch.setattr(audit, "append", append_failing_once)
        decision = Decision(request_id=asked.request_id, approved_camera_ids=["cam"], msg_id="d-9")
        await sim.send(decision)
        assert (await sim.next_message("error")).code == "internal_error"
        await sim.roundtrip()
        assert not [m for m in sim.messages if m.TYPE in ("ack", "grant")]
        assert await processed_count(hub) == 0
        assert (await analyst.outcomes(inc["incident_id"])) == {"cam": "pending"}

        await sim.send(decision)  # the outbox replays it
        assert sim.verify((await sim.next_message("grant")).token).claims.cameras == ("cam",)
        assert (await sim.next_message("ack")).msg_id == "d-9"
        assert (await analyst.outcomes(inc["incident_id"])) == {"cam": "approved"}
        assert await processed_count(hub) == 1
        assert (await hub.verify_audit()).ok


async def test_definitive_answers_are_acked_too(tmp_path: Path) -> None:
    """A decision the hub refuses (unknown request) is final: acked, so not replayed forever;
    messages without msg_id get no ack, as before; a bad msg_id is refused unprocessed."""
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        await sim.send(Decision(request_id="0" * 32, approved_camera_ids=[], msg_id="x-1"))
        assert (await sim.next_message("error")).code == "unknown_request"
        assert (await sim.next_message("ack")).msg_id == "x-1"
        await sim.send(Decision(request_id="0" * 32, approved_camera_ids=[]))
        assert (await sim.next_message("error")).code == "unknown_request"
        await sim.send(Revoke(reason="x", token_ids=["1" * 32], msg_id="bad id!"))
        assert (await sim.next_message("error")).code == "bad_field"
        await sim.roundtrip()
        assert [m.msg_id for m in sim.messages if m.TYPE == "ack"] == ["x-1"]
        assert await processed_count(hub) == 1


async def test_processed_ids_are_forgotten_after_the_retention(tmp_path: Path) -> None:
    async with running_hub(tmp_path, processed_message_retention_days=30) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        await sim.send(Revoke(reason="x", all=True, msg_id="old"))
        assert (await sim.next_message("ack")).msg_id == "old"
        assert await message_ids.prune(hub.state, now=time.time() + 29 * 86400) == 0
        assert await message_ids.prune(hub.state, now=time.time() + 31 * 86400) == 1
        assert await processed_count(hub) == 0
