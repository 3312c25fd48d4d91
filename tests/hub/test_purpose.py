"""Purpose, agency and warrant at the hub (issue 14), against the real hub and database.

Attacks: an incident for a forbidden purpose, without an allowed offense type, with a
too-short reason, a warrant without its reference; checks that the hub's agency, the offense
type, the legal basis and the reason reach the installation in the request and in a token the
protocol package verifies; that searches, requests, tokens and views are audited with
officer, purpose and reason; and the supervisors' review queue of accesses without a warrant.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from connect_share_protocol.purpose import Purpose
from tests.hub_harness import camera, running_hub, tiny_jpeg

HOME = (35.7796, -78.6382)  # Raleigh
NEAR = (35.7799, -78.6382)
AGENCY = {"agency_name": "Raleigh Police Department", "agency_id": "NC0920100"}


async def test_refused_purpose_is_a_clear_400_and_an_audit_entry(
    tmp_path: Path, database_url: str
) -> None:
    async with running_hub(tmp_path, database_url=database_url, **AGENCY) as hub:
        officer = await hub.create_user(role="officer")
        admin = await hub.create_user(role="admin")
        api, boss = hub.client(officer), hub.client(admin)
        body = {
            "case_number": "2026-9",
            "incident_type": "immigration_enforcement",
            "offense_code": "90Z",
            "reason": "Locate a person for removal proceedings",
            "lat": HOME[0],
            "lon": HOME[1],
            "radius_m": 300,
        }
        status, reply = await api.call("POST", "/api/v1/incidents", body)
        assert status == 400 and reply["error"] == "purpose_forbidden"
        assert reply["purpose"] == "immigration_enforcement"
        assert "Immigration enforcement" in reply["message"]
        # A city addition is refused the same way, named as the offense type.
        await boss.expect(
            201,
            "POST",
            "/api/v1/forbidden-purposes",
            {"code": "curfew_sweep", "label": "Youth curfew sweeps"},
        )
        status, reply = await api.call(
            "POST",
            "/api/v1/incidents",
            {**body, "incident_type": "sweep", "offense_code": "curfew_sweep"},
        )
        assert status == 400 and reply["error"] == "purpose_forbidden"
        # ... and no incident exists, but both refusals are in the audit chain.
        assert (await api.expect(200, "GET", "/api/v1/incidents"))["incidents"] == []
        refused = [e for e in await boss.audit() if e["action"] == "incident.refused"]
        assert [e["detail"]["purpose"] for e in refused] == [
            "immigration_enforcement",
            "curfew_sweep",
        ]
        assert all(e["actor"] == f"user:{officer.id}" for e in refused)
        assert refused[0]["detail"]["reason"] == body["reason"]
        assert (await hub.verify_audit()).ok
        # A forbidden purpose cannot be smuggled in as an offense type either.
        status, reply = await boss.call(
            "POST",
            "/api/v1/offense-types",
            {"code": "immigration_enforcement", "label": "x", "group": "other"},
        )
        assert status == 400 and reply["error"] == "purpose_forbidden"


async def test_incident_needs_an_allowed_offense_type_and_a_real_reason(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        officer = await hub.create_user(role="officer")
        admin = await hub.create_user(role="admin")
        api, boss = hub.client(officer), hub.client(admin)
        listed = (await api.expect(200, "GET", "/api/v1/offense-types"))["offense_types"]
        assert {
            "code": "220",
            "label": "Burglary/breaking and entering",
            "group": "property",
            "active": True,
        } in listed
        forbidden = await api.expect(200, "GET", "/api/v1/forbidden-purposes")
        assert {f["code"] for f in forbidden["forbidden_purposes"]} == {
            "immigration_enforcement",
            "first_amendment_activity",
        }
        base = {
            "case_number": "2026-1",
            "incident_type": "burglary",
            "reason": "Break-in reported at the corner store",
            "lat": HOME[0],
            "lon": HOME[1],
            "radius_m": 300,
        }
        status, reply = await api.call("POST", "/api/v1/incidents", base)
        assert (status, reply["error"]) == (400, "missing_field")
        status, reply = await api.call("POST", "/api/v1/incidents", {**base, "offense_code": "999"})
        assert (status, reply["error"]) == (400, "unknown_offense_type")
        status, reply = await api.call(
            "POST", "/api/v1/incidents", {**base, "offense_code": "220", "reason": "bad guy"}
        )
        assert (status, reply["error"]) == (400, "reason_too_short")
        # A retired offense type is no longer allowed for new incidents.
        await boss.expect(
            201,
            "POST",
            "/api/v1/offense-types",
            {"code": "23H", "label": "All other larceny", "group": "property", "active": False},
        )
        status, reply = await api.call("POST", "/api/v1/incidents", {**base, "offense_code": "23H"})
        assert (status, reply["error"]) == (400, "unknown_offense_type")
        inc = await api.open_incident(*HOME, offense_code="13A")
        assert inc["offense_code"] == "13A" and inc["offense_group"] == "person"
        status, _ = await api.call(
            "POST", "/api/v1/offense-types", {"code": "X1", "label": "x", "group": "other"}
        )
        assert status == 403  # admins only


async def test_purpose_reaches_the_installation_and_every_access_is_accountable(
    tmp_path: Path, database_url: str
) -> None:
    async with running_hub(tmp_path, database_url=database_url, **AGENCY) as hub:
        sim = await hub.simulated_installation([camera("cam-1", *NEAR, mode="on_request")])
        analyst = await hub.create_user(role="analyst", display_name="Dana Reyes")
        supervisor = await hub.create_user(role="supervisor")
        api, sup = hub.client(analyst), hub.client(supervisor)
        reason = "Armed robbery at the pharmacy, suspect fled on foot"
        inc = await api.open_incident(*HOME, offense_code="120", reason=reason)
        assert len(await api.cameras_in_incident(inc["incident_id"])) == 1

        # A warrant needs its reference and court; other bases must not name one.
        path = f"/api/v1/incidents/{inc['incident_id']}/requests"
        cams = [{"installation_id": sim.installation_id, "camera_id": "cam-1"}]
        for bad in (
            {"legal_basis": "warrant"},
            {"legal_basis": "warrant", "warrant_ref": "SW-1"},
            {"legal_basis": "exigent", "warrant_ref": "SW-1"},
            {"legal_basis": "hunch"},
        ):
            status, reply = await api.call("POST", path, {"scope": "live", "cameras": cams, **bad})
            assert status == 400, bad

        warrant = ("SW-2026-0042", "Wake County Superior Court")
        await api.request_access(
            inc["incident_id"],
            [(sim.installation_id, "cam-1")],
            "live",
            warrant=warrant,
            legal_basis="warrant",
        )
        asked = await sim.next_message("access_request")
        expected = Purpose(
            agency_name="Raleigh Police Department",
            agency_id="NC0920100",
            offense_code="120",
            offense_group="property",
            legal_basis="warrant",
            warrant_ref=warrant[0],
            warrant_court=warrant[1],
        )
        assert asked.incident.purpose == expected and asked.incident.reason == reason
        await sim.approve(asked)
        claims = sim.verify((await sim.next_message("grant")).token).claims
        assert claims.purpose == expected and claims.reason == reason

        await api.request_access(
            inc["incident_id"], [(sim.installation_id, "cam-1")], "live", legal_basis="exigent"
        )
        asked = await sim.next_message("access_request")
        assert asked.incident.purpose is not None
        assert asked.incident.purpose.legal_basis == "exigent"
        await sim.approve(asked)
        exigent = sim.verify((await sim.next_message("grant")).token).claims
        assert exigent.purpose.legal_basis == "exigent" and not exigent.purpose.has_warrant

        # A view of the exigent grant.
        opening = asyncio.ensure_future(api.open_session(exigent.token_id, "cam-1"))
        open_msg = await sim.next_message("session_open")
        await sim.accept_session(open_msg)
        session = await opening
        await sim.send_frame(open_msg.session_id, tiny_jpeg())
        await api.close_session(session["session_id"])

        entries = await sup.audit()
        by_action: dict[str, list[dict]] = {}
        for e in entries:
            by_action.setdefault(e["action"], []).append(e)
        search = by_action["search.radius"][0]
        assert search["actor"] == f"user:{analyst.id}"
        assert search["detail"]["offense_code"] == "120" and search["detail"]["reason"] == reason
        created = by_action["request.created"]
        assert [e["detail"]["legal_basis"] for e in created] == ["warrant", "exigent"]
        assert created[0]["detail"]["warrant_ref"] == warrant[0]
        assert all(e["detail"]["reason"] == reason for e in created)
        assert all(e["detail"]["agency_id"] == "NC0920100" for e in created)
        issued = by_action["token.issued"]
        assert [e["detail"]["legal_basis"] for e in issued] == ["warrant", "exigent"]
        assert all(e["detail"]["offense_code"] == "120" for e in issued)
        view = by_action["session.start"][0]
        assert view["actor"] == f"user:{analyst.id}"
        assert view["detail"]["legal_basis"] == "exigent" and view["detail"]["reason"] == reason

        # Review queue: only the access without a warrant, until a supervisor reviews it.
        status, _ = await api.call("GET", "/api/v1/review")
        assert status == 403
        queue = (await sup.expect(200, "GET", "/api/v1/review"))["queue"]
        assert [q["grant_id"] for q in queue] == [exigent.token_id]
        assert queue[0]["legal_basis"] == "exigent" and queue[0]["reason"] == reason
        await sup.expect(
            200, "POST", f"/api/v1/review/{exigent.token_id}", {"note": "Exigency documented"}
        )
        status, reply = await sup.call(
            "POST", f"/api/v1/review/{exigent.token_id}", {"note": "again"}
        )
        assert (status, reply["error"]) == (409, "already_reviewed")
        assert (await sup.expect(200, "GET", "/api/v1/review"))["queue"] == []
        assert [e["action"] for e in await sup.audit()][-1] == "access.reviewed"
        agency = await api.expect(200, "GET", "/api/v1/agency")
        assert agency["agency_id"] == "NC0920100"
        assert (await hub.verify_audit()).ok


async def test_an_agency_id_that_is_not_ori_style_stops_the_hub(tmp_path: Path) -> None:
    import pytest

    from hub_server.app import create_app
    from hub_server.settings import Settings

    with pytest.raises(ValueError, match="agency_id"):
        create_app(Settings(agency_id="raleigh pd"))
