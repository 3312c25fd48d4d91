"""'Being viewed' per camera: on while a live session sends frames."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .detection_entities import binary_sensors as detection_sensors
from .entity import ConnectShareCameraEntity
from .manager import ConnectShareConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    manager = entry.runtime_data
    async_add_entities(BeingViewedSensor(manager, cam, "being_viewed") for cam in manager.cameras)
    async_add_entities(detection_sensors(manager))


class BeingViewedSensor(ConnectShareCameraEntity, BinarySensorEntity):
    @property
    def is_on(self) -> bool:
        return bool(self.manager.sessions_for(self.camera_id))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"sessions": [s.as_dict() for s in self.manager.sessions_for(self.camera_id)]}
