"""Switches: the global pause, and sharing per camera."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import ConnectShareCameraEntity, ConnectShareEntity
from .installation import ConnectShareConfigEntry, Installation

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class InstallationSwitchDescription(SwitchEntityDescription):
    is_on_fn: Callable[[Installation], bool]
    attrs_fn: Callable[[Installation], dict[str, Any]]
    set_fn: Callable[[Installation, bool], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class CameraSwitchDescription(SwitchEntityDescription):
    is_on_fn: Callable[[Installation, str], bool]
    attrs_fn: Callable[[Installation, str], dict[str, Any]]
    set_fn: Callable[[Installation, str, bool], Awaitable[None]]


def _paused_until(inst: Installation) -> dict[str, Any]:
    until = inst.state.paused_until
    return {"paused_until": None if until in (None, math.inf) else until}


def _is_shared(inst: Installation, camera_id: str) -> bool:
    cam = inst.cameras.get(camera_id)
    return cam is not None and cam.mode != "off" and camera_id not in inst.state.sharing_disabled


def _sharing_attrs(inst: Installation, camera_id: str) -> dict[str, Any]:
    cam = inst.cameras.get(camera_id)
    return {"mode": cam.mode if cam else "off", "camera_entity": camera_id}


# On: nothing is shared, running sessions end and grants are revoked (until turned off).
PAUSE = InstallationSwitchDescription(
    key="pause",
    translation_key="pause",
    is_on_fn=lambda inst: inst.is_paused(),
    attrs_fn=_paused_until,
    set_fn=lambda inst, on: inst.async_set_paused(math.inf if on else None, reason="switch"),
)
# Off: this camera is not shared at all, whatever its mode.
SHARING = CameraSwitchDescription(
    key="sharing",
    translation_key="sharing",
    is_on_fn=_is_shared,
    attrs_fn=_sharing_attrs,
    set_fn=lambda inst, cam, on: inst.async_set_sharing(cam, on),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    installation = entry.runtime_data
    async_add_entities(
        [
            InstallationSwitch(installation, PAUSE),
            *(CameraSwitch(installation, cam, SHARING) for cam in installation.cameras),
        ]
    )


class InstallationSwitch(ConnectShareEntity, SwitchEntity):
    entity_description: InstallationSwitchDescription

    def __init__(
        self, installation: Installation, description: InstallationSwitchDescription
    ) -> None:
        super().__init__(installation, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool:
        return self.entity_description.is_on_fn(self.manager)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return self.entity_description.attrs_fn(self.manager)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.entity_description.set_fn(self.manager, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.entity_description.set_fn(self.manager, False)


class CameraSwitch(ConnectShareCameraEntity, SwitchEntity):
    entity_description: CameraSwitchDescription

    def __init__(
        self, installation: Installation, camera_id: str, description: CameraSwitchDescription
    ) -> None:
        super().__init__(installation, camera_id, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool:
        return self.entity_description.is_on_fn(self.manager, self.camera_id)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return self.entity_description.attrs_fn(self.manager, self.camera_id)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.entity_description.set_fn(self.manager, self.camera_id, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.entity_description.set_fn(self.manager, self.camera_id, False)
