"""Recorded footage for a request: the events, a masked preview, and sharing it."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_INVALID_FORMAT,
    ERR_NOT_ALLOWED,
    ERR_NOT_FOUND,
    ERR_NOT_SUPPORTED,
)
from homeassistant.core import HomeAssistant

from .common import (
    CommandError,
    command,
    require_camera,
    saved_masks,
    with_request,
)

if TYPE_CHECKING:
    from ..installation import Installation


async def _footage_events(inst: Installation, request_id: str) -> list[Any]:
    from ..detection.footage import FootageError, FootageRequest, matching_events

    req = inst.requests.find(request_id)
    assert req is not None
    try:
        footage = FootageRequest.from_message(req)
    except FootageError as err:
        raise CommandError(
            ERR_INVALID_FORMAT, f"request {request_id} is not a footage request"
        ) from err
    detection = inst.detection
    if not detection.is_ready or detection.service is None:
        raise CommandError(
            ERR_NOT_SUPPORTED,
            f"on-device detection is not running ({detection.reason or 'not enabled'})",
        )
    found: list[Any] = await inst.hass.async_add_executor_job(
        matching_events, detection.service.store, footage
    )
    return found


@command(
    "footage/events",
    {
        probatio.Required("request_id"): str,
    },
    admin=True,
)
async def ws_footage_events(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = with_request(hass, msg, pending=False)
    found = await _footage_events(inst, msg["request_id"])
    return {
        "events": [
            {
                **s.event.to_dict(),
                "camera_name": inst.camera_names.get(s.camera_id, s.camera_id),
                "has_snapshot": s.snapshot is not None,
                "has_clip": s.clip is not None,
            }
            for s in found
        ]
    }


@command(
    "footage/preview",
    {
        probatio.Required("request_id"): str,
        probatio.Required("event_id"): str,
    },
    admin=True,
)
async def ws_footage_preview(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """The event's snapshot with the camera's masks, as it would be shared."""
    from ..media.jpeg import process_frame

    inst = with_request(hass, msg, pending=False)
    found = await _footage_events(inst, msg["request_id"])
    stored = next((s for s in found if s.event_id == msg["event_id"]), None)
    if stored is None or stored.snapshot_path is None:
        raise CommandError(ERR_NOT_FOUND, f"event {msg['event_id']} has no snapshot in the window")
    masks = saved_masks(inst, stored.camera_id)
    path = stored.snapshot_path

    def read() -> bytes:
        data = path.read_bytes()
        return data if stored.snapshot_masked else process_frame(data, masks)

    jpeg = await hass.async_add_executor_job(read)
    return {"content_type": "image/jpeg", "image": base64.b64encode(jpeg).decode()}


@command(
    "footage/share",
    {
        probatio.Required("request_id"): str,
        probatio.Required("camera"): str,
        probatio.Required("event_ids"): probatio.All([str], probatio.Length(min=1)),
        probatio.Optional("kinds", default=["snapshot", "clip"]): probatio.All(
            [probatio.In(["snapshot", "clip"])], probatio.Length(min=1)
        ),
    },
    admin=True,
)
async def ws_footage_share(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    from ..detection.footage import FootageError

    inst = with_request(hass, msg, pending=False)
    require_camera(inst, msg["camera"])
    try:
        records = await inst.detection.async_share(
            msg["request_id"], msg["camera"], msg["event_ids"], tuple(msg["kinds"])
        )
    except FootageError as err:
        raise CommandError(ERR_NOT_ALLOWED, f"not shared: {err}") from err
    return {"evidence": records}
