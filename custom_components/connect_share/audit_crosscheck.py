"""Cross-check of the local audit log against the hub's copy.

The hub's entries arrive in pages (``AuditEntries``); once complete they are compared with
``audit_log.cross_check``. A mismatch is reported (repair issue + audit entry) only if it
survives a second fetch. The state (``manager.audit_check``, ``manager._hub_audit``,
``manager._audit_rechecked``) stays on the manager; these functions act on it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .audit_log import cross_check
from .const import DOMAIN, ISSUE_AUDIT
from .protocol.messages import AuditEntries, AuditFetch

if TYPE_CHECKING:
    from .manager import ConnectShareManager

# Kept under the manager's logger name so existing log filters still apply.
_LOGGER = logging.getLogger(f"{__package__}.manager")


async def handle_audit_entries(manager: ConnectShareManager, msg: AuditEntries) -> None:
    manager._hub_audit.extend(e for e in msg.entries if isinstance(e, dict))
    if msg.more and manager._hub_audit:
        last = manager._hub_audit[-1].get("seq")
        if isinstance(last, int):
            await manager.connection.send(AuditFetch(since_seq=last))
            return
    result = cross_check(manager.audit.entries, manager._hub_audit)
    if not result.ok and not manager._audit_rechecked:
        # A session opened while the fetch was in flight can show up on one side first:
        # only a mismatch that survives a second fetch is reported.
        manager._audit_rechecked = True
        manager._hub_audit = []
        await manager.connection.send(AuditFetch(since_seq=0))
        return
    manager._audit_rechecked = False
    issue_id = f"{ISSUE_AUDIT}_{manager.entry.entry_id}"
    if result.ok:
        ir.async_delete_issue(manager.hass, DOMAIN, issue_id)
    else:
        _LOGGER.warning("Audit logs disagree with the hub: %s", result.summary())
        ir.async_create_issue(
            manager.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_AUDIT,
            translation_placeholders={"summary": result.summary()},
        )
        await manager._audit("audit_mismatch", {"summary": result.summary()})
    # Published last: whoever waits for the result also sees the issue and the log entry.
    manager.audit_check = {
        "status": "ok" if result.ok else "mismatch",
        "checked": dt_util.utcnow().isoformat(),
        "hub_entries": len(manager._hub_audit),
        "local_entries": len(manager.audit.entries),
        "summary": result.summary(),
    }
    manager._updated()


async def request_audit_check(manager: ConnectShareManager) -> bool:
    manager._hub_audit = []
    return await manager.connection.send(AuditFetch(since_seq=0))
