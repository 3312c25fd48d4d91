"""Requests from the hub: what the resident is asked, what they answered, and what the hub hears.

Rules this module keeps:
- Idempotent by request id: the hub replays requests after a reconnect; a request already
  known is not logged, notified or auto-decided again.
- Only approvals reach the hub, through the durable outbox. A decline, a pause, a camera not
  shared and no answer at all look the same to the hub: nothing is sent, and the request lapses
  at its deadline there ("no footage"). ``final`` is set only when every camera is approved.
- Requests (pending ones, and footage requests that may still be shared from) are persisted,
  so a Home Assistant restart loses none; their timers are re-armed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import ACTION_APPROVE, ACTION_DECLINE, DOMAIN, EVENT_REQUEST, REQUEST_TTL_S
from .context import AuditWriteFailed, InstallationContext, log_refusal
from .panel import request_url
from .protocol.errors import ProtocolError
from .protocol.messages import AccessRequest, Decision, decode_message, encode_message
from .protocol.purpose import Purpose
from .rules import Approval, Outcome, Verdict

_LOGGER = logging.getLogger(__name__)
# Requests remembered (for replays and footage sharing) after they were answered.
KEEP_ANSWERED_S = 7 * 24 * 3600
MAX_KNOWN = 500


@dataclass(slots=True)
class PendingRequest:
    request: AccessRequest
    verdicts: dict[str, Verdict]
    received_at: float

    def askable(self) -> list[str]:
        return [cam for cam, v in self.verdicts.items() if v.allowed]

    def as_dict(self) -> dict[str, Any]:
        inc = self.request.incident
        return {
            "request_id": self.request.request_id,
            "incident_id": inc.incident_id,
            "case_number": inc.case_number,
            "incident_type": inc.incident_type,
            "reason": inc.reason,
            "officer": inc.officer_name,
            "badge": inc.badge,
            **(inc.purpose or Purpose()).detail(),
            "scope": self.request.scope,
            "cameras": self.askable(),
            "window_start": self.request.window_start,
            "window_end": self.request.window_end,
            "received": dt_util.utc_from_timestamp(self.received_at).isoformat(),
        }


@dataclass(slots=True)
class KnownRequest:
    request: AccessRequest
    received_at: float
    status: str  # pending | approved | declined | expired | refused
    footage: list[str] = field(default_factory=list)


FootageLister = Callable[[AccessRequest], Awaitable[list[str]]]


class RequestBook:
    VERSION = 1

    def __init__(self, ctx: InstallationContext) -> None:
        self.ctx = ctx
        self.pending: dict[str, PendingRequest] = {}
        self.known: dict[str, KnownRequest] = {}
        self._timers: dict[str, Callable[[], None]] = {}
        self._store: Store[dict[str, Any]] = Store(
            ctx.hass, self.VERSION, f"{DOMAIN}.{ctx.installation_id}.requests"
        )
        # Set by detection when it runs: lists local events in a footage request's window.
        self.list_footage: FootageLister | None = None

    # --- persistence -------------------------------------------------------------------------

    async def load(self) -> None:
        stored = await self._store.async_load() or {}
        now = time.time()
        for raw in stored.get("requests", []):
            try:
                req = decode_message(raw["message"])
            except (ProtocolError, KeyError, TypeError):
                _LOGGER.error("A stored request could not be read; dropped")
                continue
            if not isinstance(req, AccessRequest):
                continue
            known = KnownRequest(
                req, float(raw["received_at"]), str(raw["status"]), list(raw.get("footage", []))
            )
            self.known[req.request_id] = known
            if known.status == "pending":
                verdicts = {c: self.ctx.gate.request(req, c).verdict for c in raw["cameras"]}
                self.pending[req.request_id] = PendingRequest(req, verdicts, known.received_at)
                self._arm_timer(req.request_id, known.received_at + REQUEST_TTL_S - now)

    async def _save(self) -> None:
        cutoff = time.time() - KEEP_ANSWERED_S
        for rid in [
            rid for rid, k in self.known.items() if k.status != "pending" and k.received_at < cutoff
        ]:
            del self.known[rid]
        while len(self.known) > MAX_KNOWN:  # oldest first (insertion order)
            self.known.pop(next(iter(self.known)))
        await self._store.async_save(
            {
                "requests": [
                    {
                        "message": encode_message(k.request),
                        "received_at": k.received_at,
                        "status": k.status,
                        "footage": k.footage,
                        "cameras": self.pending[rid].askable() if rid in self.pending else [],
                    }
                    for rid, k in self.known.items()
                ]
            }
        )

    def stop(self) -> None:
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()

    def find(self, request_id: str) -> AccessRequest | None:
        known = self.known.get(request_id)
        return known.request if known else None

    # --- from the hub --------------------------------------------------------------------------

    async def handle(self, req: AccessRequest) -> None:
        if req.request_id in self.known:
            # A replay (the hub re-sends open requests after a reconnect): nothing new. An
            # approval already made is in the outbox until the hub acknowledges it.
            return
        ctx = self.ctx
        inc = req.incident
        results = {cam: ctx.gate.request(req, cam) for cam in req.camera_ids}
        verdicts = {cam: r.verdict for cam, r in results.items()}
        detail = {
            "request_id": req.request_id,
            "incident_id": inc.incident_id,
            "case_number": inc.case_number,
            "incident_type": inc.incident_type,
            "reason": inc.reason,
            "officer_id": inc.officer_id,
            "officer": inc.officer_name,
            "badge": inc.badge,
            **(inc.purpose or Purpose()).detail(),
            "scope": req.scope,
            "window_start": req.window_start,
            "window_end": req.window_end,
            "verdicts": {
                cam: v.outcome.value + (f":{v.reason}" if v.reason else "")
                for cam, v in verdicts.items()
            },
        }
        # Remembered before anything else happens: a replay arriving meanwhile is a no-op.
        known = KnownRequest(req, time.time(), "pending")
        self.known[req.request_id] = known
        try:
            await ctx.audit.record("request_received", detail)
        except AuditWriteFailed:
            del self.known[req.request_id]  # not logged = not handled; a replay may retry
            raise
        if self.list_footage is not None:
            known.footage = await self.list_footage(req)
        for cam, v in verdicts.items():
            if not v.allowed:
                log_refusal(_LOGGER, "request", v.reason, request_id=req.request_id, camera=cam)
        auto = [cam for cam, v in verdicts.items() if v.outcome is Outcome.AUTO]
        ask = [cam for cam, v in verdicts.items() if v.outcome is Outcome.ASK]
        event_data = {k: v for k, v in detail.items() if k != "verdicts"}
        if auto:
            await self._approve(req, auto, verdicts, auto_approved=True)
            ctx.fire_request_event("auto_approved", {**event_data, "cameras": auto})
        if ask:
            pending = PendingRequest(req, verdicts, known.received_at)
            self.pending[req.request_id] = pending
            ctx.fire_request_event("received", {**event_data, "cameras": ask})
            ctx.hass.bus.async_fire(EVENT_REQUEST, {**event_data, "cameras": ask})
            self._notify(pending, known.footage)
            self._arm_timer(req.request_id, REQUEST_TTL_S)
        else:
            known.status = "approved" if auto else "refused"
            if not auto:
                # Nothing may be shared. The hub hears nothing: the request lapses there as
                # if unanswered, so a refusal cannot be told from absence.
                ctx.fire_request_event("refused", event_data)
        await self._save()
        ctx.publish()

    # --- the resident's answers -------------------------------------------------------------

    async def approve(self, request_id: str, cameras: list[str] | None = None) -> list[str]:
        pending = self.pending.get(request_id)
        if pending is None:
            raise KeyError(request_id)
        req = pending.request
        wanted = [c for c in (cameras or pending.askable()) if c in pending.askable()]
        # Re-checked now: the resident may have paused or changed rules since it came.
        verdicts = {c: self.ctx.gate.request(req, c).verdict for c in wanted}
        for cam, v in verdicts.items():
            if not v.allowed:
                log_refusal(_LOGGER, "approval", v.reason, request_id=request_id, camera=cam)
        del self.pending[request_id]
        approved = await self._approve(req, wanted, verdicts, auto_approved=False)
        if not approved:
            await self.ctx.audit.record(
                "request_declined",
                {"request_id": request_id, "reason": "rules_refused_on_approval"},
            )
        self.known[request_id].status = "approved" if approved else "declined"
        self._finish(request_id)
        self.ctx.fire_request_event(
            "approved" if approved else "declined", {"request_id": request_id, "cameras": approved}
        )
        await self._save()
        self.ctx.publish()
        return approved

    async def decline(self, request_id: str, reason: str = "declined") -> None:
        if self.pending.pop(request_id, None) is None:
            raise KeyError(request_id)
        # Only our own log knows: the hub is told nothing (see the module docstring).
        await self.ctx.audit.record(
            "request_declined", {"request_id": request_id, "reason": reason}
        )
        self.known[request_id].status = "expired" if reason == "expired" else "declined"
        self._finish(request_id)
        self.ctx.fire_request_event(
            "expired" if reason == "expired" else "declined", {"request_id": request_id}
        )
        await self._save()
        self.ctx.publish()

    async def decline_all(self, reason: str) -> None:
        for request_id in list(self.pending):
            await self.decline(request_id, reason=reason)

    async def _approve(
        self,
        req: AccessRequest,
        cameras: list[str],
        verdicts: dict[str, Verdict],
        *,
        auto_approved: bool,
    ) -> list[str]:
        state = self.ctx.state
        approved = [c for c in cameras if verdicts[c].allowed]
        if not approved:
            return []
        max_session = min(verdicts[c].max_session_s or 900 for c in approved)
        max_fps = min(verdicts[c].fps or 2.0 for c in approved)
        earlier = state.approvals.get(req.request_id)
        if earlier is not None:  # a partial (auto) approval came first: keep the tighter limits
            max_session = min(max_session, earlier.max_session_s)
            max_fps = min(max_fps, earlier.max_fps)
        all_cameras = frozenset(approved) | (earlier.cameras if earlier else frozenset())
        approval = Approval(
            incident_id=req.incident.incident_id,
            request_id=req.request_id,
            cameras=all_cameras,
            scope=req.scope,
            max_session_s=max_session,
            max_fps=max_fps,
            approved_at=time.time(),
            auto=auto_approved,
        )
        await self.ctx.audit.record(
            "request_approved",
            {
                "request_id": req.request_id,
                "incident_id": req.incident.incident_id,
                "cameras": approved,
                "auto": auto_approved,
                "max_session_s": max_session,
                "max_fps": max_fps,
            },
        )
        state.approvals[req.request_id] = approval
        await self.ctx.state_store.save()
        await self.ctx.outbox.put(
            Decision(
                request_id=req.request_id,
                approved_camera_ids=approved,
                max_session_s=max_session,
                max_fps=max_fps,
                # Final only when nothing is left open: otherwise the hub could tell a
                # refused camera (closed at once) from an unanswered one.
                final=all_cameras >= set(req.camera_ids),
            )
        )
        return approved

    # --- timers and notifications ------------------------------------------------------------

    def _arm_timer(self, request_id: str, delay: float) -> None:
        if (cancel := self._timers.pop(request_id, None)) is not None:
            cancel()
        self._timers[request_id] = async_call_later(
            self.ctx.hass, max(0.0, delay), partial(self._expired, request_id)
        )

    @callback
    def _expired(self, request_id: str, _now: Any) -> None:
        self._timers.pop(request_id, None)
        if request_id in self.pending:
            self.ctx.background(self.decline(request_id, reason="expired"), "request expiry")

    def _finish(self, request_id: str) -> None:
        if (cancel := self._timers.pop(request_id, None)) is not None:
            cancel()
        self.ctx.notifier.dismiss(f"{DOMAIN}_request_{request_id}")

    def _notify(self, pending: PendingRequest, footage: list[str]) -> None:
        ctx = self.ctx
        req = pending.request
        inc = req.incident
        cams = ", ".join(ctx.cameras.name(c) for c in pending.askable())
        title = "Connect Share: police request"
        message = (
            f"{inc.officer_name} (badge {inc.badge}) asks for {req.scope} access to "
            f"{cams} for incident {inc.case_number} ({inc.incident_type}): {inc.reason}. "
            f"{(inc.purpose or Purpose()).describe()} "
            f"Request id: {req.request_id}"
        )
        if footage:
            message += (
                "\n\nYour recorded events in the requested window (after approving, pick them "
                "with the share_footage action):\n" + "\n".join(f"- {line}" for line in footage)
            )
        rid = req.request_id
        link = request_url(rid)
        ctx.notifier.show(
            f"{DOMAIN}_request_{rid}", title, f"{message}\n\n[Answer in Connect Share]({link})"
        )
        ctx.notifier.push(
            title,
            message,
            {
                "tag": f"{DOMAIN}_{rid}",
                # Tapping the notification opens the panel at this request (iOS / Android).
                "url": link,
                "clickAction": link,
                "actions": [
                    {"action": f"{ACTION_APPROVE}{rid}", "title": "Approve"},
                    {"action": f"{ACTION_DECLINE}{rid}", "title": "Decline"},
                ],
            },
        )

    @callback
    def on_notify_action(self, event: Any) -> None:
        """Approve / Decline pressed in the companion app."""
        action = str(event.data.get("action", ""))
        for prefix, approve in ((ACTION_APPROVE, True), (ACTION_DECLINE, False)):
            if action.startswith(prefix):
                request_id = action.removeprefix(prefix)
                if request_id not in self.pending:
                    return
                coro = self.approve(request_id) if approve else self.decline(request_id)
                self.ctx.background(coro, "request answer from notification")
