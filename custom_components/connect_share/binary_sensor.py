"""Binary sensors: 'being viewed' per camera (an officer's player receives frames now) and the
hub connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .detection_entities import binary_sensors as detection_sensors
from .entity import ConnectShareCameraEntity, ConnectShareEntity
from .installation import ConnectShareConfigEntry, Installation

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CameraBinarySensorDescription(BinarySensorEntityDescription):
    value_fn: Callable[[Installation, str], bool]
    attrs_fn: Callable[[Installation, str], dict[str, Any]]
    # Reports something only the hub connection can tell: unavailable while it is down.
    needs_hub: bool = False


CAMERA_SENSORS: tuple[CameraBinarySensorDescription, ...] = (
    CameraBinarySensorDescription(
        key="being_viewed",
        translation_key="being_viewed",
        value_fn=lambda inst, cam: inst.live.being_viewed(cam),
        attrs_fn=lambda inst, cam: {"sessions": [s.as_dict() for s in inst.sessions_for(cam)]},
        needs_hub=True,
    ),
)

HUB_CONNECTED = BinarySensorEntityDescription(
    key="hub_connected",
    translation_key="hub_connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    installation = entry.runtime_data
    async_add_entities(
        [
            HubConnectedSensor(installation, HUB_CONNECTED.key),
            *(
                CameraBinarySensor(installation, cam, description)
                for cam in installation.cameras
                for description in CAMERA_SENSORS
            ),
            *detection_sensors(installation),
        ]
    )


class HubConnectedSensor(ConnectShareEntity, BinarySensorEntity):
    entity_description = HUB_CONNECTED

    @property
    def is_on(self) -> bool:
        return self.manager.connection.is_connected


class CameraBinarySensor(ConnectShareCameraEntity, BinarySensorEntity):
    entity_description: CameraBinarySensorDescription

    def __init__(
        self, installation: Installation, camera_id: str, description: CameraBinarySensorDescription
    ) -> None:
        super().__init__(installation, camera_id, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        return not self.entity_description.needs_hub or self.manager.connection.is_connected

    @property
    def is_on(self) -> bool:
        return self.entity_description.value_fn(self.manager, self.camera_id)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return self.entity_description.attrs_fn(self.manager, self.camera_id)
