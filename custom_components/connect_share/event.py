"""Event entity for police requests: received, auto-approved, approved, declined, ..."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import ConnectShareEntity
from .installation import ConnectShareConfigEntry

PARALLEL_UPDATES = 0
# What happened to a police request; automations trigger on the event type.
REQUESTS = EventEntityDescription(
    key="requests",
    translation_key="requests",
    event_types=["received", "auto_approved", "approved", "declined", "refused", "expired"],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConnectShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([RequestEvent(entry.runtime_data, REQUESTS.key)])


class RequestEvent(ConnectShareEntity, EventEntity):
    entity_description = REQUESTS

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.manager.request_event_listeners.append(self._on_event)
        self.async_on_remove(lambda: self.manager.request_event_listeners.remove(self._on_event))

    @callback
    def _on_event(self, event_type: str, data: dict[str, Any]) -> None:
        self._trigger_event(event_type, data)
        self.async_write_ha_state()
