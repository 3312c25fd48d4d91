"""The access gate: the one place that decides whether anything may leave the house.

Requests, grants, session opens, every frame, snapshots and footage all ask here. The gate
verifies tokens (pinned algorithm and keys, audience, time, revocation list), then applies the
resident's local rules (``rules.evaluate``), and refuses everything while the local audit log
cannot be written (no access without a log line). Token expiry is checked here only: by
``verify_token`` when a token arrives and by ``evaluate`` on every later use.

A refusal carries two reasons: ``local`` for the resident's own log, and ``neutral`` (always
``protocol.NEUTRAL_REFUSAL``) for anything that goes to the hub.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .protocol import KeySet, TokenError, verify_token
from .protocol.messages import NEUTRAL_REFUSAL, AccessRequest
from .protocol.purpose import Purpose
from .protocol.tokens import AccessGrant
from .rules import Access, CameraSettings, Outcome, RuleState, Verdict, evaluate

AUDIT_UNAVAILABLE = "audit_unavailable"


@dataclass(frozen=True, slots=True)
class GateResult:
    verdict: Verdict
    grant: AccessGrant | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    @property
    def local_reason(self) -> str:
        return self.verdict.reason

    @property
    def neutral_reason(self) -> str:
        return "" if self.allowed else NEUTRAL_REFUSAL


def _refused(reason: str) -> GateResult:
    return GateResult(Verdict(Outcome.REFUSED, reason))


class AccessGate:
    def __init__(
        self,
        *,
        installation_id: str,
        issuer: str,
        keyset: Callable[[], KeySet],
        cameras: Callable[[], Mapping[str, CameraSettings]],
        state: RuleState,
        home: Callable[[], tuple[float, float] | None],
        local_time: Callable[[float], datetime],
        audit_ok: Callable[[], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.installation_id = installation_id
        self.issuer = issuer
        self._keyset = keyset
        self._cameras = cameras
        self.state = state
        self._home = home
        self._local_time = local_time
        self._audit_ok = audit_ok
        self._clock = clock

    # --- tokens ------------------------------------------------------------------------------

    def verify(self, token: str) -> AccessGrant:
        """Raises ``TokenError`` with a stable reason; never returns an unchecked grant."""
        return verify_token(
            token,
            self._keyset(),
            installation_id=self.installation_id,
            issuer=self.issuer,
            is_revoked=lambda jti: jti in self.state.revoked_token_ids,
        )

    # --- decisions ---------------------------------------------------------------------------

    def _evaluate(self, camera_id: str, access: Access) -> GateResult:
        if not self._audit_ok():
            return _refused(AUDIT_UNAVAILABLE)
        now = self._clock()
        verdict = evaluate(
            self._cameras().get(camera_id),
            self.state,
            access,
            now=now,
            local_now=self._local_time(now),
            home=self._home(),
        )
        return GateResult(verdict)

    def request(self, req: AccessRequest, camera_id: str) -> GateResult:
        inc = req.incident
        purpose = inc.purpose or Purpose()
        return self._evaluate(
            camera_id,
            Access(
                kind="request",
                camera_id=camera_id,
                scope=req.scope,
                incident_id=inc.incident_id,
                incident_type=inc.incident_type,
                incident_lat=inc.lat,
                incident_lon=inc.lon,
                incident_radius_m=inc.radius_m,
                requested_session_s=req.max_session_s,
                agency_id=purpose.agency_id,
                offense_code=purpose.offense_code,
                offense_group=purpose.offense_group,
                legal_basis=purpose.legal_basis,
                warrant_ref=purpose.warrant_ref,
            ),
        )

    def use(
        self,
        grant: AccessGrant,
        camera_id: str,
        scope: str,
        *,
        fps: float | None = None,
        started_at: float | None = None,
    ) -> GateResult:
        """A verified token used for ``camera_id``/``scope``: at grant time, at session open
        and before every frame (``started_at`` set: the session's length counts too)."""
        try:
            grant.require(camera_id, scope)
        except TokenError as err:
            return _refused(err.reason.value)
        c = grant.claims
        result = self._evaluate(
            camera_id,
            Access(
                kind="frame" if started_at is not None else "token",
                camera_id=camera_id,
                scope=scope,
                incident_id=c.incident_id,
                token_id=c.token_id,
                token_issued_at=c.issued_at,
                token_expires_at=c.expires_at,
                requested_fps=fps,
                session_started_at=started_at,
                # The token's signed purpose, not the request's: what the hub vouched for.
                agency_id=c.purpose.agency_id,
                offense_code=c.purpose.offense_code,
                offense_group=c.purpose.offense_group,
                legal_basis=c.purpose.legal_basis,
                warrant_ref=c.purpose.warrant_ref,
            ),
        )
        return GateResult(result.verdict, grant)

    def open(self, token: str, camera_id: str, scope: str, fps: float | None) -> GateResult:
        """Token verification and the rules in one step (session and snapshot opens)."""
        try:
            grant = self.verify(token)
        except TokenError as err:
            return _refused(err.reason.value)
        return self.use(grant, camera_id, scope, fps=fps)

    def deadline(self, grant: AccessGrant, started_at: float, max_session_s: int) -> float:
        """When a session must end at the latest (the pump stops there without asking)."""
        return min(float(grant.claims.expires_at), started_at + max_session_s)
