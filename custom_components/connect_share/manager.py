"""The installation manager: owns the hub connection, the rules state and the audit log.

Everything that can let a frame leave the house funnels through ``_check``, which calls the
one rule check (``rules.evaluate``), and through ``_audit``, which is durable before the
action it records happens.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .audit_crosscheck import handle_audit_entries, request_audit_check
from .audit_log import AuditLog
from .const import (
    CLIENT_VERSION,
    CONF_INSTALLATION_ID,
    CONF_ISSUER,
    CONF_JWKS,
    CONF_PRIVATE_KEY,
    CONF_URL,
    CONF_WS_PATH,
    DOMAIN,
    EVENT_ACCESS,
    EVENT_REQUEST,
    ISSUE_AUDIT_LOCAL,
    ISSUE_REMOVED,
    ISSUE_UNREACHABLE,
    OPT_CAMERAS,
    REQUEST_TTL_S,
    UNREACHABLE_AFTER,
)
from .hub_client import HubConnection
from .key_rotation import check_key_rotation, pin_offered_keys
from .protocol import KeySet, TokenError, load_private_key, verify_token
from .protocol.messages import (
    AccessRequest,
    AuditEntries,
    AuditFetch,
    AuthOk,
    CameraInfo,
    CameraSync,
    Decision,
    Error,
    Grant,
    Message,
    Revoke,
    SessionClose,
    SessionOpen,
    SessionStarted,
)
from .protocol.tokens import AccessGrant
from .request_notifications import (
    dismiss_request_notification,
    notify_request,
    on_notify_action,
    send_notify,
)
from .rules import (
    Access,
    Approval,
    CameraSettings,
    Outcome,
    RuleState,
    Verdict,
    evaluate,
    settings_from_options,
)
from .sessions import LiveSession

if TYPE_CHECKING:
    from .detection_manager import DetectionManager

_LOGGER = logging.getLogger(__name__)
STORAGE_VERSION = 1
NEUTRAL_REVOKE_REASON = "revoked_by_resident"

type ConnectShareConfigEntry = ConfigEntry[ConnectShareManager]


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
            "scope": self.request.scope,
            "cameras": self.askable(),
            "received": dt_util.utc_from_timestamp(self.received_at).isoformat(),
        }


@dataclass(slots=True)
class GrantInfo:
    token_id: str
    request_id: str
    incident_id: str
    officer: str
    badge: str
    cameras: tuple[str, ...]
    expires_at: int


@dataclass(slots=True)
class LastAccess:
    officer: str
    badge: str
    incident_id: str
    case_number: str
    camera: str
    time: float
    action: str


@dataclass(slots=True)
class Listeners:
    """Entities subscribe here; ``fire_request_event`` feeds the event entity."""

    request_event: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)


class ConnectShareManager:
    def __init__(self, hass: HomeAssistant, entry: ConnectShareConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        data = entry.data
        self.installation_id: str = data[CONF_INSTALLATION_ID]
        self.issuer: str = data[CONF_ISSUER]
        self.keyset = KeySet.from_jwks(data[CONF_JWKS])
        self.offered_jwks: dict[str, Any] | None = None
        self._key = load_private_key(data[CONF_PRIVATE_KEY])
        self.state = RuleState()
        self.cameras: dict[str, CameraSettings] = {}
        self.camera_names: dict[str, str] = {}
        self.pending: dict[str, PendingRequest] = {}
        self.grants: dict[str, GrantInfo] = {}
        self.sessions: dict[str, LiveSession] = {}
        self.last_access: LastAccess | None = None
        self.listeners = Listeners()
        self.detection: DetectionManager | None = None  # set up by __init__.py
        # The installation's device (cameras' devices point to it); set up by __init__.py.
        self.installation_device_id: str | None = None
        self.audit = AuditLog(Path(hass.config.path(DOMAIN, f"audit-{self.installation_id}.jsonl")))
        self.audit_check: dict[str, Any] = {"status": "not_run"}
        self._hub_audit: list[dict[str, Any]] = []
        self._audit_rechecked = False
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{self.installation_id}.state"
        )
        self.connection = HubConnection(
            async_get_clientsession(hass),
            data[CONF_URL],
            data[CONF_WS_PATH],
            self.installation_id,
            self._key,
            CLIENT_VERSION,
            on_message=self._on_message,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
            on_fatal=self._on_fatal,
        )
        self._unsubs: list[Callable[[], None]] = []
        self._timers: dict[str, Callable[[], None]] = {}
        self.signal = f"{DOMAIN}_{entry.entry_id}_update"

    # --- lifecycle -------------------------------------------------------------------------

    async def async_start(self) -> None:
        verification = await self.hass.async_add_executor_job(self.audit.load)
        if not verification.ok:
            _LOGGER.error("Local audit log failed verification: %s", verification.problems)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_AUDIT_LOCAL}_{self.entry.entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_AUDIT_LOCAL,
                translation_placeholders={"problems": "; ".join(verification.problems[:5])},
            )
        await self._load_state()
        self.load_options()
        self._unsubs.append(
            self.hass.bus.async_listen("mobile_app_notification_action", self._on_notify_action)
        )
        self.connection.start(
            lambda coro: self.entry.async_create_background_task(
                self.hass, coro, f"{DOMAIN} hub connection"
            )
        )
        await self._audit("started", {"audit_entries": verification.entries})

    async def async_stop(self) -> None:
        for unsub in [*self._unsubs, *self._timers.values()]:
            unsub()
        self._unsubs.clear()
        self._timers.clear()
        for session in list(self.sessions.values()):
            await session.stop("shutdown")
        await self.connection.stop()

    def load_options(self) -> None:
        cams = self.entry.options.get(OPT_CAMERAS, {})
        self.cameras = {cid: settings_from_options(cid, opts) for cid, opts in cams.items()}
        self.camera_names = {cid: str(opts.get("name") or cid) for cid, opts in cams.items()}

    # --- persisted state -------------------------------------------------------------------

    async def _load_state(self) -> None:
        stored = await self._store.async_load() or {}
        paused = stored.get("paused_until")
        self.state.paused_until = math.inf if paused == "forever" else paused
        self.state.sharing_disabled = set(stored.get("sharing_disabled", []))
        now = time.time()
        self.state.revoked_token_ids = set(stored.get("revoked_token_ids", []))
        self.state.revoked_incidents = set(stored.get("revoked_incidents", []))
        self.state.revoked_before = float(stored.get("revoked_before", 0.0))
        for raw in stored.get("approvals", []):
            approval = Approval(
                incident_id=raw["incident_id"],
                request_id=raw["request_id"],
                cameras=frozenset(raw["cameras"]),
                scope=raw["scope"],
                max_session_s=int(raw["max_session_s"]),
                max_fps=float(raw["max_fps"]),
                approved_at=float(raw["approved_at"]),
                auto=bool(raw.get("auto")),
            )
            # Approvals older than the longest token lifetime cannot be used any more.
            if now - approval.approved_at < 2 * 3600:
                self.state.approvals[approval.request_id] = approval

    async def _save_state(self) -> None:
        paused = self.state.paused_until
        await self._store.async_save(
            {
                "paused_until": "forever" if paused == math.inf else paused,
                "sharing_disabled": sorted(self.state.sharing_disabled),
                "revoked_token_ids": sorted(self.state.revoked_token_ids),
                "revoked_incidents": sorted(self.state.revoked_incidents),
                "revoked_before": self.state.revoked_before,
                "approvals": [
                    {
                        "incident_id": a.incident_id,
                        "request_id": a.request_id,
                        "cameras": sorted(a.cameras),
                        "scope": a.scope,
                        "max_session_s": a.max_session_s,
                        "max_fps": a.max_fps,
                        "approved_at": a.approved_at,
                        "auto": a.auto,
                    }
                    for a in self.state.approvals.values()
                ],
            }
        )

    # --- audit, events, updates ------------------------------------------------------------

    async def _audit(self, action: str, detail: dict[str, Any]) -> None:
        """Durable before return: the action it records happens only after this."""
        await self.hass.async_add_executor_job(self.audit.append, action, detail)

    @callback
    def _updated(self) -> None:
        async_dispatcher_send(self.hass, self.signal)

    @callback
    def _fire_request_event(self, event_type: str, data: dict[str, Any]) -> None:
        for listener in self.listeners.request_event:
            listener(event_type, data)

    def _log_refusal(self, what: str, reason: str, **ids: Any) -> None:
        # Only ids and reason codes: never a token or key.
        _LOGGER.info("Refused %s (%s): %s", what, reason, ids)

    @property
    def home(self) -> tuple[float, float] | None:
        cfg = self.hass.config
        if cfg.latitude is None or cfg.longitude is None:
            return None
        return (cfg.latitude, cfg.longitude)

    def _check(self, camera_id: str, access: Access) -> Verdict:
        """The single entry to the rule check for requests, tokens and frames."""
        now = time.time()
        return evaluate(
            self.cameras.get(camera_id),
            self.state,
            access,
            now=now,
            local_now=dt_util.as_local(dt_util.utc_from_timestamp(now)),
            home=self.home,
        )

    def _check_session(self, session: LiveSession) -> Verdict:
        c = session.grant.claims
        return self._check(
            session.camera_id,
            Access(
                kind="frame",
                camera_id=session.camera_id,
                scope=session.scope,
                incident_id=c.incident_id,
                token_id=c.token_id,
                token_issued_at=c.issued_at,
                token_expires_at=c.expires_at,
                requested_fps=session.requested_fps,
                session_started_at=session.started_at,
            ),
        )

    # --- hub connection callbacks ----------------------------------------------------------

    async def _on_connected(self, auth_ok: AuthOk) -> None:
        for issue in (ISSUE_UNREACHABLE, ISSUE_REMOVED):
            ir.async_delete_issue(self.hass, DOMAIN, f"{issue}_{self.entry.entry_id}")
        self._check_key_rotation(auth_ok.jwks)
        await self.async_sync_cameras()
        self._hub_audit = []
        await self.connection.send(AuditFetch(since_seq=0))
        self._updated()

    def _check_key_rotation(self, jwks: dict[str, Any]) -> None:
        check_key_rotation(self, jwks)

    async def async_pin_offered_keys(self) -> bool:
        """The resident confirmed the new fingerprints: pin the hub's current key set."""
        return await pin_offered_keys(self)

    @callback
    def _on_disconnected(self, reason: str) -> None:
        for session in list(self.sessions.values()):
            self.hass.async_create_task(session.stop("hub_disconnected"))
        if self.connection.failures >= UNREACHABLE_AFTER:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_UNREACHABLE}_{self.entry.entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_UNREACHABLE,
                translation_placeholders={"url": self.entry.data[CONF_URL]},
            )
        self._updated()

    @callback
    def _on_fatal(self, code: str) -> None:
        _LOGGER.warning("The hub no longer knows this installation (%s)", code)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ISSUE_REMOVED}_{self.entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_REMOVED,
            translation_placeholders={"url": self.entry.data[CONF_URL]},
        )
        self.entry.async_start_reauth(self.hass)
        self._updated()

    async def _on_message(self, msg: Message) -> None:
        if isinstance(msg, AccessRequest):
            await self._handle_request(msg)
        elif isinstance(msg, Grant):
            await self._handle_grant(msg)
        elif isinstance(msg, SessionOpen):
            await self._handle_session_open(msg)
        elif isinstance(msg, SessionClose):
            session = self.sessions.get(msg.session_id)
            if session is not None:
                await session.stop(f"hub:{msg.reason}"[:64])
        elif isinstance(msg, Revoke):
            await self._apply_revoke(msg, source="hub")
        elif isinstance(msg, AuditEntries):
            await self._handle_audit_entries(msg)
        elif isinstance(msg, Error):
            _LOGGER.warning("Hub reported an error: %s %s", msg.code, msg.message[:200])
        else:
            # Messages only the hub should receive (hello, decision, ...): refuse, keep socket.
            _LOGGER.warning("Unexpected message from hub refused: %s", msg.TYPE)
            await self.connection.send(Error(code="unexpected_message", message=msg.TYPE))

    async def async_sync_cameras(self) -> None:
        infos = []
        for cid, cam in self.cameras.items():
            mode = "off" if cid in self.state.sharing_disabled else cam.mode
            lat, lon = (cam.lat, cam.lon) if cam.lat is not None else (self.home or (None, None))
            infos.append(
                CameraInfo(
                    camera_id=cid,
                    name=self.camera_names.get(cid, cid),
                    mode=mode,
                    lat=lat,
                    lon=lon,
                    heading_deg=cam.heading_deg,
                    masked=bool(cam.masks),
                    scopes=sorted(cam.scopes()) if mode != "off" else [],
                )
            )
        await self.connection.send(CameraSync(cameras=infos))

    # --- requests ---------------------------------------------------------------------------

    def _request_access(self, req: AccessRequest, camera_id: str) -> Access:
        inc = req.incident
        return Access(
            kind="request",
            camera_id=camera_id,
            scope=req.scope,
            incident_id=inc.incident_id,
            incident_type=inc.incident_type,
            incident_lat=inc.lat,
            incident_lon=inc.lon,
            incident_radius_m=inc.radius_m,
            requested_session_s=req.max_session_s,
        )

    async def _handle_request(self, req: AccessRequest) -> None:
        inc = req.incident
        verdicts = {cam: self._check(cam, self._request_access(req, cam)) for cam in req.camera_ids}
        detail = {
            "request_id": req.request_id,
            "incident_id": inc.incident_id,
            "case_number": inc.case_number,
            "incident_type": inc.incident_type,
            "officer_id": inc.officer_id,
            "officer": inc.officer_name,
            "badge": inc.badge,
            "scope": req.scope,
            "verdicts": {
                cam: v.outcome.value + (f":{v.reason}" if v.reason else "")
                for cam, v in verdicts.items()
            },
        }
        await self._audit("request_received", detail)
        # A footage request (scope clip): the local events in its window, for the resident.
        footage = await self.detection.async_footage_request(req) if self.detection else []
        for cam, v in verdicts.items():
            if not v.allowed:
                self._log_refusal("request", v.reason, request_id=req.request_id, camera=cam)
        auto = [cam for cam, v in verdicts.items() if v.outcome is Outcome.AUTO]
        ask = [cam for cam, v in verdicts.items() if v.outcome is Outcome.ASK]
        event_data = {**detail, "cameras": ask}
        event_data.pop("verdicts")
        if auto:
            # Auto cameras go at once; if others need the resident, the decision is partial.
            await self._approve(req, auto, verdicts, auto_approved=True, final=not ask)
            self._fire_request_event("auto_approved", {**event_data, "cameras": auto})
        if ask:
            self.pending[req.request_id] = PendingRequest(req, verdicts, time.time())
            self._fire_request_event("received", event_data)
            self.hass.bus.async_fire(EVENT_REQUEST, event_data)
            await self._notify_request(self.pending[req.request_id], footage)
            self._timers[req.request_id] = async_call_later(
                self.hass, REQUEST_TTL_S, partial(self._expire_request, req.request_id)
            )
        elif not auto:
            # Nothing may be shared: the hub hears only "no footage", never why.
            await self.connection.send(Decision(request_id=req.request_id, approved_camera_ids=[]))
            self._fire_request_event("refused", event_data)
        self._updated()

    @callback
    def _expire_request(self, request_id: str, _now: Any) -> None:
        self._timers.pop(request_id, None)
        if request_id in self.pending:
            self.hass.async_create_task(self.async_decline(request_id, reason="expired"))

    async def _approve(
        self,
        req: AccessRequest,
        cameras: list[str],
        verdicts: dict[str, Verdict],
        *,
        auto_approved: bool,
        final: bool = True,
    ) -> list[str]:
        approved = [c for c in cameras if verdicts[c].allowed]
        if not approved:
            return []
        max_session = min(verdicts[c].max_session_s or 900 for c in approved)
        max_fps = min(verdicts[c].fps or 2.0 for c in approved)
        earlier = self.state.approvals.get(req.request_id)
        if earlier is not None:  # a partial (auto) approval came first: keep the tighter limits
            max_session = min(max_session, earlier.max_session_s)
            max_fps = min(max_fps, earlier.max_fps)
        approval = Approval(
            incident_id=req.incident.incident_id,
            request_id=req.request_id,
            cameras=frozenset(approved) | (earlier.cameras if earlier else frozenset()),
            scope=req.scope,
            max_session_s=max_session,
            max_fps=max_fps,
            approved_at=time.time(),
            auto=auto_approved,
        )
        await self._audit(
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
        self.state.approvals[req.request_id] = approval
        await self._save_state()
        await self.connection.send(
            Decision(
                request_id=req.request_id,
                approved_camera_ids=approved,
                max_session_s=max_session,
                max_fps=max_fps,
                final=final,
            )
        )
        return approved

    async def async_approve(self, request_id: str, cameras: list[str] | None = None) -> list[str]:
        pending = self.pending.get(request_id)
        if pending is None:
            raise KeyError(request_id)
        req = pending.request
        wanted = [c for c in (cameras or pending.askable()) if c in pending.askable()]
        # Re-check now: the resident may have paused or changed rules since the request came.
        verdicts = {c: self._check(c, self._request_access(req, c)) for c in wanted}
        for cam, v in verdicts.items():
            if not v.allowed:
                self._log_refusal("approval", v.reason, request_id=request_id, camera=cam)
        del self.pending[request_id]
        approved = await self._approve(req, wanted, verdicts, auto_approved=False)
        if not approved:
            await self._audit(
                "request_declined",
                {"request_id": request_id, "reason": "rules_refused_on_approval"},
            )
            await self.connection.send(Decision(request_id=request_id, approved_camera_ids=[]))
        self._dismiss_request_notification(request_id)
        self._fire_request_event(
            "approved" if approved else "declined", {"request_id": request_id, "cameras": approved}
        )
        self._updated()
        return approved

    async def async_decline(self, request_id: str, reason: str = "declined") -> None:
        if self.pending.pop(request_id, None) is None:
            raise KeyError(request_id)
        await self._audit("request_declined", {"request_id": request_id, "reason": reason})
        await self.connection.send(Decision(request_id=request_id, approved_camera_ids=[]))
        self._dismiss_request_notification(request_id)
        self._fire_request_event(
            "expired" if reason == "expired" else "declined", {"request_id": request_id}
        )
        self._updated()

    # --- tokens -----------------------------------------------------------------------------

    def _verify(self, token: str) -> AccessGrant:
        return verify_token(
            token,
            self.keyset,
            installation_id=self.installation_id,
            issuer=self.issuer,
            is_revoked=lambda jti: jti in self.state.revoked_token_ids,
        )

    async def _handle_grant(self, msg: Grant) -> None:
        try:
            grant = self._verify(msg.token)
        except TokenError as err:
            await self._audit(
                "grant_refused", {"request_id": msg.request_id, "reason": err.reason.value}
            )
            self._log_refusal("grant", err.reason.value, request_id=msg.request_id)
            await self.connection.send(
                Error(code=f"token_{err.reason.value}", message="grant refused", ref=msg.request_id)
            )
            return
        c = grant.claims
        for cam, scope in ((cam, scope) for cam in c.cameras for scope in c.scopes):
            verdict = self._check(cam, self._token_access(grant, cam, scope))
            if not verdict.allowed:
                await self._audit(
                    "grant_refused",
                    {
                        "request_id": msg.request_id,
                        "token_id": c.token_id,
                        "camera": cam,
                        "reason": verdict.reason,
                    },
                )
                self._log_refusal("grant", verdict.reason, token_id=c.token_id, camera=cam)
                await self.connection.send(Revoke(reason=verdict.reason, token_ids=[c.token_id]))
                return
        self.grants[c.token_id] = GrantInfo(
            token_id=c.token_id,
            request_id=msg.request_id,
            incident_id=c.incident_id,
            officer=c.officer_name,
            badge=c.badge,
            cameras=c.cameras,
            expires_at=c.expires_at,
        )
        await self._audit(
            "grant_accepted",
            {
                "request_id": msg.request_id,
                "token_id": c.token_id,
                "incident_id": c.incident_id,
                "officer_id": c.officer_id,
                "officer": c.officer_name,
                "badge": c.badge,
                "cameras": list(c.cameras),
                "scopes": list(c.scopes),
                "expires_at": c.expires_at,
            },
        )
        self._updated()

    def _token_access(
        self, grant: AccessGrant, camera_id: str, scope: str, fps: float | None = None
    ) -> Access:
        c = grant.claims
        return Access(
            kind="token",
            camera_id=camera_id,
            scope=scope,
            incident_id=c.incident_id,
            token_id=c.token_id,
            token_issued_at=c.issued_at,
            token_expires_at=c.expires_at,
            requested_fps=fps,
        )

    # --- sessions --------------------------------------------------------------------------

    async def _handle_session_open(self, msg: SessionOpen) -> None:
        async def refuse(reason: str, **extra: Any) -> None:
            await self._audit(
                "session_refused",
                {"session_id": msg.session_id, "camera": msg.camera_id, "reason": reason, **extra},
            )
            self._log_refusal("session", reason, session_id=msg.session_id, camera=msg.camera_id)
            await self.connection.send(SessionClose(session_id=msg.session_id, reason=reason))

        if msg.session_id in self.sessions:
            await refuse("duplicate_session")
            return
        try:
            grant = self._verify(msg.token)
            grant.require(msg.camera_id, msg.scope)
        except TokenError as err:
            await refuse(err.reason.value)
            return
        c = grant.claims
        verdict = self._check(
            msg.camera_id, self._token_access(grant, msg.camera_id, msg.scope, msg.fps)
        )
        if not verdict.allowed:
            await refuse(verdict.reason, token_id=c.token_id, incident_id=c.incident_id)
            return
        cam_opts = self.entry.options.get(OPT_CAMERAS, {}).get(msg.camera_id, {})
        session = LiveSession(
            self,
            session_id=msg.session_id,
            camera_id=msg.camera_id,
            scope=msg.scope,
            grant=grant,
            requested_fps=msg.fps,
            fps=verdict.fps or 1.0,
            max_session_s=verdict.max_session_s or 900,
            masks_text=str(cam_opts.get("masks") or ""),
        )
        if (problem := session.unavailable_reason()) is not None:
            await refuse(problem, token_id=c.token_id)
            return
        # Logged (fsync) before the first frame can leave.
        await self._audit(
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
                "scope": msg.scope,
                "fps": session.fps,
            },
        )
        self.sessions[msg.session_id] = session
        self.last_access = LastAccess(
            officer=c.officer_name,
            badge=c.badge,
            incident_id=c.incident_id,
            case_number=c.case_number,
            camera=msg.camera_id,
            time=time.time(),
            action="session_started",
        )
        self._access_event("session_started", session)
        await self.connection.send(SessionStarted(session_id=msg.session_id, fps=session.fps))
        session.start()
        self._updated()

    def check_frame(self, session: LiveSession) -> Verdict:
        """Called by the session right before every frame is sent."""
        if self.sessions.get(session.session_id) is not session or session.stopping:
            return Verdict(Outcome.REFUSED, "session_closed")
        return self._check_session(session)

    async def session_ended(self, session: LiveSession, reason: str) -> None:
        if self.sessions.pop(session.session_id, None) is None:
            return
        duration = round(time.time() - session.started_at, 3)
        await self._audit(
            "session_closed",
            {
                "session_id": session.session_id,
                "camera": session.camera_id,
                "reason": reason,
                "frames_sent": session.frames_sent,
                "duration_s": duration,
            },
        )
        await self.connection.send(
            SessionClose(
                session_id=session.session_id,
                reason=reason,
                frames_sent=session.frames_sent,
                duration_s=duration,
            )
        )
        self._access_event("session_ended", session, reason=reason)
        self._updated()

    def _access_event(self, action: str, session: LiveSession, **extra: Any) -> None:
        c = session.grant.claims
        data = {
            "action": action,
            "entity_id": session.camera_id,
            "camera": self.camera_names.get(session.camera_id, session.camera_id),
            "officer": c.officer_name,
            "badge": c.badge,
            "incident_id": c.incident_id,
            "case_number": c.case_number,
            "session_id": session.session_id,
            "frames_sent": session.frames_sent,
            **extra,
        }
        self.hass.bus.async_fire(EVENT_ACCESS, data)
        title = "Connect Share: live view " + (
            "started" if action == "session_started" else "ended"
        )
        message = (
            f"{c.officer_name} (badge {c.badge}) "
            f"{'is watching' if action == 'session_started' else 'stopped watching'} "
            f"{data['camera']} for incident {c.case_number}."
        )
        persistent_notification.async_create(
            self.hass, message, title, f"{DOMAIN}_session_{session.session_id}"
        )
        self._send_notify(title, message, None)

    # --- revocation --------------------------------------------------------------------------

    async def _apply_revoke(self, msg: Revoke, *, source: str) -> None:
        now = time.time()
        if msg.all:
            self.state.revoked_before = now
        self.state.revoked_token_ids.update(msg.token_ids)
        if msg.incident_id:
            self.state.revoked_incidents.add(msg.incident_id)
        # Stop sessions first: no frame may go out after the revoke is applied.
        stopped = []
        for session in list(self.sessions.values()):
            if not self._check_session(session).allowed:
                stopped.append(session.session_id)
                await session.stop("revoked")
        for jti in list(self.grants):
            g = self.grants[jti]
            if msg.all or jti in msg.token_ids or g.incident_id == msg.incident_id:
                del self.grants[jti]
        await self._audit(
            "revoked",
            {
                "source": source,
                "reason": msg.reason,
                "all": msg.all,
                "token_ids": list(msg.token_ids),
                "incident_id": msg.incident_id,
                "sessions_stopped": stopped,
            },
        )
        await self._save_state()
        self._updated()

    async def async_revoke_all(self, reason: str = "resident_revoke_all") -> None:
        something_live = bool(self.grants or self.sessions or self.state.approvals)
        msg = Revoke(reason=reason, token_ids=sorted(self.grants), all=True)
        await self._apply_revoke(msg, source="resident")
        self.state.approvals.clear()
        for request_id in list(self.pending):
            await self.async_decline(request_id, reason="revoked")
        await self._save_state()
        if something_live:
            # The hub learns that grants ended, never why: "paused" sent every time someone
            # comes home would tell it when the house is occupied. Our own log keeps the why.
            await self.connection.send(
                Revoke(reason=NEUTRAL_REVOKE_REASON, token_ids=msg.token_ids, all=True)
            )

    async def async_revoke(self, token_id: str | None, incident_id: str | None) -> None:
        msg = Revoke(
            reason=NEUTRAL_REVOKE_REASON,
            token_ids=[token_id] if token_id else [],
            incident_id=incident_id,
        )
        await self._apply_revoke(msg, source="resident")
        await self.connection.send(msg)

    async def async_set_paused(self, until: float | None, reason: str = "paused") -> None:
        """``until`` epoch seconds, ``math.inf`` until resumed, None to resume."""
        self.state.paused_until = until
        await self._audit(
            "pause" if until is not None else "resume",
            {"until": None if until in (None, math.inf) else until, "reason": reason},
        )
        await self._save_state()
        if until is not None:
            # Pausing revokes what runs: the design says revocation ends sessions at once.
            await self.async_revoke_all(reason="paused")
        else:
            self._updated()

    def is_paused(self) -> bool:
        return self.state.is_paused(time.time())

    async def async_set_sharing(self, camera_id: str, enabled: bool) -> None:
        if enabled:
            self.state.sharing_disabled.discard(camera_id)
        else:
            self.state.sharing_disabled.add(camera_id)
        await self._audit("sharing", {"camera": camera_id, "enabled": enabled})
        await self._save_state()
        for session in list(self.sessions.values()):
            if session.camera_id == camera_id and not enabled:
                await session.stop("sharing_disabled")
        await self.async_sync_cameras()
        self._updated()

    # --- audit cross-check (audit_crosscheck.py) -------------------------------------------

    async def _handle_audit_entries(self, msg: AuditEntries) -> None:
        await handle_audit_entries(self, msg)

    async def async_request_audit_check(self) -> bool:
        return await request_audit_check(self)

    # --- notifications (request_notifications.py) -------------------------------------------

    async def _notify_request(self, pending: PendingRequest, footage: list[str]) -> None:
        await notify_request(self, pending, footage)

    def _dismiss_request_notification(self, request_id: str) -> None:
        dismiss_request_notification(self, request_id)

    def _send_notify(self, title: str, message: str, data: dict[str, Any] | None) -> None:
        send_notify(self, title, message, data)

    @callback
    def _on_notify_action(self, event: Any) -> None:
        on_notify_action(self, event)

    # --- views for entities and diagnostics ------------------------------------------------

    def sessions_for(self, camera_id: str) -> list[LiveSession]:
        return [s for s in self.sessions.values() if s.camera_id == camera_id]
