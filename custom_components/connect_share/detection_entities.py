"""Entities of on-device detection, per camera with detection on (on the camera's device).

- binary sensors ``person`` and ``vehicle``: seen within the last quiet period;
- sensor ``last_event``: the best label of the latest event, its details as attributes.
They are unavailable while detection is not running (no runtime, model problem).
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorEntity
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .detection_manager import GROUPS, DetectionManager
from .entity import ConnectShareCameraEntity
from .installation import Installation

# Attributes never shown: raw boxes per label are noise for automations; the snapshot
# bytes are not in ``to_dict`` at all.
_HIDDEN = frozenset({"labels"})


class DetectionEntity(ConnectShareCameraEntity):
    def __init__(self, manager: Installation, camera_id: str, key: str) -> None:
        super().__init__(manager, camera_id, key)
        assert manager.detection is not None
        self.detection: DetectionManager = manager.detection

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.detection.signal(self.camera_id), self._handle_update
            )
        )

    @property
    def available(self) -> bool:
        return self.detection.camera_running(self.camera_id)


class DetectionBinarySensor(DetectionEntity, BinarySensorEntity):
    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY

    def __init__(self, manager: Installation, camera_id: str, group: str) -> None:
        super().__init__(manager, camera_id, group)
        self.label_group = group

    @property
    def is_on(self) -> bool:
        return self.detection.active(self.camera_id, self.label_group)


class LastEventSensor(DetectionEntity, SensorEntity):
    @property
    def native_value(self) -> str | None:
        event = self.detection.last_event.get(self.camera_id)
        return event.best_label if event else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        event = self.detection.last_event.get(self.camera_id)
        if event is None:
            return {}
        data = {k: v for k, v in event.to_dict().items() if k not in _HIDDEN}
        data["labels"] = sorted(event.labels)
        data["ongoing"] = event.ongoing
        return data

    @property
    def available(self) -> bool:
        # Past events stay readable even when detection stopped.
        return super().available or self.camera_id in self.detection.last_event


def binary_sensors(manager: Installation) -> list[DetectionBinarySensor]:
    return [
        DetectionBinarySensor(manager, cam, group)
        for cam in manager.detection.camera_fps
        if cam in manager.cameras
        for group in GROUPS
    ]


def sensors(manager: Installation) -> list[LastEventSensor]:
    return [
        LastEventSensor(manager, cam, "last_event")
        for cam in manager.detection.camera_fps
        if cam in manager.cameras
    ]
