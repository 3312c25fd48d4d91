"""Cross-check of the local audit log against the hub's copy.

The hub's entries arrive in pages (``AuditEntries``); once complete they are compared with
``audit_log.cross_check``. A mismatch is reported (repair issue + audit entry) only if it
survives a second fetch: a session opened while the fetch was in flight can show up on one
side first.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .audit_log import cross_check
from .const import DOMAIN, ISSUE_AUDIT
from .context import InstallationContext
from .protocol.messages import AuditEntries, AuditFetch

_LOGGER = logging.getLogger(__name__)


class AuditCrossCheck:
    def __init__(self, ctx: InstallationContext) -> None:
        self.ctx = ctx
        self.result: dict[str, Any] = {"status": "not_run"}
        self._hub_entries: list[dict[str, Any]] = []
        self._rechecked = False

    async def start(self) -> bool:
        self._hub_entries = []
        return await self.ctx.connection.send(AuditFetch(since_seq=0))

    async def entries(self, msg: AuditEntries) -> None:
        ctx = self.ctx
        self._hub_entries.extend(e for e in msg.entries if isinstance(e, dict))
        if msg.more and self._hub_entries:
            last = self._hub_entries[-1].get("seq")
            if isinstance(last, int):
                await ctx.connection.send(AuditFetch(since_seq=last))
                return
        result = cross_check(ctx.audit.log.entries, self._hub_entries)
        if not result.ok and not self._rechecked:
            self._rechecked = True
            await self.start()
            return
        self._rechecked = False
        issue_id = f"{ISSUE_AUDIT}_{ctx.entry.entry_id}"
        if result.ok:
            ir.async_delete_issue(ctx.hass, DOMAIN, issue_id)
        else:
            _LOGGER.warning("Audit logs disagree with the hub: %s", result.summary())
            ir.async_create_issue(
                ctx.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_AUDIT,
                translation_placeholders={"summary": result.summary()},
            )
            await ctx.audit.record("audit_mismatch", {"summary": result.summary()})
        # Published last: whoever waits for the result also sees the issue and the log entry.
        self.result = {
            "status": "ok" if result.ok else "mismatch",
            "checked": dt_util.utcnow().isoformat(),
            "hub_entries": len(self._hub_entries),
            "local_entries": len(ctx.audit.log.entries),
            "summary": result.summary(),
        }
        ctx.publish()
