"""Base entities: one device for the installation, one per shared camera."""

from __future__ import annotations

from typing import cast

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity

from .const import CONF_HUB_NAME, DOMAIN
from .installation import Installation


class ConnectShareEntity(Entity):
    """Installation-level entity; refreshed whenever the manager's state changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, manager: Installation, key: str) -> None:
        self.manager = manager
        self._attr_translation_key = key
        self._attr_unique_id = f"{manager.installation_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, manager.installation_id)},
            name=f"Connect Share ({manager.entry.data.get(CONF_HUB_NAME, 'hub')})",
            manufacturer="Connect Share",
            model="Installation",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self.manager.signal, self._handle_update)
        )

    @callback
    def _handle_update(self) -> None:
        self.async_write_ha_state()


class ConnectShareCameraEntity(ConnectShareEntity):
    """Entity of one shared camera, on that camera's own device."""

    def __init__(self, manager: Installation, camera_id: str, key: str) -> None:
        super().__init__(manager, key)
        self.camera_id = camera_id
        self._attr_unique_id = f"{manager.installation_id}_{camera_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{manager.installation_id}_{camera_id}")},
            name=manager.camera_names.get(camera_id, camera_id),
            manufacturer="Connect Share",
            model="Shared camera",
            # Set by async_setup_entry before the platforms (and so these entities) are set up.
            via_device_id=cast(str, manager.installation_device_id),
        )
