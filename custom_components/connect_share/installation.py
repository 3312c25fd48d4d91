"""One installation (config entry): wires the parts together. The entry's ``runtime_data``.

Built completely (audit log, rule state, outbox, requests, detection) before the platforms
load and before the hub connection starts, so nothing that arrives early is dropped. Each part
gets the ``InstallationContext``; only this module, ``__init__.py`` and the platforms know the
``Installation``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from .access import AccessGate
from .audit_crosscheck import AuditCrossCheck
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
    EVENT_NOTIFY_ACTION,
    ISSUE_AUDIT_LOCAL,
    ISSUE_REMOVED,
    ISSUE_UNREACHABLE,
    UNREACHABLE_AFTER,
)
from .context import (
    AuditTrail,
    CameraBook,
    InstallationContext,
    KeyRing,
    Notifier,
    RuleStateStore,
)
from .detection_manager import DetectionManager
from .hub_client import HubConnection
from .key_rotation import check_key_rotation, pin_offered_keys
from .live import LiveSessions
from .outbox import Outbox
from .protocol import KeySet, ProtocolError, load_private_key
from .protocol.messages import (
    AccessRequest,
    Ack,
    AuditEntries,
    AuthOk,
    Error,
    Grant,
    Message,
    Revoke,
    SessionClose,
    SessionOpen,
    SessionViewers,
)
from .requests import PendingRequest, RequestBook
from .rules import CameraSettings, RuleState
from .sessions import LiveSession
from .sharing import GrantInfo, Sharing

_LOGGER = logging.getLogger(__name__)

type ConnectShareConfigEntry = ConfigEntry[Installation]


class StoredKeyUnreadable(Exception):
    """The installation's private key in the entry's data is missing or cannot be loaded.

    The key exists nowhere else (it never leaves the entry's data), so only a new
    enrollment, with a new key, can give the installation an identity again."""


def load_stored_key(data: Mapping[str, Any]) -> Ed25519PrivateKey:
    """The entry's Ed25519 private key; ``StoredKeyUnreadable`` (without key material in
    the message) when it is missing, not text, not PEM or not an Ed25519 key."""
    pem = data.get(CONF_PRIVATE_KEY)
    if not isinstance(pem, str):
        raise StoredKeyUnreadable("no private key is stored" if pem is None else "not text")
    try:
        return load_private_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm, ProtocolError) as err:
        # ValueError covers non-ASCII text and undecodable PEM/DER; TypeError an encrypted key.
        raise StoredKeyUnreadable(type(err).__name__) from None


class PinnedKeysUnreadable(Exception):
    """The hub keys pinned at enrollment (the entry's JWKS) are missing or malformed.

    They are the trust anchor for every token: they are never re-pinned silently. A person
    must compare the hub's fingerprint again, i.e. remove and add the integration."""


def load_pinned_keys(data: Mapping[str, Any]) -> KeySet:
    jwks = data.get(CONF_JWKS)
    if not isinstance(jwks, Mapping):
        raise PinnedKeysUnreadable("missing" if jwks is None else "not an object")
    try:
        return KeySet.from_jwks(jwks)
    except (ProtocolError, ValueError, TypeError, KeyError) as err:
        raise PinnedKeysUnreadable(type(err).__name__) from None


@dataclass(slots=True)
class LastAccess:
    officer: str
    badge: str
    incident_id: str
    case_number: str
    camera: str
    time: float
    action: str


class Installation:
    def __init__(self, hass: HomeAssistant, entry: ConnectShareConfigEntry) -> None:
        data = entry.data
        # First: nothing is built or opened if the identity or the trust anchor is unreadable.
        key = load_stored_key(data)
        pinned = load_pinned_keys(data)
        self.hass = hass
        self.entry = entry
        self.installation_id: str = data[CONF_INSTALLATION_ID]
        self.installation_device_id: str | None = None  # set by __init__.py
        self.state = RuleState()
        cameras = CameraBook()
        cameras.load(entry.options)
        keys = KeyRing(pinned)
        folder = Path(hass.config.path(DOMAIN))
        self.audit = AuditLog(folder / f"audit-{self.installation_id}.jsonl")
        trail = AuditTrail(hass, entry.entry_id, self.audit)
        self.connection = HubConnection(
            async_get_clientsession(hass),
            data[CONF_URL],
            data[CONF_WS_PATH],
            self.installation_id,
            key,
            CLIENT_VERSION,
            on_message=self._on_message,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
            on_fatal=self._on_fatal,
        )
        gate = AccessGate(
            installation_id=self.installation_id,
            issuer=data[CONF_ISSUER],
            keyset=lambda: keys.pinned,
            cameras=lambda: cameras.settings,
            state=self.state,
            home=self._home,
            local_time=lambda ts: dt_util.as_local(dt_util.utc_from_timestamp(ts)),
            audit_ok=lambda: trail.ok,
        )
        self.ctx = ctx = InstallationContext(
            hass=hass,
            entry=entry,
            installation_id=self.installation_id,
            key=key,
            keys=keys,
            audit=trail,
            outbox=Outbox(
                folder / f"outbox-{self.installation_id}.json",
                hass.async_add_executor_job,
                self.connection.send,
            ),
            gate=gate,
            notifier=Notifier(hass, entry),
            cameras=cameras,
            state=self.state,
            state_store=RuleStateStore(hass, self.installation_id, self.state),
            connection=self.connection,
            signal=f"{DOMAIN}_{entry.entry_id}_update",
        )
        self.requests = RequestBook(ctx)
        self.live = LiveSessions(ctx)
        self.sharing = Sharing(ctx, self.requests, self.live)
        self.crosscheck = AuditCrossCheck(ctx)
        # Attached before anything can arrive: footage requests find it from the start.
        self.detection = DetectionManager(ctx, self.requests)
        self.requests.list_footage = self.detection.async_footage_request
        self.last_access: LastAccess | None = None
        self._unsubs: list[Callable[[], None]] = []

    # --- lifecycle -------------------------------------------------------------------------

    async def async_setup(self) -> None:
        """Everything local, in order; raises ``AuditLogLocked`` if another process writes."""
        verification = await self.hass.async_add_executor_job(self.audit.load)
        self._report_audit_verification(verification.ok, verification.problems)
        await self.ctx.state_store.load()
        await self.ctx.outbox.load()
        await self.requests.load()
        self._unsubs.append(
            self.hass.bus.async_listen(EVENT_NOTIFY_ACTION, self.requests.on_notify_action)
        )
        await self.ctx.audit.record("started", {"audit_entries": verification.entries})

    def start(self) -> None:
        """Connect to the hub and start detection (after the platforms are set up)."""
        self.connection.start(
            lambda coro: self.entry.async_create_background_task(
                self.hass, coro, f"{DOMAIN} hub connection"
            )
        )
        self.detection.start()

    async def async_stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self.requests.stop()
        await self.live.stop_all("shutdown")
        await self.detection.async_stop()
        await self.connection.stop()
        await self.hass.async_add_executor_job(self.audit.close)

    def _report_audit_verification(self, ok: bool, problems: list[str]) -> None:
        issue_id = f"{ISSUE_AUDIT_LOCAL}_{self.entry.entry_id}"
        if ok:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        _LOGGER.error("Local audit log failed verification: %s", problems)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_AUDIT_LOCAL,
            translation_placeholders={
                "problems": "; ".join(problems[:5]),
                "path": str(self.audit.path),
            },
            data={"entry_id": self.entry.entry_id},
        )

    async def async_archive_damaged_audit_log(self) -> Path:
        """The resident chose to keep the damaged log aside and start a new chain."""
        archive = await self.hass.async_add_executor_job(
            self.audit.archive_and_restart, "resident confirmed in the repair"
        )
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_AUDIT_LOCAL}_{self.entry.entry_id}")
        self.ctx.publish()
        return archive

    def _home(self) -> tuple[float, float] | None:
        return self.ctx.home() if hasattr(self, "ctx") else None

    # --- hub connection -------------------------------------------------------------------

    async def _on_connected(self, auth_ok: AuthOk) -> None:
        for issue in (ISSUE_UNREACHABLE, ISSUE_REMOVED):
            ir.async_delete_issue(self.hass, DOMAIN, f"{issue}_{self.entry.entry_id}")
        check_key_rotation(self.ctx, auth_ok.jwks)
        await self.sharing.sync_cameras()
        # What the resident decided while the hub was away, in order, before anything new.
        await self.ctx.outbox.replay()
        await self.crosscheck.start()
        self.ctx.publish()

    @callback
    def _on_disconnected(self, reason: str) -> None:
        self.hass.async_create_task(self.live.stop_all("hub_disconnected"))
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
        self.ctx.publish()

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
        self.ctx.publish()

    async def _on_message(self, msg: Message) -> None:
        if isinstance(msg, AccessRequest):
            await self.requests.handle(msg)
        elif isinstance(msg, Grant):
            await self.sharing.grant(msg)
        elif isinstance(msg, SessionOpen):
            await self.live.open(msg)
            if self.live.sessions.get(msg.session_id) is not None:
                self._remember_access(self.live.sessions[msg.session_id])
        elif isinstance(msg, SessionClose):
            await self.live.close_from_hub(msg)
        elif isinstance(msg, SessionViewers):
            self.live.viewers(msg)
        elif isinstance(msg, Revoke):
            await self.sharing.revoke_from_hub(msg)
        elif isinstance(msg, Ack):
            await self.ctx.outbox.ack(msg.msg_id)
        elif isinstance(msg, AuditEntries):
            await self.crosscheck.entries(msg)
        elif isinstance(msg, Error):
            _LOGGER.warning("Hub reported an error: %s %s", msg.code, msg.message[:200])
        else:
            # Messages only the hub should receive (hello, decision, ...): refuse, keep socket.
            _LOGGER.warning("Unexpected message from hub refused: %s", msg.TYPE)
            await self.connection.send(Error(code="unexpected_message", message=msg.TYPE))

    def _remember_access(self, session: LiveSession) -> None:
        c = session.grant.claims
        self.last_access = LastAccess(
            officer=c.officer_name,
            badge=c.badge,
            incident_id=c.incident_id,
            case_number=c.case_number,
            camera=session.camera_id,
            time=time.time(),
            action="snapshot" if session.scope == "snapshot" else "session_started",
        )

    # --- what entities, services, diagnostics and repairs use --------------------------------

    @property
    def signal(self) -> str:
        return self.ctx.signal

    @property
    def cameras(self) -> dict[str, CameraSettings]:
        return self.ctx.cameras.settings

    @property
    def camera_names(self) -> dict[str, str]:
        return self.ctx.cameras.names

    @property
    def pending(self) -> dict[str, PendingRequest]:
        return self.requests.pending

    @property
    def sessions(self) -> dict[str, LiveSession]:
        return self.live.sessions

    @property
    def grants(self) -> dict[str, GrantInfo]:
        return self.sharing.grants

    @property
    def audit_check(self) -> dict[str, Any]:
        return self.crosscheck.result

    @property
    def request_event_listeners(self) -> list[Callable[[str, dict[str, Any]], None]]:
        return self.ctx.request_event_listeners

    def is_paused(self) -> bool:
        return self.ctx.is_paused()

    def sessions_for(self, camera_id: str) -> list[LiveSession]:
        return self.live.for_camera(camera_id)

    async def async_approve(self, request_id: str, cameras: list[str] | None = None) -> list[str]:
        return await self.requests.approve(request_id, cameras)

    async def async_decline(self, request_id: str, reason: str = "declined") -> None:
        await self.requests.decline(request_id, reason)

    async def async_revoke_all(self, reason: str = "resident_revoke_all") -> None:
        await self.sharing.revoke_all(reason)

    async def async_revoke(self, token_id: str | None, incident_id: str | None) -> None:
        await self.sharing.revoke(token_id, incident_id)

    async def async_set_paused(self, until: float | None, reason: str = "paused") -> None:
        await self.sharing.set_paused(until, reason)

    async def async_set_sharing(self, camera_id: str, enabled: bool) -> None:
        await self.sharing.set_camera_shared(camera_id, enabled)

    async def async_request_audit_check(self) -> bool:
        return await self.crosscheck.start()

    async def async_pin_offered_keys(self) -> bool:
        return await pin_offered_keys(self.ctx)

    def paused_until(self) -> float | None:
        until = self.state.paused_until
        return None if until in (None, math.inf) else until
