"""Live sessions and snapshots: the only path by which frames leave the house.

Every open goes through the access gate (token + rules) and is on disk in the local audit log
before the first frame can leave; every frame is checked again by the gate right before it is
written to the socket. A refusal or an end is told to the hub only in neutral words
(``protocol.neutral_reason``), through the durable outbox; the real reason stays in the
resident's log. Snapshot grants cannot become a live feed: snapshots respect the camera's
frame rate and a per-grant budget. "Being viewed" means the hub reports a viewer receiving
frames (``SessionViewers``); the hub ends a session nobody watches.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .const import DOMAIN, EVENT_ACCESS
from .context import AuditWriteFailed, InstallationContext, log_refusal
from .panel import PANEL_URL_PATH
from .protocol.messages import (
    NEUTRAL_REFUSAL,
    SessionClose,
    SessionOpen,
    SessionStarted,
    SessionViewers,
    neutral_reason,
)
from .rules import Outcome, Verdict
from .sessions import LiveSession

_LOGGER = logging.getLogger(__name__)
# Snapshots one grant may take, whatever its lifetime (a snapshot grant is not a live feed).
SNAPSHOTS_PER_GRANT = 10


class LiveSessions:
    def __init__(self, ctx: InstallationContext) -> None:
        self.ctx = ctx
        self.sessions: dict[str, LiveSession] = {}
        self._snapshots_used: dict[str, int] = {}
        self._last_snapshot: dict[str, float] = {}

    # --- views ----------------------------------------------------------------------------

    def for_camera(self, camera_id: str) -> list[LiveSession]:
        return [s for s in self.sessions.values() if s.camera_id == camera_id]

    def being_viewed(self, camera_id: str) -> bool:
        return any(s.viewers > 0 for s in self.for_camera(camera_id))

    # --- from the hub ---------------------------------------------------------------------

    async def open(self, msg: SessionOpen) -> None:
        ctx = self.ctx

        async def refuse(reason: str, **extra: Any) -> None:
            try:
                await ctx.audit.record(
                    "session_refused",
                    {
                        "session_id": msg.session_id,
                        "camera": msg.camera_id,
                        "scope": msg.scope,
                        "reason": reason,
                        **extra,
                    },
                )
            finally:
                log_refusal(
                    _LOGGER, "session", reason, session_id=msg.session_id, camera=msg.camera_id
                )
                await ctx.outbox.put(
                    SessionClose(session_id=msg.session_id, reason=NEUTRAL_REFUSAL)
                )

        if msg.session_id in self.sessions:
            await refuse("duplicate_session")
            return
        result = ctx.gate.open(msg.token, msg.camera_id, msg.scope, msg.fps)
        grant = result.grant
        if not result.allowed or grant is None:
            ids = {"token_id": grant.claims.token_id} if grant else {}
            await refuse(result.local_reason, **ids)
            return
        c = grant.claims
        if msg.scope == "snapshot" and (
            why := self._snapshot_refusal(c.token_id, msg.camera_id, result.verdict)
        ):
            await refuse(why, token_id=c.token_id, incident_id=c.incident_id)
            return
        verdict = result.verdict
        started_at = time.time()
        session = LiveSession(
            self,
            session_id=msg.session_id,
            camera_id=msg.camera_id,
            scope=msg.scope,
            grant=grant,
            requested_fps=msg.fps,
            fps=verdict.fps or 1.0,
            started_at=started_at,
            deadline=ctx.gate.deadline(grant, started_at, verdict.max_session_s or 900),
            masks_text=str(ctx.cameras.options.get(msg.camera_id, {}).get("masks") or ""),
        )
        if (problem := session.unavailable_reason()) is not None:
            await refuse(problem, token_id=c.token_id)
            return
        try:
            # On disk before the first frame can leave.
            await ctx.audit.record(
                "session_started",
                {
                    "session_id": msg.session_id,
                    "camera": msg.camera_id,
                    "token_id": c.token_id,
                    "incident_id": c.incident_id,
                    "case_number": c.case_number,
                    "officer_id": c.officer_id,
                    "officer": c.officer_name,
                    "badge": c.badge,
                    **c.purpose.detail(),
                    "reason": c.reason,
                    "scope": msg.scope,
                    "fps": session.fps,
                },
            )
        except AuditWriteFailed:
            await ctx.outbox.put(SessionClose(session_id=msg.session_id, reason=NEUTRAL_REFUSAL))
            return
        if msg.scope == "snapshot":
            self._snapshots_used[c.token_id] = self._snapshots_used.get(c.token_id, 0) + 1
            self._last_snapshot[msg.camera_id] = started_at
        self.sessions[msg.session_id] = session
        self._notify_start(session)
        await ctx.connection.send(SessionStarted(session_id=msg.session_id, fps=session.fps))
        session.start()
        ctx.publish()

    async def close_from_hub(self, msg: SessionClose) -> None:
        session = self.sessions.get(msg.session_id)
        if session is not None:
            await session.stop(f"hub:{msg.reason}"[:64])

    def viewers(self, msg: SessionViewers) -> None:
        session = self.sessions.get(msg.session_id)
        if session is not None and session.viewers != msg.viewers:
            session.viewers = max(0, msg.viewers)
            self.ctx.publish()

    def _snapshot_refusal(self, token_id: str, camera_id: str, verdict: Verdict) -> str | None:
        if self._snapshots_used.get(token_id, 0) >= SNAPSHOTS_PER_GRANT:
            return "snapshot_budget_spent"
        fps = verdict.fps or 1.0
        last = self._last_snapshot.get(camera_id)
        if last is not None and time.time() - last < 1.0 / fps:
            return "snapshot_rate"
        return None

    # --- used by each session ----------------------------------------------------------------

    def check_frame(self, session: LiveSession) -> Verdict:
        """Right before every frame is sent."""
        if self.sessions.get(session.session_id) is not session or session.stopping:
            return Verdict(Outcome.REFUSED, "session_closed")
        return self.ctx.gate.use(
            session.grant,
            session.camera_id,
            session.scope,
            fps=session.requested_fps,
            started_at=session.started_at,
        ).verdict

    async def ended(self, session: LiveSession, reason: str) -> None:
        if self.sessions.pop(session.session_id, None) is None:
            return
        duration = round(time.time() - session.started_at, 3)
        try:
            await self.ctx.audit.record(
                "session_closed",
                {
                    "session_id": session.session_id,
                    "camera": session.camera_id,
                    "reason": reason,
                    "frames_sent": session.frames_sent,
                    "duration_s": duration,
                },
            )
        except AuditWriteFailed:
            pass  # the resident is told by the audit trail; the hub still hears of the end
        await self.ctx.outbox.put(
            SessionClose(
                session_id=session.session_id,
                reason=neutral_reason(reason, refusal=False),
                frames_sent=session.frames_sent,
                duration_s=duration,
            )
        )
        if session.scope != "snapshot":
            self._notify_end(session, reason)
        self.ctx.publish()

    # --- stopping ------------------------------------------------------------------------------

    async def stop_all(self, reason: str) -> None:
        for session in list(self.sessions.values()):
            await session.stop(reason)

    async def stop_refused(self, reason: str) -> list[str]:
        """Stop every session the gate no longer allows (after a revoke, pause, rule change)."""
        stopped = []
        for session in list(self.sessions.values()):
            if not self.check_frame(session).allowed:
                stopped.append(session.session_id)
                await session.stop(reason)
        return stopped

    async def stop_camera(self, camera_id: str, reason: str) -> None:
        for session in self.for_camera(camera_id):
            await session.stop(reason)

    # --- the resident is told --------------------------------------------------------------

    def _access_event(self, action: str, session: LiveSession, **extra: Any) -> dict[str, Any]:
        """Fire ``connect_share_access``: who watches, and why (agency, offense, basis, reason)."""
        c = session.grant.claims
        data = {
            "action": action,
            "entity_id": session.camera_id,
            "camera": self.ctx.cameras.name(session.camera_id),
            "officer": c.officer_name,
            "badge": c.badge,
            "incident_id": c.incident_id,
            "case_number": c.case_number,
            "session_id": session.session_id,
            "scope": session.scope,
            "frames_sent": session.frames_sent,
            **c.purpose.detail(),
            "reason": c.reason,
            **extra,
        }
        self.ctx.hass.bus.async_fire(EVENT_ACCESS, data)
        return data

    def _notify_start(self, session: LiveSession) -> None:
        c = session.grant.claims
        data = self._access_event("session_started", session)
        if session.scope == "snapshot":
            title = "Connect Share: snapshot taken"
            message = (
                f"{c.officer_name} (badge {c.badge}) took a snapshot of {data['camera']} "
                f"for incident {c.case_number}. {c.purpose.describe()} Reason: {c.reason or '-'}"
            )
        else:
            title = "Connect Share: live view started"
            message = (
                f"{c.officer_name} (badge {c.badge}) is watching {data['camera']} "
                f"for incident {c.case_number}. {c.purpose.describe()} Reason: {c.reason or '-'}"
            )
        self._show(session, title, message)

    def _show(self, session: LiveSession, title: str, message: str) -> None:
        """One notification per live view: the end replaces the start, in Home Assistant
        (same notification id) and on the phone (same tag)."""
        notification_id = f"{DOMAIN}_session_{session.session_id}"
        self.ctx.notifier.show(
            notification_id, title, f"{message}\n\n[Open Connect Share](/{PANEL_URL_PATH})"
        )
        link = f"/{PANEL_URL_PATH}"
        self.ctx.notifier.push(
            title, message, {"tag": notification_id, "url": link, "clickAction": link}
        )

    def _notify_end(self, session: LiveSession, reason: str) -> None:
        c = session.grant.claims
        data = self._access_event("session_ended", session, end_reason=reason)
        title = "Connect Share: live view ended"
        message = (
            f"{c.officer_name} (badge {c.badge}) stopped watching {data['camera']} "
            f"for incident {c.case_number} ({session.frames_sent} frames)."
        )
        # Replaces the "started" notification: one notification per live view.
        self._show(session, title, message)
