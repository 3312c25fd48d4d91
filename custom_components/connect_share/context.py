"""What every part of an installation gets instead of the whole installation object.

``InstallationContext`` carries the shared services (audit trail, durable outbox, access
gate, resident notifications, update signal) and the shared state (camera settings, rule
state). Requests, live sessions, sharing controls, key pinning, the audit cross-check and
detection each depend on this context, never on ``installation.py``; that module only wires
them together, so there is no import cycle.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store

from .access import AccessGate
from .audit_log import AuditLog, AuditWriteFailed
from .const import DOMAIN, ISSUE_AUDIT_WRITE, OPT_CAMERAS, OPT_NOTIFY
from .hub_client import HubConnection
from .outbox import Outbox
from .protocol import KeySet
from .rules import Approval, CameraSettings, RuleState, settings_from_options

_LOGGER = logging.getLogger(__package__)


class AuditTrail:
    """The local audit log as the rest of the integration uses it: every ``record`` is on
    disk (fsync) before it returns. A failed write (full or broken disk) raises, flips
    ``ok`` to False until a later write succeeds (the gate then refuses all access) and
    tells the resident once."""

    def __init__(self, hass: HomeAssistant, entry_id: str, log: AuditLog) -> None:
        self.hass = hass
        self.log = log
        self._entry_id = entry_id
        self._told = False

    @property
    def ok(self) -> bool:
        return self.log.writable

    async def record(self, action: str, detail: dict[str, Any]) -> None:
        try:
            await self.hass.async_add_executor_job(self.log.append, action, detail)
        except AuditWriteFailed as err:
            self._tell_resident(str(err))
            raise
        if self._told:
            self._told = False
            ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_AUDIT_WRITE}_{self._entry_id}")

    def _tell_resident(self, problem: str) -> None:
        if self._told:
            return
        self._told = True
        _LOGGER.error("The local audit log cannot be written (%s): all sharing stops", problem)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ISSUE_AUDIT_WRITE}_{self._entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_AUDIT_WRITE,
            translation_placeholders={"path": str(self.log.path), "problem": problem[:200]},
        )


class Notifier:
    """Resident-facing notifications: a persistent notification and, when configured, the
    resident's notify service (e.g. the companion app, with actions)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self.hass = hass
        self.entry = entry

    def show(self, notification_id: str, title: str, message: str) -> None:
        persistent_notification.async_create(self.hass, message, title, notification_id)

    def dismiss(self, notification_id: str) -> None:
        persistent_notification.async_dismiss(self.hass, notification_id)

    def push(self, title: str, message: str, data: dict[str, Any] | None = None) -> None:
        target = str(self.entry.options.get(OPT_NOTIFY) or "").strip()
        if not target:
            return
        service = target.removeprefix("notify.")
        if not self.hass.services.has_service("notify", service):
            _LOGGER.warning("Notify target %s does not exist", target)
            return
        payload: dict[str, Any] = {"title": title, "message": message}
        if data:
            payload["data"] = data
        self.hass.async_create_task(
            self.hass.services.async_call("notify", service, payload, blocking=False)
        )


@dataclass(slots=True)
class CameraBook:
    """The resident's camera settings, read from the entry's options."""

    settings: dict[str, CameraSettings] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def load(self, entry_options: Any) -> None:
        cams = dict(entry_options.get(OPT_CAMERAS, {}))
        self.options = {cid: dict(opts) for cid, opts in cams.items()}
        self.settings = {cid: settings_from_options(cid, opts) for cid, opts in cams.items()}
        self.names = {cid: str(opts.get("name") or cid) for cid, opts in cams.items()}

    def name(self, camera_id: str) -> str:
        return self.names.get(camera_id, camera_id)


class RuleStateStore:
    """The rule state (pause, per-camera switches, revocations, approvals), persisted."""

    VERSION = 1

    def __init__(self, hass: HomeAssistant, installation_id: str, state: RuleState) -> None:
        self.state = state
        self._store: Store[dict[str, Any]] = Store(
            hass, self.VERSION, f"{DOMAIN}.{installation_id}.state"
        )

    async def load(self) -> None:
        stored = await self._store.async_load() or {}
        state = self.state
        paused = stored.get("paused_until")
        state.paused_until = math.inf if paused == "forever" else paused
        state.sharing_disabled = set(stored.get("sharing_disabled", []))
        state.revoked_token_ids = set(stored.get("revoked_token_ids", []))
        state.revoked_incidents = set(stored.get("revoked_incidents", []))
        state.revoked_before = float(stored.get("revoked_before", 0.0))
        now = time.time()
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
                state.approvals[approval.request_id] = approval

    async def save(self) -> None:
        state = self.state
        paused = state.paused_until
        await self._store.async_save(
            {
                "paused_until": "forever" if paused == math.inf else paused,
                "sharing_disabled": sorted(state.sharing_disabled),
                "revoked_token_ids": sorted(state.revoked_token_ids),
                "revoked_incidents": sorted(state.revoked_incidents),
                "revoked_before": state.revoked_before,
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
                    for a in state.approvals.values()
                ],
            }
        )


@dataclass(slots=True)
class InstallationContext:
    hass: HomeAssistant
    entry: ConfigEntry[Any]
    installation_id: str
    key: Ed25519PrivateKey
    keys: KeyRing
    audit: AuditTrail
    outbox: Outbox
    gate: AccessGate
    notifier: Notifier
    cameras: CameraBook
    state: RuleState
    state_store: RuleStateStore
    connection: HubConnection
    signal: str
    request_event_listeners: list[Callable[[str, dict[str, Any]], None]] = field(
        default_factory=list
    )

    @callback
    def publish(self) -> None:
        """Entities re-read their state."""
        async_dispatcher_send(self.hass, self.signal)

    @callback
    def fire_request_event(self, event_type: str, data: dict[str, Any]) -> None:
        for listener in self.request_event_listeners:
            listener(event_type, data)

    def is_paused(self) -> bool:
        return self.state.is_paused(time.time())

    def home(self) -> tuple[float, float] | None:
        cfg = self.hass.config
        return (cfg.latitude, cfg.longitude)

    def background(self, coro: Awaitable[Any], name: str) -> None:
        self.entry.async_create_background_task(self.hass, coro, name)  # type: ignore[arg-type]


@dataclass(slots=True)
class KeyRing:
    """The hub's pinned signing keys and any newer set it offered (pinned only on consent)."""

    pinned: KeySet
    offered_jwks: dict[str, Any] | None = None


def log_refusal(logger: logging.Logger, what: str, reason: str, **ids: Any) -> None:
    # Only ids and reason codes: never a token or key.
    logger.info("Refused %s (%s): %s", what, reason, ids)


__all__ = [
    "AuditTrail",
    "AuditWriteFailed",
    "CameraBook",
    "InstallationContext",
    "KeyRing",
    "Notifier",
    "RuleStateStore",
    "log_refusal",
]
