"""Sensors: active sessions, last access (who, badge, incident, camera, when), pending requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .detection_entities import sensors as detection_sensors
from .entity import ConnectShareEntity
from .manager import ConnectShareConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    manager = entry.runtime_data
    async_add_entities(
        [
            ActiveSessionsSensor(manager, "active_sessions"),
            LastAccessSensor(manager, "last_access"),
            PendingRequestsSensor(manager, "pending_requests"),
            *detection_sensors(manager),
        ]
    )


class ActiveSessionsSensor(ConnectShareEntity, SensorEntity):
    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> int:
        return len(self.manager.sessions)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"sessions": [s.as_dict() for s in self.manager.sessions.values()]}


class LastAccessSensor(ConnectShareEntity, SensorEntity):
    _attr_device_class = SensorDeviceClass.TIMESTAMP

    @property
    def native_value(self) -> datetime | None:
        last = self.manager.last_access
        return dt_util.utc_from_timestamp(last.time) if last else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        last = self.manager.last_access
        if last is None:
            return {}
        return {
            "officer": last.officer,
            "badge": last.badge,
            "incident_id": last.incident_id,
            "case_number": last.case_number,
            "camera": last.camera,
        }


class PendingRequestsSensor(ConnectShareEntity, SensorEntity):
    _attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def native_value(self) -> int:
        return len(self.manager.pending)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"requests": [p.as_dict() for p in self.manager.pending.values()]}
