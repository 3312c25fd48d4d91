"""The local detection event store in the media browser: cameras -> days -> events.

Identifiers: ``<entry_id>/<camera>/<day>/<event_id>/<snapshot|clip>``. Files are served by
``EventMediaView``, which requires a Home Assistant login (the media source signs the URL
it resolves to, as for HA's own local media). Paths never come from the request: the view
looks the event up in the store by camera and event id and serves the file the store has.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util import dt as dt_util

from .const import DOMAIN

if TYPE_CHECKING:
    from .detection.event_store import EventStore, StoredEvent

VIEW_URL = "/api/connect_share/event_media/{entry_id}/{camera_id}/{event_id}/{kind}"
KINDS = {"snapshot": ("image/jpeg", MediaClass.IMAGE), "clip": ("video/mp4", MediaClass.VIDEO)}


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    hass.http.register_view(EventMediaView(hass))
    return DetectionMediaSource(hass)


def _stores(hass: HomeAssistant) -> dict[str, tuple[ConfigEntry, EventStore]]:
    """entry_id -> (entry, store) for loaded entries whose detection service exists."""
    out = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is not ConfigEntryState.LOADED:
            continue
        detection = entry.runtime_data.detection
        if detection is not None and detection.service is not None:
            out[entry.entry_id] = (entry, detection.service.store)
    return out


def _camera_name(hass: HomeAssistant, entry_id: str, camera_id: str) -> str:
    """The name the resident knows: entity name, go2rtc / ONVIF source name, or the id."""
    entry = hass.config_entries.async_get_entry(entry_id)
    try:
        from .camera_sources import camera_name
    except ImportError:  # pragma: no cover - media dependencies missing
        state = hass.states.get(camera_id)
        return state.name if state else camera_id
    return camera_name(hass, entry.options if entry else {}, camera_id)


def _store(hass: HomeAssistant, entry_id: str) -> EventStore:
    found = _stores(hass).get(entry_id)
    if found is None:
        raise Unresolvable("No detection events for this installation")
    return found[1]


def _file(stored: StoredEvent | None, kind: str) -> Path | None:
    if stored is None:
        return None
    return stored.snapshot_path if kind == "snapshot" else stored.clip_path


class DetectionMediaSource(MediaSource):
    name = "Connect Share detections"

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        parts = item.identifier.split("/")
        if len(parts) != 5 or parts[4] not in KINDS:
            raise Unresolvable("Not a detection snapshot or clip")
        entry_id, camera_id, _day, event_id, kind = parts
        store = _store(self.hass, entry_id)
        stored = await self.hass.async_add_executor_job(store.get, camera_id, event_id)
        if _file(stored, kind) is None:
            raise Unresolvable("This event has no such file")
        url = VIEW_URL.format(entry_id=entry_id, camera_id=camera_id, event_id=event_id, kind=kind)
        return PlayMedia(url, KINDS[kind][0])

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        parts = item.identifier.split("/") if item.identifier else []
        try:
            if not parts:
                return await self._root()
            store = _store(self.hass, parts[0])
        except Unresolvable as err:
            raise BrowseError(str(err)) from err
        if len(parts) == 2:
            return await self._camera(store, parts[0], parts[1])
        if len(parts) == 3:
            return await self._day(store, *parts)
        if len(parts) == 4:
            stored = await self.hass.async_add_executor_job(store.get, parts[1], parts[3])
            if stored is None:
                raise BrowseError("Unknown event")
            return self._event(parts[0], parts[2], stored, with_children=True)
        raise BrowseError("Unknown item")

    def _dir(self, identifier: str, title: str, children_class: str) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            title=title,
            can_play=False,
            can_expand=True,
            children_media_class=children_class,
        )

    async def _root(self) -> BrowseMediaSource:
        base = self._dir("", self.name or DOMAIN, MediaClass.DIRECTORY)
        base.children = []
        for entry_id, (_entry, store) in _stores(self.hass).items():
            cameras = await self.hass.async_add_executor_job(store.cameras)
            for camera_id in cameras:
                name = _camera_name(self.hass, entry_id, camera_id)
                base.children.append(
                    self._dir(f"{entry_id}/{camera_id}", name, MediaClass.DIRECTORY)
                )
        return base

    async def _camera(self, store: EventStore, entry_id: str, camera_id: str) -> BrowseMediaSource:
        days = await self.hass.async_add_executor_job(lambda: list(store.iter_days(camera_id)))
        if not days:
            raise BrowseError("No events for this camera")
        name = _camera_name(self.hass, entry_id, camera_id)
        base = self._dir(f"{entry_id}/{camera_id}", name, MediaClass.DIRECTORY)
        base.children = [
            self._dir(f"{entry_id}/{camera_id}/{day}", day, MediaClass.DIRECTORY) for day in days
        ]
        return base

    async def _day(
        self, store: EventStore, entry_id: str, camera_id: str, day: str
    ) -> BrowseMediaSource:
        events = await self.hass.async_add_executor_job(store.events_on_day, camera_id, day)
        base = self._dir(f"{entry_id}/{camera_id}/{day}", day, MediaClass.DIRECTORY)
        base.children = [self._event(entry_id, day, stored) for stored in events]
        return base

    def _event(
        self, entry_id: str, day: str, stored: StoredEvent, *, with_children: bool = False
    ) -> BrowseMediaSource:
        event = stored.event
        when = dt_util.as_local(datetime.fromtimestamp(event.start, dt_util.UTC))
        labels = ", ".join(sorted(event.labels)) or event.best_label
        prefix = f"{entry_id}/{stored.camera_id}/{day}/{stored.event_id}"
        node = self._dir(prefix, f"{when:%H:%M:%S} {labels}", MediaClass.IMAGE)
        if with_children:
            node.children = [
                BrowseMediaSource(
                    domain=DOMAIN,
                    identifier=f"{prefix}/{kind}",
                    media_class=media_class,
                    media_content_type=mime,
                    title=kind.capitalize(),
                    can_play=True,
                    can_expand=False,
                )
                for kind, (mime, media_class) in KINDS.items()
                if _file(stored, kind) is not None
            ]
        return node


class EventMediaView(HomeAssistantView):
    """Serves a stored snapshot or clip; a Home Assistant login (or signed URL) is required."""

    url = VIEW_URL
    name = "api:connect_share:event_media"
    requires_auth = True

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def get(
        self, request: web.Request, entry_id: str, camera_id: str, event_id: str, kind: str
    ) -> web.StreamResponse:
        if kind not in KINDS:
            raise web.HTTPNotFound
        try:
            store = _store(self.hass, entry_id)
        except Unresolvable as err:
            raise web.HTTPNotFound from err
        stored = await self.hass.async_add_executor_job(store.get, camera_id, event_id)
        path = _file(stored, kind)
        if path is None or not await self.hass.async_add_executor_job(path.is_file):
            raise web.HTTPNotFound
        return web.FileResponse(path, headers={"Content-Type": KINDS[kind][0]})
