"""Resident rules on purpose, agency and legal basis (issue 14), end to end with the real hub.

The hub's token carries agency, offense type, legal basis and reason; the integration
verifies them and its one access gate (``rules.evaluate``) rules on them for requests AND for
every later use of a token. A refusal is never explained to the hub: it sees a request lapse
as "no footage", or a session refused as ``installation:unavailable``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.connect_share import hub_client
from tests.hub_harness import running_hub

from .conftest import camera_options, enroll, logbook_describer, set_cameras, until

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras")
LAT, LON = 52.3731, 4.8922
AGENCY = {"agency_name": "Amsterdam Police", "agency_id": "NL0000001"}
WARRANT = ("SW-2026-0042", "Amsterdam District Court")
REASON = "Burglary in progress reported by a neighbour, two suspects"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.01)


def entries(entry, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e.detail for e in entry.runtime_data.audit.entries if e.action == action]


async def test_warrant_required_for_live_refuses_exigent_neutrally_and_tokens_are_ruled_on(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    assert await async_setup_component(hass, "persistent_notification", {})
    (tmp_path / "hub").mkdir()
    async with running_hub(tmp_path / "hub", **AGENCY) as hub:
        entry = await enroll(hass, hub.url, await hub.new_enrollment_code())
        # "auto" would approve this burglary at once; the warrant rule must win over it.
        front = camera_options(
            "auto",
            auto_incident_types=["burglary"],
            auto_max_distance_m=300,
            warrant_for_live=True,
        )
        await set_cameras(hass, entry, {"camera.front": front})
        manager = entry.runtime_data
        await until(lambda: manager.connection.is_connected, "connection")
        iid = entry.data["installation_id"]
        api = hub.client(await hub.create_user(role="analyst"))
        incident = await api.open_incident(
            lat=LAT, lon=LON + 0.001, offense_code="220", reason=REASON
        )
        inc_id = incident["incident_id"]
        for _ in range(300):
            if any(c["camera_id"] == "camera.front" for c in await api.cameras_in_incident(inc_id)):
                break
            await asyncio.sleep(0.05)
        found = await api.cameras_in_incident(inc_id)
        assert [c["camera_id"] for c in found] == ["camera.front"], found

        # 1. Exigent live request: refused by the resident's rule, nothing goes to the hub.
        [exigent] = await api.request_access(
            inc_id, [(iid, "camera.front")], "live", legal_basis="exigent"
        )
        await until(lambda: len(entries(entry, "request_received")) == 1, "request logged")
        logged = entries(entry, "request_received")[0]
        assert logged["verdicts"] == {"camera.front": "refused:warrant_required"}
        assert logged["legal_basis"] == "exigent" and logged["agency_id"] == "NL0000001"
        assert logged["offense_code"] == "220" and logged["reason"] == REASON
        assert not manager.pending
        assert (await api.outcomes(inc_id)) == {"camera.front": "pending"}
        await hub.expire_requests(iid)
        for _ in range(300):
            if (await api.outcomes(inc_id)) == {"camera.front": "no_footage"}:
                break
            await asyncio.sleep(0.05)
        assert (await api.outcomes(inc_id)) == {"camera.front": "no_footage"}
        await hub.wait_for_audit("request.expired")
        hub_view = [
            e
            for e in await hub.client(await hub.create_user(role="supervisor")).audit()
            if e["detail"].get("request_id") == exigent["request_id"]
        ]
        assert [e["action"] for e in hub_view] == ["request.created", "request.expired"]
        assert "warrant_required" not in str(hub_view)

        # 2. The same request with a warrant is approved by the auto rules; the token's
        # purpose claims are verified and accepted.
        await api.request_access(
            inc_id, [(iid, "camera.front")], "live", legal_basis="warrant", warrant=WARRANT
        )
        grant = await api.wait_for_grant(inc_id, "camera.front", scope="live")
        await until(lambda: entries(entry, "grant_accepted"), "grant accepted")

        # 3. The token's claims reach the rule check at every use: the resident now allows
        # only another agency, and the session under the accepted token is refused, neutrally.
        await set_cameras(hass, entry, {"camera.front": {**front, "only_agencies": "NL0000002"}})
        await until(lambda: entry.runtime_data.connection.is_connected, "reconnected")
        manager = entry.runtime_data
        status, body = await api.call(
            "POST",
            "/api/v1/sessions",
            json={"grant_id": grant["grant_id"], "camera_id": "camera.front", "fps": 2},
        )
        assert (status, body["error"]) == (409, "session_refused"), body
        assert body["message"] == "the installation refused: installation:unavailable"
        refused = [d for d in entries(entry, "session_refused")]
        assert refused and refused[-1]["reason"] == "agency_not_allowed"

        # 4. Back to the hub's own agency: the same token opens the session, and the
        # resident's log of the view names agency, offense type, legal basis and reason.
        await set_cameras(hass, entry, {"camera.front": front})
        await until(lambda: entry.runtime_data.connection.is_connected, "reconnected")
        manager = entry.runtime_data
        access_events = async_capture_events(hass, "connect_share_access")
        session = await api.open_session(grant["grant_id"], "camera.front", fps=2)
        await api.read_mjpeg(session["session_id"], count=1)
        started = entries(entry, "session_started")[-1]
        assert started["agency_name"] == "Amsterdam Police"
        assert started["offense_code"] == "220" and started["offense_group"] == "property"
        assert started["legal_basis"] == "warrant" and started["warrant_ref"] == WARRANT[0]
        assert started["reason"] == REASON
        await api.close_session(session["session_id"])
        await until(lambda: len(access_events) == 2, "access events")
        # Automations and the logbook get the same why as the audit log and the notification.
        describe = logbook_describer(hass, "connect_share_access")
        for event in access_events:
            assert event.data["agency_id"] == "NL0000001" and event.data["reason"] == REASON
            assert event.data["legal_basis"] == "warrant"
            assert event.data["warrant_court"] == WARRANT[1]
            message = describe(event)["message"]
            assert "Agency: Amsterdam Police (NL0000001)" in message, message
            assert f"Legal basis: warrant {WARRANT[0]} ({WARRANT[1]})" in message, message
            assert "Offense type: 220, property" in message and REASON in message, message
        assert access_events[1].data["end_reason"] == "hub:closed_by_officer", access_events
        assert await hass.config_entries.async_unload(entry.entry_id)


def test_each_purpose_rule_refuses_what_it_names_and_not_stated_never_passes() -> None:
    from datetime import datetime

    from custom_components.connect_share.rules import (
        Access,
        Outcome,
        RuleState,
        evaluate,
        settings_from_options,
    )

    def verdict(opts: dict, **access: str) -> str:
        cam = settings_from_options("camera.front", camera_options("on_request", **opts))
        a = Access(
            kind="request", camera_id="camera.front", scope="live", incident_id="i", **access
        )
        v = evaluate(cam, RuleState(), a, now=0.0, local_now=datetime(2026, 1, 1), home=None)
        return "ok" if v.outcome is Outcome.ASK else v.reason

    full = {"agency_id": "NL0000001", "offense_code": "220", "offense_group": "property"}
    assert verdict({}, **full, legal_basis="consent") == "ok"
    assert verdict({}, incident_type="immigration_enforcement") == "purpose_denied"
    assert verdict({"denied_purposes": "curfew_sweep"}, offense_code="CURFEW_SWEEP") == (
        "purpose_denied"
    )
    assert verdict({"denied_purposes": ""}, incident_type="immigration_enforcement") == "ok"
    assert verdict({"deny_offense_groups": ["property"]}, **full) == "offense_group_denied"
    assert verdict({"deny_offense_groups": ["society"]}, **full) == "ok"
    assert verdict({"deny_offense_groups": ["society"]}) == "offense_group_denied"
    assert verdict({"only_agencies": "nl0000001, NL0000009"}, **full) == "ok"
    assert verdict({"only_agencies": "NL0000009"}, **full) == "agency_not_allowed"
    assert verdict({"only_agencies": "NL0000009"}) == "agency_not_allowed"
    assert verdict({"warrant_for_live": True}, legal_basis="exigent") == "warrant_required"
    assert verdict({"warrant_for_live": True}, legal_basis="warrant") == "warrant_required"
    assert verdict({"warrant_for_live": True}, legal_basis="warrant", warrant_ref="SW-1") == "ok"
    # A bad stored group means the camera is off (deny by default), never "no rule".
    assert verdict({"deny_offense_groups": ["weather"]}, **full) == "mode_off"
