"""THE local rule check. Every request, every token and every frame goes through ``evaluate``.

Pure Python (no Home Assistant import) so the rules can be read and tested on their own.
Deny by default: anything not explicitly allowed by the resident's settings is refused,
with a stable reason code that goes into the audit log.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .protocol.masks import Masks, parse_masks, validate_masks
from .protocol.policy import CAMERA_MODES, DEFAULT_MAX_FPS, DEFAULT_MAX_SESSION_S, MODE_SCOPES
from .protocol.purpose import OFFENSE_GROUPS

MODES = CAMERA_MODES
# GPS and geocoding noise: a camera this far outside an incident's circle still counts.
AREA_TOLERANCE_M = 50.0
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Purposes refused for every camera unless the resident edits the list (and the hub refuses
# them too): matched against the incident type and the offense code, case-insensitively.
DEFAULT_DENIED_PURPOSES = frozenset({"immigration_enforcement", "first_amendment_activity"})
# "Warrant required for live view" covers everything seen in real time.
LIVE_SCOPES = frozenset({"live", "snapshot"})


class Refusal(StrEnum):
    """Why the local rules refused. Stable values: the audit log stores them."""

    UNKNOWN_CAMERA = "unknown_camera"
    MODE_OFF = "mode_off"
    SHARING_DISABLED = "sharing_disabled"
    PAUSED = "paused"
    OUTSIDE_SCHEDULE = "outside_schedule"
    SCOPE_NOT_ALLOWED = "scope_not_allowed"
    OUTSIDE_INCIDENT_AREA = "outside_incident_area"
    NOT_APPROVED = "not_approved"
    REVOKED = "revoked"
    TOKEN_EXPIRED = "token_expired"
    SESSION_TOO_LONG = "session_too_long"
    INCIDENT_TYPE = "incident_type_not_allowed"
    TOO_FAR = "too_far"
    INSTALLATION_MISMATCH = "installation_mismatch"
    PURPOSE_DENIED = "purpose_denied"
    OFFENSE_GROUP_DENIED = "offense_group_denied"
    AGENCY_NOT_ALLOWED = "agency_not_allowed"
    WARRANT_REQUIRED = "warrant_required"


class Outcome(StrEnum):
    REFUSED = "refused"
    ASK = "ask"  # a request the resident must approve
    AUTO = "auto"  # a request approved by the resident's auto-approve rules
    ALLOWED = "allowed"  # a token / frame inside an approval


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str = ""
    fps: float | None = None
    max_session_s: int | None = None
    distance_m: float | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.REFUSED


def refused(reason: Refusal) -> Verdict:
    return Verdict(Outcome.REFUSED, reason.value)


# --- schedule -----------------------------------------------------------------------------


class ScheduleError(ValueError):
    """A schedule text that does not parse; the message says where."""


@dataclass(frozen=True, slots=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start_min: int
    end_min: int  # exclusive; may be < start for windows over midnight


@dataclass(frozen=True, slots=True)
class Schedule:
    """When sharing is allowed. No windows = always (the mode still applies)."""

    windows: tuple[Window, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """``"mon-fri 08:00-18:00; sat,sun 10:00-14:00"``; ``"22:00-06:00"`` = every day."""
        windows = []
        for part in (p.strip() for p in (text or "").split(";")):
            if not part:
                continue
            days_text, _, times = part.rpartition(" ")
            windows.append(Window(_parse_days(days_text.strip()), *_parse_times(times)))
        return cls(tuple(windows))

    def allows(self, now: datetime) -> bool:
        if not self.windows:
            return True
        minute = now.hour * 60 + now.minute
        day = now.weekday()
        for w in self.windows:
            if w.start_min <= w.end_min:
                if day in w.days and w.start_min <= minute < w.end_min:
                    return True
            # Over midnight: the evening part on the listed day, the morning part the day after.
            elif (day in w.days and minute >= w.start_min) or (
                (day - 1) % 7 in w.days and minute < w.end_min
            ):
                return True
        return False


def _parse_days(text: str) -> frozenset[int]:
    if not text:
        return frozenset(range(7))
    days: set[int] = set()
    for item in text.lower().split(","):
        start, _, end = item.strip().partition("-")
        if start not in _DAYS or (end and end not in _DAYS):
            raise ScheduleError(f"unknown day in {item!r} (use mon..sun)")
        a = _DAYS.index(start)
        b = _DAYS.index(end) if end else a
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    return frozenset(days)


_TIME = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _parse_times(text: str) -> tuple[int, int]:
    m = _TIME.match(text.strip())
    if not m:
        raise ScheduleError(f"expected HH:MM-HH:MM, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ScheduleError(f"time out of range in {text!r}")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ScheduleError(f"empty window {text!r}")
    return start, end


# --- settings and state -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """What the resident chose for one camera (options flow)."""

    camera_id: str
    mode: str = "off"
    lat: float | None = None
    lon: float | None = None
    heading_deg: float | None = None
    schedule: Schedule = field(default_factory=Schedule)
    auto_incident_types: frozenset[str] = frozenset()
    auto_max_distance_m: float = 0.0
    max_session_s: int = DEFAULT_MAX_SESSION_S
    max_fps: float = DEFAULT_MAX_FPS
    masks: Masks = ()
    # Purpose rules (issue 14). Empty agencies = any agency; a group listed here is refused,
    # and so is an access that states no group while any group is refused.
    denied_offense_groups: frozenset[str] = frozenset()
    allowed_agencies: frozenset[str] = frozenset()
    warrant_for_live: bool = False
    denied_purposes: frozenset[str] = DEFAULT_DENIED_PURPOSES

    def scopes(self) -> frozenset[str]:
        """Which token scopes the mode allows at all."""
        return MODE_SCOPES.get(self.mode, frozenset())


@dataclass(frozen=True, slots=True)
class Approval:
    """The resident's (or the auto rules') yes to one incident for some cameras."""

    incident_id: str
    request_id: str
    cameras: frozenset[str]
    scope: str
    max_session_s: int
    max_fps: float
    approved_at: float
    auto: bool = False


@dataclass(slots=True)
class RuleState:
    """Runtime state the rules read: pause, sharing switches, revocations, approvals."""

    paused_until: float | None = None  # epoch seconds; math.inf = until switched off
    sharing_disabled: set[str] = field(default_factory=set)
    revoked_token_ids: set[str] = field(default_factory=set)
    revoked_incidents: set[str] = field(default_factory=set)
    revoked_before: float = 0.0  # "revoke all": every token issued before this is dead
    approvals: dict[str, Approval] = field(default_factory=dict)  # by request_id

    def is_paused(self, now: float) -> bool:
        return self.paused_until is not None and now < self.paused_until

    def approval_for(self, incident_id: str, camera_id: str, scope: str) -> Approval | None:
        for approval in self.approvals.values():
            if (
                approval.incident_id == incident_id
                and camera_id in approval.cameras
                and (approval.scope == scope or (approval.scope == "live" and scope == "snapshot"))
            ):
                return approval
        return None


@dataclass(frozen=True, slots=True)
class Access:
    """One thing to decide: a request (kind="request") or a token use ("token"/"frame")."""

    kind: str
    camera_id: str
    scope: str
    incident_id: str
    incident_type: str = ""
    incident_lat: float | None = None
    incident_lon: float | None = None
    incident_radius_m: float | None = None
    token_id: str | None = None
    token_issued_at: float | None = None
    token_expires_at: float | None = None
    requested_fps: float | None = None
    requested_session_s: int | None = None
    session_started_at: float | None = None
    # What the request or token says about why (``protocol.purpose``); "" = not stated.
    agency_id: str = ""
    offense_code: str = ""
    offense_group: str = ""
    legal_basis: str = ""
    warrant_ref: str = ""


def purpose_refusal(camera: CameraSettings, access: Access) -> Refusal | None:
    """The resident's purpose rules: always-denied purposes, offense groups, agencies and
    "warrant required for live view". Not stated never passes a rule that asks for it."""
    stated = {access.incident_type.lower(), access.offense_code.lower()} - {""}
    if stated & {p.lower() for p in camera.denied_purposes}:
        return Refusal.PURPOSE_DENIED
    if camera.denied_offense_groups and (
        not access.offense_group or access.offense_group in camera.denied_offense_groups
    ):
        return Refusal.OFFENSE_GROUP_DENIED
    if camera.allowed_agencies and access.agency_id not in camera.allowed_agencies:
        return Refusal.AGENCY_NOT_ALLOWED
    if (
        camera.warrant_for_live
        and access.scope in LIVE_SCOPES
        and not (access.legal_basis == "warrant" and access.warrant_ref)
    ):
        return Refusal.WARRANT_REQUIRED
    return None


def evaluate(
    camera: CameraSettings | None,
    state: RuleState,
    access: Access,
    *,
    now: float,
    local_now: datetime,
    home: tuple[float, float] | None,
) -> Verdict:
    """The one rule check. Order matters only for which reason is reported first."""
    if camera is None:
        return refused(Refusal.UNKNOWN_CAMERA)
    if camera.mode == "off":
        return refused(Refusal.MODE_OFF)
    if camera.camera_id in state.sharing_disabled:
        return refused(Refusal.SHARING_DISABLED)
    if state.is_paused(now):
        return refused(Refusal.PAUSED)
    if not camera.schedule.allows(local_now):
        return refused(Refusal.OUTSIDE_SCHEDULE)
    if access.scope not in camera.scopes():
        return refused(Refusal.SCOPE_NOT_ALLOWED)
    if access.incident_id in state.revoked_incidents:
        return refused(Refusal.REVOKED)
    # Requests and every token use: a token's signed purpose is checked again at each use.
    if (purpose := purpose_refusal(camera, access)) is not None:
        return refused(purpose)

    # settings_from_options guarantees lat and lon come together.
    location = (
        (camera.lat, camera.lon) if camera.lat is not None and camera.lon is not None else home
    )
    distance = None
    if location is not None and access.incident_lat is not None:
        distance = haversine_m(location, (access.incident_lat, access.incident_lon or 0.0))
        if (
            access.incident_radius_m is not None
            and distance > access.incident_radius_m + AREA_TOLERANCE_M
        ):
            return refused(Refusal.OUTSIDE_INCIDENT_AREA)

    max_session = camera.max_session_s
    max_fps = camera.max_fps
    if access.kind == "request":
        if access.requested_session_s is not None:
            max_session = min(max_session, access.requested_session_s)
        auto = (
            camera.mode == "auto"
            and access.incident_type in camera.auto_incident_types
            and distance is not None
            and distance <= camera.auto_max_distance_m
        )
        return Verdict(
            Outcome.AUTO if auto else Outcome.ASK,
            fps=max_fps,
            max_session_s=max_session,
            distance_m=distance,
        )

    # A token or a frame: the hub's signature is not enough, the resident must have said yes.
    if access.token_id in state.revoked_token_ids or (
        access.token_issued_at is not None and access.token_issued_at < state.revoked_before
    ):
        return refused(Refusal.REVOKED)
    if access.token_expires_at is not None and now >= access.token_expires_at:
        return refused(Refusal.TOKEN_EXPIRED)
    approval = state.approval_for(access.incident_id, camera.camera_id, access.scope)
    if approval is None or approval.approved_at < state.revoked_before:
        return refused(Refusal.NOT_APPROVED)
    max_session = min(max_session, approval.max_session_s)
    max_fps = min(max_fps, approval.max_fps)
    if access.session_started_at is not None and now - access.session_started_at > max_session:
        return refused(Refusal.SESSION_TOO_LONG)
    fps = max_fps if access.requested_fps is None else min(max_fps, access.requested_fps)
    return Verdict(Outcome.ALLOWED, fps=fps, max_session_s=max_session, distance_m=distance)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


# --- settings from the options dict -----------------------------------------------------


def settings_from_options(camera_id: str, opts: Mapping[str, Any]) -> CameraSettings:
    """Build settings from a stored options dict; invalid stored data means mode ``off``."""
    try:
        if (opts.get("lat") in (None, "")) != (opts.get("lon") in (None, "")):
            raise ValueError("latitude and longitude go together")
        return CameraSettings(
            camera_id=camera_id,
            mode=opts.get("mode", "off") if opts.get("mode") in MODES else "off",
            lat=_opt_float(opts.get("lat")),
            lon=_opt_float(opts.get("lon")),
            heading_deg=_opt_float(opts.get("heading")),
            schedule=Schedule.parse(opts.get("schedule", "")),
            auto_incident_types=frozenset(opts.get("auto_incident_types", ())),
            auto_max_distance_m=float(opts.get("auto_max_distance_m", 0.0)),
            max_session_s=int(opts.get("max_session_s", DEFAULT_MAX_SESSION_S)),
            max_fps=float(opts.get("max_fps", DEFAULT_MAX_FPS)),
            masks=_masks(opts.get("masks")),
            denied_offense_groups=_groups(opts.get("deny_offense_groups", ())),
            allowed_agencies=_words(opts.get("only_agencies", ""), upper=True),
            warrant_for_live=bool(opts.get("warrant_for_live", False)),
            denied_purposes=(
                _words(opts["denied_purposes"], upper=False)
                if "denied_purposes" in opts
                else DEFAULT_DENIED_PURPOSES
            ),
        )
    except (ValueError, TypeError):
        return CameraSettings(camera_id=camera_id, mode="off")


def _groups(value: Any) -> frozenset[str]:
    groups = frozenset(str(g) for g in value)
    if not groups <= set(OFFENSE_GROUPS):
        raise ValueError(f"offense groups must be among {OFFENSE_GROUPS}")
    return groups


def _words(value: Any, *, upper: bool) -> frozenset[str]:
    """A list, or a text with items separated by commas, semicolons or whitespace."""
    items = re.split(r"[\s,;]+", value) if isinstance(value, str) else [str(v) for v in value]
    return frozenset((i.upper() if upper else i.lower()) for i in items if i.strip())


def _masks(value: Any) -> Masks:
    if value is None or isinstance(value, str):
        return parse_masks(value)
    return validate_masks(value)


def _opt_float(value: Any) -> float | None:
    return None if value in (None, "") else float(value)
