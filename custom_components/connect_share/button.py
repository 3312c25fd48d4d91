"""'Revoke all': ends every session and grant, declines every pending request."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import ConnectShareEntity
from .installation import ConnectShareConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([RevokeAllButton(entry.runtime_data, "revoke_all")])


class RevokeAllButton(ConnectShareEntity, ButtonEntity):
    async def async_press(self) -> None:
        await self.manager.async_revoke_all(reason="button")
