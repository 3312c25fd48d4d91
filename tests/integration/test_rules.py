"""The one local rule check: requests, tokens and frames."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from custom_components.connect_share.rules import (
    Access,
    Approval,
    CameraSettings,
    Outcome,
    RuleState,
    Schedule,
    ScheduleError,
    evaluate,
    haversine_m,
    settings_from_options,
)

HOME = (52.3731, 4.8922)
NOW = 1_800_000_000.0
MONDAY_NOON = datetime(2026, 11, 16, 12, 0)


def cam(**kw) -> CameraSettings:
    base = {"camera_id": "camera.front", "mode": "on_request"}
    base.update(kw)
    return CameraSettings(**base)


def request(**kw) -> Access:
    base = {
        "kind": "request",
        "camera_id": "camera.front",
        "scope": "live",
        "incident_id": "inc-1",
        "incident_type": "burglary",
        "incident_lat": HOME[0],
        "incident_lon": HOME[1] + 0.001,
        "incident_radius_m": 500.0,
    }
    base.update(kw)
    return Access(**base)


def token(**kw) -> Access:
    base = {
        "kind": "token",
        "camera_id": "camera.front",
        "scope": "live",
        "incident_id": "inc-1",
        "token_id": "jti-1",
        "token_issued_at": NOW - 10,
        "token_expires_at": NOW + 600,
    }
    base.update(kw)
    return Access(**base)


def approved_state(**kw) -> RuleState:
    state = RuleState(**kw)
    state.approvals["req-1"] = Approval(
        "inc-1", "req-1", frozenset({"camera.front"}), "live", 600, 2.0, NOW - 5
    )
    return state


def run(camera, state, access, now=NOW, local=MONDAY_NOON):
    return evaluate(camera, state, access, now=now, local_now=local, home=HOME)


def test_request_asks_in_on_request_mode() -> None:
    v = run(cam(), RuleState(), request())
    assert v.outcome is Outcome.ASK
    assert v.distance_m is not None and 60 < v.distance_m < 75


@pytest.mark.parametrize(
    ("camera", "state", "access", "reason"),
    [
        (None, RuleState(), request(), "unknown_camera"),
        (cam(mode="off"), RuleState(), request(), "mode_off"),
        (cam(), RuleState(sharing_disabled={"camera.front"}), request(), "sharing_disabled"),
        (cam(), RuleState(paused_until=math.inf), request(), "paused"),
        (cam(mode="registered"), RuleState(), request(), "scope_not_allowed"),
        (cam(), RuleState(revoked_incidents={"inc-1"}), request(), "revoked"),
        (cam(), RuleState(), request(incident_lon=HOME[1] + 0.05), "outside_incident_area"),
        (
            cam(schedule=Schedule.parse("sat,sun 00:00-24:00")),
            RuleState(),
            request(),
            "outside_schedule",
        ),
    ],
)
def test_request_refusals(camera, state, access, reason) -> None:
    v = run(camera, state, access)
    assert v.outcome is Outcome.REFUSED
    assert v.reason == reason


def test_registered_mode_allows_footage_requests() -> None:
    assert run(cam(mode="registered"), RuleState(), request(scope="clip")).outcome is Outcome.ASK


def test_auto_approve_needs_type_and_distance() -> None:
    auto = cam(mode="auto", auto_incident_types=frozenset({"burglary"}), auto_max_distance_m=200)
    assert run(auto, RuleState(), request()).outcome is Outcome.AUTO
    assert run(auto, RuleState(), request(incident_type="noise")).outcome is Outcome.ASK
    far = request(incident_lon=HOME[1] + 0.004, incident_radius_m=1000)
    assert run(auto, RuleState(), far).outcome is Outcome.ASK


def test_pause_expires() -> None:
    state = RuleState(paused_until=NOW + 60)
    assert run(cam(), state, request()).reason == "paused"
    assert run(cam(), state, request(), now=NOW + 61).outcome is Outcome.ASK


def test_token_needs_local_approval() -> None:
    assert run(cam(), RuleState(), token()).reason == "not_approved"
    v = run(cam(), approved_state(), token(requested_fps=10))
    assert v.outcome is Outcome.ALLOWED
    assert v.fps == 2.0  # capped by the approval / camera


def test_token_for_other_camera_or_scope_is_not_approved() -> None:
    other = cam(camera_id="camera.back")
    assert run(other, approved_state(), token(camera_id="camera.back")).reason == "not_approved"
    assert run(cam(), approved_state(), token(scope="clip")).reason == "not_approved"


@pytest.mark.parametrize(
    ("state", "access", "reason"),
    [
        (approved_state(revoked_token_ids={"jti-1"}), token(), "revoked"),
        (approved_state(revoked_before=NOW), token(), "revoked"),
        (approved_state(), token(token_expires_at=NOW), "token_expired"),
        (approved_state(), token(session_started_at=NOW - 601), "session_too_long"),
        (approved_state(paused_until=math.inf), token(), "paused"),
    ],
)
def test_token_refusals(state, access, reason) -> None:
    assert run(cam(), state, access).reason == reason


def test_revoke_all_kills_older_approvals_even_for_new_tokens() -> None:
    state = approved_state(revoked_before=NOW - 1)
    assert run(cam(), state, token(token_issued_at=NOW)).reason == "not_approved"


def test_schedule_parsing_and_midnight() -> None:
    s = Schedule.parse("mon-fri 08:00-18:00; 22:00-06:00")
    assert s.allows(datetime(2026, 11, 16, 9, 0))  # Monday
    assert not s.allows(datetime(2026, 11, 21, 9, 0))  # Saturday
    assert s.allows(datetime(2026, 11, 21, 23, 0))
    assert s.allows(datetime(2026, 11, 22, 5, 59))
    assert not s.allows(datetime(2026, 11, 22, 6, 0))
    assert Schedule.parse("").allows(datetime(2026, 1, 1))
    assert Schedule.parse("sat-mon 10:00-11:00").windows[0].days == frozenset({5, 6, 0})
    for bad in ("someday 10:00-11:00", "10-11", "25:00-26:00", "10:00-10:00"):
        with pytest.raises(ScheduleError):
            Schedule.parse(bad)


def test_masks_stored_as_text_or_list_go_through_the_one_parser() -> None:
    masks = settings_from_options("c", {"mode": "auto", "masks": [[[0, 0], [0.5, 0], [0.5, 0.5]]]})
    assert masks.masks == (((0.0, 0.0), (0.5, 0.0), (0.5, 0.5)),)
    text = settings_from_options("c", {"mode": "auto", "masks": "[[[0,0],[1,0],[1,1]]]"})
    assert text.masks[0][1] == (1.0, 0.0)
    assert settings_from_options("c", {"mode": "auto", "masks": ""}).masks == ()
    # Invalid stored masks: deny by default (the camera is off), never shared unmasked.
    for bad in ([[[0, 0], [1, 1]]], [[[0, 0], [2, 0], [1, 1]]], "x", 5, [[[0, 0], [1], [1, 1]]]):
        assert settings_from_options("c", {"mode": "auto", "masks": bad}).mode == "off"


def test_bad_stored_options_mean_off() -> None:
    # Half a location cannot be checked against an incident's area: deny by default.
    assert settings_from_options("c", {"mode": "auto", "lat": 1.0}).mode == "off"
    assert settings_from_options("c", {"mode": "auto", "schedule": "nonsense"}).mode == "off"
    assert settings_from_options("c", {"mode": "everything"}).mode == "off"
    assert settings_from_options("c", {"mode": "auto", "max_fps": 3}).max_fps == 3.0


def test_haversine() -> None:
    assert haversine_m((0, 0), (0, 1)) == pytest.approx(111_195, rel=1e-3)
