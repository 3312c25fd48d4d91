"""Switches: sharing per camera, and the global pause."""

from __future__ import annotations

import math
from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import ConnectShareCameraEntity, ConnectShareEntity
from .installation import ConnectShareConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    manager = entry.runtime_data
    entities: list[SwitchEntity] = [PauseSwitch(manager, "pause")]
    entities += [SharingSwitch(manager, cam, "sharing") for cam in manager.cameras]
    async_add_entities(entities)


class PauseSwitch(ConnectShareEntity, SwitchEntity):
    """On: nothing is shared, running sessions end and grants are revoked."""

    @property
    def is_on(self) -> bool:
        return self.manager.is_paused()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        until = self.manager.state.paused_until
        return {"paused_until": None if until in (None, math.inf) else until}

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.manager.async_set_paused(math.inf, reason="switch")

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.manager.async_set_paused(None, reason="switch")


class SharingSwitch(ConnectShareCameraEntity, SwitchEntity):
    """Off: this camera is not shared at all, whatever its mode."""

    @property
    def is_on(self) -> bool:
        cam = self.manager.cameras.get(self.camera_id)
        return (
            cam is not None
            and cam.mode != "off"
            and self.camera_id not in self.manager.state.sharing_disabled
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        cam = self.manager.cameras.get(self.camera_id)
        return {"mode": cam.mode if cam else "off", "camera_entity": self.camera_id}

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.manager.async_set_sharing(self.camera_id, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.manager.async_set_sharing(self.camera_id, False)
