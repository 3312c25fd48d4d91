"""The hub never learns why a resident refused (issue 10, defect 1; defence in depth).

An old or modified installation sends its real reasons (``paused``, ``outside_schedule``) in
``session_close`` and ``revoke``; the hub keeps only a neutral one. Nothing an officer,
a supervisor or the database shows contains the real reason.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from connect_share_protocol.messages import NEUTRAL_REASONS, Revoke, SessionClose
from hub_server.models import Base
from tests.hub_harness import HubHarness, camera, running_hub, tiny_jpeg

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)
SECRETS = ("paused", "outside_schedule")


async def everything_stored(hub: HubHarness) -> str:
    """Every row of every table, as text."""
    parts = []
    async with hub.state.db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


async def test_real_reasons_never_reach_the_hub(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        sim = await hub.simulated_installation(
            [camera("front", *NEAR), camera("back", *NEAR), camera("yard", *NEAR)]
        )
        analyst = await hub.create_user(role="analyst")
        supervisor = await hub.create_user(role="supervisor")
        api = hub.client(analyst)
        inc = await api.open_incident(*HOME)
        inst = sim.installation_id
        await api.request_live(inc["incident_id"], [(inst, "front"), (inst, "back")])
        await sim.approve(await sim.next_message("access_request"))
        await api.request_snapshot(inc["incident_id"], [(inst, "yard")])
        await sim.approve(await sim.next_message("access_request"))
        front = await api.wait_for_grant(inc["incident_id"], "front", scope="live")
        back = await api.wait_for_grant(inc["incident_id"], "back", scope="live")
        yard = await api.wait_for_grant(inc["incident_id"], "yard", scope="snapshot")
        shown: list[object] = []  # every answer an officer or supervisor got

        # 1. A session refused because the resident paused sharing.
        opening = asyncio.ensure_future(
            api.call(
                "POST", "/api/v1/sessions", {"grant_id": front["grant_id"], "camera_id": "front"}
            )
        )
        refused = await sim.next_message("session_open")
        await sim.refuse_session(refused, "paused")
        status, body = await opening
        assert (status, body["error"]) == (409, "session_refused")
        await sim.roundtrip()  # the hub has recorded the close (messages are in order)
        shown += [body, await api.session(refused.session_id)]
        assert shown[-1]["end_reason"] == "installation:unavailable"  # type: ignore[index]

        # 2. A live session ended by the schedule (sent through the outbox: with msg_id).
        opening = asyncio.ensure_future(api.open_session(back["grant_id"], "back"))
        opened = await sim.next_message("session_open")
        await sim.accept_session(opened)
        session_id = (await opening)["session_id"]
        async with api.mjpeg(session_id) as reader:
            await sim.send_frame(session_id, tiny_jpeg(1))
            assert await asyncio.wait_for(reader.next_frame(), 10) == tiny_jpeg(1)
            await sim.send(
                SessionClose(session_id=session_id, reason="outside_schedule", msg_id="close-1")
            )
            assert await asyncio.wait_for(reader.next_frame(), 10) is None
        assert (await sim.next_message("ack")).msg_id == "close-1"
        ended = await api.session(session_id)
        assert ended["end_reason"] == "installation:ended"
        shown.append(ended)
        shown.append(await api.call("GET", f"/api/v1/sessions/{session_id}/stream"))

        # 3. A snapshot refused outside the schedule.
        taking = asyncio.ensure_future(
            api.call("POST", f"/api/v1/grants/{yard['grant_id']}/snapshot")
        )
        await sim.refuse_session(await sim.next_message("session_open"), "outside_schedule")
        status, body = await taking
        assert (status, body["error"]) == (403, "snapshot_refused")
        shown.append(body)

        # 4. The resident pauses: everything revoked, with the real reason in the message.
        await sim.send(Revoke(reason="paused", all=True, msg_id="revoke-1"))
        assert (await sim.next_message("ack")).msg_id == "revoke-1"
        for grant in (front, back, yard):
            got = await api.expect(200, "GET", f"/api/v1/grants/{grant['grant_id']}")
            assert got["grant"]["state"] == "revoked"
            shown.append(got)

        shown.append(await api.incident(inc["incident_id"]))
        sup = hub.client(supervisor)
        entries = await sup.audit(limit=5000)
        shown.append(entries)
        revoked = [e for e in entries if e["action"] == "token.revoked"]
        assert len(revoked) == 3
        assert {e["detail"]["reason"] for e in revoked} == {"revoked_by_resident"}
        stops = [e["detail"]["reason"] for e in entries if e["action"] == "session.stop"]
        assert all(r.removeprefix("installation:") in NEUTRAL_OR_HUB for r in stops), stops

        text = repr(shown) + await everything_stored(hub)
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} reached the hub"
        assert (await hub.verify_audit()).ok


# End reasons a session may have at the hub: the installation's neutral ones, or the hub's.
NEUTRAL_OR_HUB = NEUTRAL_REASONS | {"snapshot_taken", "revoked", "closed_by_officer"}
