"""Connect Share: resident-controlled camera sharing with a police "Connect" hub.

The resident's Home Assistant is the enforcement point: every request, token and frame goes
through the access gate (``access.py``) and into the local audit log (``audit_log.py``).
``installation.py`` wires the parts; it is built completely before the platforms load.
"""

from __future__ import annotations

import logging

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .audit_log import AuditLogLocked
from .const import CONF_HUB_NAME, DOMAIN, ISSUE_AUDIT_LOCKED
from .installation import (
    ConnectShareConfigEntry,
    Installation,
    PinnedKeysUnreadable,
    StoredKeyUnreadable,
)
from .panel import async_add_panel, async_remove_panel_if_last, async_setup_frontend
from .panel_api import async_register_commands
from .services import async_setup_services

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Services are registered once, independent of entries (quality scale: action-setup)."""
    async_setup_services(hass)
    async_register_commands(hass)
    await async_setup_frontend(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConnectShareConfigEntry) -> bool:
    try:
        installation = Installation(hass, entry)
    except StoredKeyUnreadable as err:
        # The installation's identity is gone: retrying cannot bring it back and the key
        # exists nowhere else. Re-enrollment (the reauth flow) makes a new key and keeps the
        # resident's options, so that is what the resident is offered.
        _LOGGER.error("The stored installation key cannot be read (%s)", err)
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="stored_key_unreadable"
        ) from err
    except PinnedKeysUnreadable as err:
        # The hub's keys pinned at enrollment are the trust anchor for every token. Taking
        # new ones from the hub without a person comparing the fingerprint would let a fake
        # hub in, so reauth (which keeps the pin) cannot help: remove and add again.
        _LOGGER.error("The pinned hub keys cannot be read (%s)", err)
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="pinned_keys_unreadable"
        ) from err
    locked_issue = f"{ISSUE_AUDIT_LOCKED}_{entry.entry_id}"
    try:
        await installation.async_setup()
    except AuditLogLocked as err:
        # Another Home Assistant process writes this installation's audit log (e.g. a second
        # instance on the same config folder): two writers would fork the chain.
        ir.async_create_issue(
            hass,
            DOMAIN,
            locked_issue,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_AUDIT_LOCKED,
            translation_placeholders={"path": str(installation.audit.path), "holder": str(err)},
        )
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="audit_log_locked"
        ) from err
    ir.async_delete_issue(hass, DOMAIN, locked_issue)
    entry.runtime_data = installation
    # The installation's device first: each camera's device points to it (via_device_id).
    installation_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, installation.installation_id)},
        name=f"Connect Share ({entry.data.get(CONF_HUB_NAME, 'hub')})",
        manufacturer="Connect Share",
        model="Installation",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    installation.installation_device_id = installation_device.id
    _remove_stale_camera_devices(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    installation.start()
    await async_add_panel(hass)
    return True


def _remove_stale_camera_devices(hass: HomeAssistant, entry: ConnectShareConfigEntry) -> None:
    """Cameras no longer shared lose their device (and its entities) on setup."""
    manager = entry.runtime_data
    wanted = {(DOMAIN, manager.installation_id)} | {
        (DOMAIN, f"{manager.installation_id}_{cam}") for cam in manager.cameras
    }
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device.identifiers & wanted:
            registry.async_remove_device(device.id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ConnectShareConfigEntry, device: dr.DeviceEntry
) -> bool:
    """A camera's device may be deleted once the camera is no longer shared."""
    manager = entry.runtime_data
    shared = {(DOMAIN, f"{manager.installation_id}_{cam}") for cam in manager.cameras}
    return not device.identifiers & (shared | {(DOMAIN, manager.installation_id)})


async def async_unload_entry(hass: HomeAssistant, entry: ConnectShareConfigEntry) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConnectShareConfigEntry) -> None:
    """The installation is deleted: with the last one, the sidebar panel and card go."""
    async_remove_panel_if_last(hass, entry.entry_id)
