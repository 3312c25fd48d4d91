"""The panel's Cameras section: settings (the options flow's own schema), sharing, images."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import probatio
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_HOME_ASSISTANT_ERROR,
    ERR_INVALID_FORMAT,
    ERR_NOT_FOUND,
)
from homeassistant.core import HomeAssistant

from ..const import OPT_CAMERAS

if TYPE_CHECKING:
    pass

from .common import CommandError, command, installation, require_camera, saved_masks

# Camera settings the panel may change: exactly the options flow's camera form.
CAMERA_FIELDS = (
    "mode",
    "lat",
    "lon",
    "heading",
    "schedule",
    "auto_incident_types",
    "auto_max_distance_m",
    "max_session_s",
    "max_fps",
    "masks",
    "detection",
    "detection_fps",
)


@command("cameras")
async def ws_cameras(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    from ..const import INCIDENT_TYPES, MODES

    inst = installation(hass, msg)
    cameras = []
    for cid, opts in inst.ctx.cameras.options.items():
        settings = {k: opts[k] for k in CAMERA_FIELDS if k in opts}
        masks_text = str(opts.get("masks") or "")
        settings["masks"] = json.loads(masks_text) if masks_text.strip() else []
        cameras.append(
            {
                "camera": cid,
                "name": inst.camera_names.get(cid, cid),
                "shared": cid not in inst.state.sharing_disabled,
                "settings": settings,
            }
        )
    return {
        "entry_id": inst.entry.entry_id,
        "cameras": cameras,
        "modes": list(MODES),
        "incident_types": list(INCIDENT_TYPES),
    }


@command(
    "camera/save",
    {
        probatio.Required("camera"): str,
        probatio.Required("settings"): dict,
    },
    admin=True,
)
async def ws_camera_save(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Validate with the options flow's camera form, store in the entry options, reload."""
    from ..config_flow import _clean_camera, camera_schema

    inst = installation(hass, msg)
    camera_id = msg["camera"]
    require_camera(inst, camera_id)
    changes: dict[str, Any] = dict(msg["settings"])
    if unknown := sorted(set(changes) - set(CAMERA_FIELDS)):
        raise CommandError(ERR_INVALID_FORMAT, f"unknown setting: {', '.join(unknown)}")
    if isinstance(changes.get("masks"), list):
        masks = changes["masks"]
        changes["masks"] = json.dumps(masks, separators=(",", ":")) if masks else ""
    stored = dict(inst.ctx.cameras.options.get(camera_id, {}))
    form = {k: stored[k] for k in CAMERA_FIELDS if k in stored} | changes
    for key in ("lat", "lon", "heading"):  # emptied in the panel = not set
        if form.get(key) in ("", None):
            form.pop(key, None)
    try:
        cleaned = _clean_camera(camera_schema()(form))
    except probatio.Invalid as err:
        where = ".".join(str(p) for p in err.path) or "settings"
        raise CommandError(ERR_INVALID_FORMAT, f"{where}: {err.msg}") from err
    new_camera = {k: v for k, v in stored.items() if k not in CAMERA_FIELDS} | cleaned
    options = dict(inst.entry.options)
    options[OPT_CAMERAS] = {**dict(options.get(OPT_CAMERAS) or {}), camera_id: new_camera}
    changed = sorted(k for k in CAMERA_FIELDS if stored.get(k) != new_camera.get(k))
    user = connection.user
    await inst.ctx.audit.record(
        "camera_settings",
        {"camera": camera_id, "changed": changed, "by": user.name if user else None},
    )
    entry = inst.entry
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.config_entries.async_reload(entry.entry_id)
    return {"camera": camera_id, "changed": changed}


@command(
    "camera/sharing",
    {
        probatio.Required("camera"): str,
        probatio.Required("enabled"): bool,
    },
    admin=True,
)
async def ws_camera_sharing(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    inst = installation(hass, msg)
    require_camera(inst, msg["camera"])
    await inst.async_set_sharing(msg["camera"], msg["enabled"])
    return {"camera": msg["camera"], "shared": msg["enabled"]}


@command(
    "camera/snapshot",
    {
        probatio.Required("camera"): str,
        # Draft masks (the editor's polygons); without them the saved masks are applied.
        probatio.Optional("masks"): probatio.Any(str, list),
        # The unmasked picture to draw on (admins only, like the camera entity itself).
        probatio.Optional("raw", default=False): bool,
    },
    admin=True,
)
async def ws_camera_snapshot(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> dict[str, Any]:
    """Exactly what an officer's snapshot would be: the camera's source, then the masks
    pipeline (``media.snapshot.take_snapshot``)."""
    from ..camera_sources import build_source
    from ..media.snapshot import NotAllowed, take_snapshot
    from ..media.sources import SourceError
    from ..protocol.masks import MaskError, parse_masks, validate_masks

    inst = installation(hass, msg)
    camera_id = msg["camera"]
    require_camera(inst, camera_id)
    try:
        if msg["raw"]:
            masks: Any = ()
        elif "masks" in msg:
            draft = msg["masks"]
            masks = parse_masks(draft) if isinstance(draft, str) else validate_masks(draft)
        else:
            masks = saved_masks(inst, camera_id)
    except MaskError as err:
        raise CommandError(ERR_INVALID_FORMAT, f"masks: {err}") from err
    try:
        source = build_source(hass, inst.entry.options, camera_id, timeout=10)
    except SourceError as err:
        raise CommandError(ERR_NOT_FOUND, f"camera unavailable: {err}") from err
    try:
        jpeg = await take_snapshot(source, masks, allowed=lambda: True)
    except (SourceError, NotAllowed) as err:
        raise CommandError(ERR_HOME_ASSISTANT_ERROR, f"no picture: {err}") from err
    finally:
        await source.close()
    return {
        "content_type": "image/jpeg",
        "image": base64.b64encode(jpeg).decode(),
        "masked": bool(masks),
        "taken": datetime.now().astimezone().isoformat(),
    }
