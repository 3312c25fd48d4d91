"""Sensors: active sessions, last access (who, badge, incident, camera, when), pending requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .detection_entities import sensors as detection_sensors
from .entity import ConnectShareEntity
from .installation import ConnectShareConfigEntry, Installation

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ConnectShareSensorDescription(SensorEntityDescription):
    value_fn: Callable[[Installation], int | datetime | None]
    attrs_fn: Callable[[Installation], dict[str, Any]]


def _last_access_time(inst: Installation) -> datetime | None:
    last = inst.last_access
    return dt_util.utc_from_timestamp(last.time) if last else None


def _last_access_attrs(inst: Installation) -> dict[str, Any]:
    last = inst.last_access
    if last is None:
        return {}
    return {
        "officer": last.officer,
        "badge": last.badge,
        "incident_id": last.incident_id,
        "case_number": last.case_number,
        "camera": last.camera,
        "action": last.action,
    }


SENSORS: tuple[ConnectShareSensorDescription, ...] = (
    ConnectShareSensorDescription(
        key="active_sessions",
        translation_key="active_sessions",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda inst: len(inst.sessions),
        attrs_fn=lambda inst: {"sessions": [s.as_dict() for s in inst.sessions.values()]},
    ),
    ConnectShareSensorDescription(
        key="last_access",
        translation_key="last_access",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_last_access_time,
        attrs_fn=_last_access_attrs,
    ),
    ConnectShareSensorDescription(
        key="pending_requests",
        translation_key="pending_requests",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda inst: len(inst.pending),
        attrs_fn=lambda inst: {"requests": [p.as_dict() for p in inst.pending.values()]},
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    installation = entry.runtime_data
    async_add_entities(
        [
            *(ConnectShareSensor(installation, description) for description in SENSORS),
            *detection_sensors(installation),
        ]
    )


class ConnectShareSensor(ConnectShareEntity, SensorEntity):
    entity_description: ConnectShareSensorDescription

    def __init__(
        self, installation: Installation, description: ConnectShareSensorDescription
    ) -> None:
        super().__init__(installation, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> int | datetime | None:
        return self.entity_description.value_fn(self.manager)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return self.entity_description.attrs_fn(self.manager)
