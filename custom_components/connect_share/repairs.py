"""Repair fix flows: pin the hub's rotated signing key; archive a damaged local audit log."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, ISSUE_AUDIT_LOCAL


class PinKeysFlow(RepairsFlow):
    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        if user_input is not None:
            if await entry.runtime_data.async_pin_offered_keys():
                return self.async_create_entry(data={})
            return self.async_abort(reason="nothing_to_pin")
        found = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        placeholders = dict(found.translation_placeholders or {}) if found else None
        return self.async_show_form(
            step_id="confirm", data_schema=vol.Schema({}), description_placeholders=placeholders
        )


class ArchiveDamagedAuditLogFlow(RepairsFlow):
    """Keeps the damaged log (moved aside, never deleted) and starts a new chain whose first
    entry names the archive, its sha256 and the last hash found in it."""

    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        if user_input is not None:
            await entry.runtime_data.async_archive_damaged_audit_log()
            return self.async_create_entry(data={})
        found = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        placeholders = dict(found.translation_placeholders or {}) if found else None
        return self.async_show_form(
            step_id="confirm", data_schema=vol.Schema({}), description_placeholders=placeholders
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    entry_id = str((data or {}).get("entry_id", ""))
    if issue_id.startswith(f"{ISSUE_AUDIT_LOCAL}_"):
        return ArchiveDamagedAuditLogFlow(entry_id)
    return PinKeysFlow(entry_id)
