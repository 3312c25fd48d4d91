"""Decline == no answer (issue 10, defect 2): same content, same timing, same audit entries.

An installation sends only approvals. Whatever the resident did with the other cameras
(declined, paused, not shared, nothing), the hub shows them waiting until the request's
deadline and then "no footage", and its audit log reads the same. Old installations that
still send an empty (final) decision, or ``final`` with only some cameras, reveal nothing
either. Requests lapse by themselves (a periodic sweep).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from connect_share_protocol.messages import Decision
from hub_server.models import AccessRequestRow
from tests.hub_harness import HubClient, HubHarness, SimulatedInstallation, camera, running_hub

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)
# Differ between otherwise identical requests; everything else must be equal.
VOLATILE = {"request_id", "token_id", "expires_at", "kid"}


async def views(api: HubClient, incident_id: str) -> dict[str, dict[str, Any]]:
    """installation id -> its request as the officer sees it, minus ids and times."""
    result = {}
    for req in (await api.incident(incident_id))["requests"]:
        result[req["installation_id"]] = {
            "status": req["status"],
            # Each camera's state too (request_states.py); its "until" is a time.
            "cameras": [{k: v for k, v in c.items() if k != "until"} for c in req["cameras"]],
            "grants": sorted(g["camera_ids"][0] for g in req["grants"]),
        }
    return result


async def audit_of(api: HubClient, incident_id: str, installation_id: str) -> list[dict[str, Any]]:
    """The incident's audit entries about the installation, minus ids and times."""
    entries = await api.audit(incident_id=incident_id, installation_id=installation_id)
    return [
        {
            "action": e["action"],
            "actor": e["actor"].split(":")[0],
            "detail": {k: v for k, v in e["detail"].items() if k not in VOLATILE},
        }
        for e in entries
    ]


async def asked_for(
    hub: HubHarness, api: HubClient, incident_id: str, sims: list[SimulatedInstallation]
) -> list[Any]:
    cams = [(s.installation_id, c.camera_id) for s in sims for c in s.cameras]
    await api.request_live(incident_id, cams)
    return [await s.next_message("access_request") for s in sims]


async def test_decline_pause_and_silence_look_the_same(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url, request_sweep_s=0.1) as hub:
        two = [camera("a", *NEAR), camera("b", *NEAR)]
        one = [camera("c", *NEAR)]
        # Approve "a"; "b": declined with an old client's final=True, or not (yet) answered.
        partial_final = await hub.simulated_installation(two, name="final")
        partial_open = await hub.simulated_installation(two, name="open")
        # One camera: an old client's empty final decision (decline or pause), or silence.
        empty = await hub.simulated_installation(one, name="empty")
        silent = await hub.simulated_installation(one, name="silent")
        analyst = hub.client(await hub.create_user(role="analyst"))
        supervisor = hub.client(await hub.create_user(role="supervisor"))
        inc = (await analyst.open_incident(*HOME))["incident_id"]
        sims = [partial_final, partial_open, empty, silent]
        pf, po, em, _ = await asked_for(hub, analyst, inc, sims)

        await partial_final.send(
            Decision(request_id=pf.request_id, approved_camera_ids=["a"], final=True)
        )
        await partial_open.send(
            Decision(request_id=po.request_id, approved_camera_ids=["a"], final=False)
        )
        await empty.send(
            Decision(request_id=em.request_id, approved_camera_ids=[], final=True, msg_id="e-1")
        )
        await partial_final.next_message("grant")
        await partial_open.next_message("grant")
        assert (await empty.next_message("ack")).msg_id == "e-1"  # no information, acked
        for sim in sims:
            await sim.roundtrip()  # every message above is processed

        # Before the deadline: the same, camera by camera; the rest is waiting.
        seen = await views(analyst, inc)
        ids = {s.name: s.installation_id for s in sims}
        assert seen[ids["final"]] == seen[ids["open"]]
        assert seen[ids["final"]]["cameras"] == [
            {"camera_id": "a", "outcome": "approved", "state": "active"},
            {"camera_id": "b", "outcome": "pending", "state": "waiting_for_resident"},
        ]
        assert seen[ids["empty"]] == seen[ids["silent"]]
        assert seen[ids["empty"]] == {
            "status": "pending",
            "cameras": [{"camera_id": "c", "outcome": "pending", "state": "waiting_for_resident"}],
            "grants": [],
        }
        before = {name: await audit_of(supervisor, inc, i) for name, i in ids.items()}
        assert before["final"] == before["open"]
        assert before["empty"] == before["silent"]
        assert [e["action"] for e in before["empty"]] == ["request.created"]
        answered = [e for log in before.values() for e in log if e["action"] == "request.answered"]
        assert all(e["detail"]["approved_camera_ids"] for e in answered)  # never empty

        # The deadline: all four lapse together, by the hub's own sweep.
        await hub.expire_requests()
        await hub.wait_for_audit("request.expired", count=4)
        seen = await views(analyst, inc)
        assert seen[ids["final"]] == seen[ids["open"]]
        assert seen[ids["final"]]["cameras"] == [
            {"camera_id": "a", "outcome": "approved", "state": "active"},
            {"camera_id": "b", "outcome": "no_footage", "state": "no_footage"},
        ]
        assert seen[ids["empty"]] == seen[ids["silent"]]
        assert seen[ids["empty"]]["cameras"] == [
            {"camera_id": "c", "outcome": "no_footage", "state": "no_footage"}
        ]
        assert {v["status"] for v in seen.values()} == {"closed"}
        after = {name: await audit_of(supervisor, inc, i) for name, i in ids.items()}
        assert after["final"] == after["open"]
        assert after["empty"] == after["silent"]
        assert after["silent"][-1] == {
            "action": "request.expired",
            "actor": "hub",
            "detail": {"no_footage_camera_ids": ["c"], "scope": "live"},
        }
        # Transparency counts them alike too.
        (month,) = (await hub.client().expect(200, "GET", "/api/v1/transparency"))["months"]
        assert (month["approvals"], month["declines_or_unanswered"]) == (2, 2)
        assert (await hub.verify_audit()).ok


async def test_requests_lapse_by_themselves(tmp_path: Path) -> None:
    """A short deadline setting instead of 15 minutes: nobody forces anything here."""
    async with running_hub(tmp_path, live_request_ttl_s=1, request_sweep_s=0.1) as hub:
        sim = await hub.simulated_installation([camera("cam", *NEAR)])
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = (await analyst.open_incident(*HOME))["incident_id"]
        (asked,) = await asked_for(hub, analyst, inc, [sim])
        (entry,) = await hub.wait_for_audit("request.expired")
        assert entry["detail"]["request_id"] == asked.request_id
        assert entry["detail"]["no_footage_camera_ids"] == ["cam"]
        assert await analyst.outcomes(inc) == {"cam": "no_footage"}
        async with hub.state.db.read() as session:
            status = await session.scalar(
                select(AccessRequestRow.status).where(AccessRequestRow.id == asked.request_id)
            )
        assert status == "expired"
        # Too late to approve; a reconnect does not send it again.
        await sim.approve(asked)
        assert (await sim.next_message("error")).code == "request_expired"
        await sim.close()
        sim.ws = None
        await sim.connect(sync=False)
        await sim.roundtrip()
        assert [m.TYPE for m in sim.messages].count("access_request") == 1
        # Swept once: later sweeps add nothing.
        await hub.wait_for_audit("request.expired")
        assert len(await hub.wait_for_audit("request.expired")) == 1
