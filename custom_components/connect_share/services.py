"""Service actions: approve / decline a request, revoke, pause and resume sharing."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .const import (
    DOMAIN,
    SERVICE_APPROVE,
    SERVICE_DECLINE,
    SERVICE_PAUSE,
    SERVICE_RESUME,
    SERVICE_REVOKE,
    SERVICE_REVOKE_ALL,
    SERVICE_SHARE_FOOTAGE,
)

if TYPE_CHECKING:
    from .installation import Installation

ATTR_ENTRY = "config_entry_id"

_ENTRY = {probatio.Optional(ATTR_ENTRY): cv.string}
APPROVE_SCHEMA = probatio.Schema(
    {
        probatio.Required("request_id"): cv.string,
        probatio.Optional("cameras"): probatio.All(cv.ensure_list, [cv.entity_id]),
        **_ENTRY,
    }
)
DECLINE_SCHEMA = probatio.Schema({probatio.Required("request_id"): cv.string, **_ENTRY})
REVOKE_SCHEMA = probatio.All(
    probatio.Schema(
        {
            probatio.Optional("token_id"): cv.string,
            probatio.Optional("incident_id"): cv.string,
            **_ENTRY,
        }
    ),
    cv.has_at_least_one_key("token_id", "incident_id"),
)
ENTRY_SCHEMA = probatio.Schema(_ENTRY)
PAUSE_SCHEMA = probatio.Schema(
    {probatio.Optional("duration"): cv.positive_time_period_dict, **_ENTRY}
)
SHARE_SCHEMA = probatio.Schema(
    {
        probatio.Required("request_id"): cv.string,
        probatio.Required("camera"): cv.entity_id,
        probatio.Required("event_ids"): probatio.All(
            cv.ensure_list, [cv.string], probatio.Length(min=1)
        ),
        probatio.Optional("kinds", default=["snapshot", "clip"]): probatio.All(
            cv.ensure_list, [probatio.In(["snapshot", "clip"])], probatio.Length(min=1)
        ),
        **_ENTRY,
    }
)


def _installations(hass: HomeAssistant, call: ServiceCall) -> list[Installation]:
    entries = [
        e
        for e in hass.config_entries.async_entries(DOMAIN)
        if e.state is ConfigEntryState.LOADED
        and (ATTR_ENTRY not in call.data or e.entry_id == call.data[ATTR_ENTRY])
    ]
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_loaded_entry")
    return [e.runtime_data for e in entries]


def _with_request(hass: HomeAssistant, call: ServiceCall) -> Installation:
    request_id = call.data["request_id"]
    for installation in _installations(hass, call):
        if request_id in installation.pending:
            return installation
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_request",
        translation_placeholders={"request_id": request_id},
    )


def async_setup_services(hass: HomeAssistant) -> None:
    async def approve(call: ServiceCall) -> dict[str, Any]:
        installation = _with_request(hass, call)
        approved = await installation.async_approve(
            call.data["request_id"], call.data.get("cameras")
        )
        return {"approved_cameras": approved}

    async def decline(call: ServiceCall) -> None:
        await _with_request(hass, call).async_decline(call.data["request_id"])

    async def revoke(call: ServiceCall) -> None:
        for installation in _installations(hass, call):
            await installation.async_revoke(call.data.get("token_id"), call.data.get("incident_id"))

    async def revoke_all(call: ServiceCall) -> None:
        for installation in _installations(hass, call):
            await installation.async_revoke_all(reason="service")

    async def pause(call: ServiceCall) -> None:
        duration: timedelta | None = call.data.get("duration")
        until = math.inf if not duration else time.time() + duration.total_seconds()
        for installation in _installations(hass, call):
            await installation.async_set_paused(until, reason="service")

    async def resume(call: ServiceCall) -> None:
        for installation in _installations(hass, call):
            await installation.async_set_paused(None, reason="service")

    async def share_footage(call: ServiceCall) -> dict[str, Any]:
        from .detection.footage import FootageError

        request_id = call.data["request_id"]
        detection = next(
            (
                m.detection
                for m in _installations(hass, call)
                if m.requests.find(request_id) is not None
            ),
            None,
        )
        if detection is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_footage_request",
                translation_placeholders={"request_id": request_id},
            )
        try:
            records = await detection.async_share(
                request_id, call.data["camera"], call.data["event_ids"], tuple(call.data["kinds"])
            )
        except FootageError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="footage_refused",
                translation_placeholders={"reason": str(err)},
            ) from err
        return {"evidence": records}

    hass.services.async_register(
        DOMAIN,
        SERVICE_APPROVE,
        approve,
        APPROVE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_DECLINE, decline, DECLINE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REVOKE, revoke, REVOKE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REVOKE_ALL, revoke_all, ENTRY_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_PAUSE, pause, PAUSE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_RESUME, resume, ENTRY_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_SHARE_FOOTAGE,
        share_footage,
        SHARE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
