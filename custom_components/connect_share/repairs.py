"""Repair fix flows: pin the hub's rotated signing key; archive a damaged local audit log.

Both are one confirmation step over the loaded installation; ``_ConfirmFlow`` holds that
step and each flow says only what confirming does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, ISSUE_AUDIT_LOCAL

if TYPE_CHECKING:
    from .installation import Installation


class _ConfirmFlow(RepairsFlow):
    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id

    async def _confirmed(self, installation: Installation) -> bool:
        """Do what the resident confirmed; False aborts with ``nothing_to_pin``."""
        raise NotImplementedError

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        if user_input is not None:
            if await self._confirmed(entry.runtime_data):
                return self.async_create_entry(data={})
            return self.async_abort(reason="nothing_to_pin")
        found = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        placeholders = dict(found.translation_placeholders or {}) if found else None
        return self.async_show_form(
            step_id="confirm",
            data_schema=probatio.Schema({}),
            description_placeholders=placeholders,
        )


class PinKeysFlow(_ConfirmFlow):
    """The resident compared the new fingerprints: pin the hub's current key set."""

    async def _confirmed(self, installation: Installation) -> bool:
        return await installation.async_pin_offered_keys()


class ArchiveDamagedAuditLogFlow(_ConfirmFlow):
    """Keeps the damaged log (moved aside, never deleted) and starts a new chain whose first
    entry names the archive, its sha256 and the last hash found in it."""

    async def _confirmed(self, installation: Installation) -> bool:
        await installation.async_archive_damaged_audit_log()
        return True


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    entry_id = str((data or {}).get("entry_id", ""))
    if issue_id.startswith(f"{ISSUE_AUDIT_LOCAL}_"):
        return ArchiveDamagedAuditLogFlow(entry_id)
    return PinKeysFlow(entry_id)
