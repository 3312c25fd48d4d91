"""'Revoke all': ends every session and grant, declines every pending request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import ConnectShareEntity
from .installation import ConnectShareConfigEntry, Installation

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ConnectShareButtonDescription(ButtonEntityDescription):
    press_fn: Callable[[Installation], Awaitable[None]]


BUTTONS: tuple[ConnectShareButtonDescription, ...] = (
    ConnectShareButtonDescription(
        key="revoke_all",
        translation_key="revoke_all",
        press_fn=lambda inst: inst.async_revoke_all(reason="button"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities(ConnectShareButton(entry.runtime_data, d) for d in BUTTONS)


class ConnectShareButton(ConnectShareEntity, ButtonEntity):
    entity_description: ConnectShareButtonDescription

    def __init__(
        self, installation: Installation, description: ConnectShareButtonDescription
    ) -> None:
        super().__init__(installation, description.key)
        self.entity_description = description

    async def async_press(self) -> None:
        await self.entity_description.press_fn(self.manager)
