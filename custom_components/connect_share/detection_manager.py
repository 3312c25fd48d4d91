"""On-device detection for one config entry: the HA side of ``detection/``.

Holds the entry's ``DetectionService``, one frame loop per camera with detection on (the
HA camera entity is the source, the camera's privacy masks apply before detection), the
entities' state (last event per camera), the ``connect_share_detection`` bus event, the
footage requests the hub sent (scope ``clip``) and, if the resident allows it, the hourly
event summary. Nothing here may stop the rest of the integration: when detection cannot
run, a repair issue says why and everything else keeps working.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later, async_track_time_interval

from .const import (
    CONF_URL,
    DOMAIN,
    EVENT_DETECTION,
    ISSUE_DETECTION,
    OPT_CAMERAS,
    OPT_DETECTION,
)

if TYPE_CHECKING:
    from .context import InstallationContext
    from .detection.events import DetectionEvent, EventChange
    from .detection.pipeline import ClipRecorder
    from .detection.runtime import RuntimeStatus
    from .detection.service import DetectionService
    from .media.sources import CameraSource
    from .protocol.messages import AccessRequest
    from .requests import RequestBook

_LOGGER = logging.getLogger(__name__)

DEFAULT_FPS = 1.0
DEFAULT_RETENTION_DAYS = 14
SUMMARY_INTERVAL = timedelta(hours=1)
PRUNE_INTERVAL = timedelta(hours=6)
SUMMARY_SPAN_S = 86400.0
GROUPS = ("person", "vehicle")
FETCH_TIMEOUT_S = 10
CLIP_S = 10


@dataclass(frozen=True, slots=True)
class DetectionOptions:
    """The entry-level detection options (``options["detection"]``)."""

    model_url: str = ""
    model_sha256: str = ""
    model_path: str = ""
    labels_url: str = ""
    labels_sha256: str = ""
    labels_path: str = ""
    retention_days: float = DEFAULT_RETENTION_DAYS
    share_summaries: bool = False

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DetectionOptions:
        raw = options.get(OPT_DETECTION) or {}

        def text(key: str) -> str:
            return str(raw.get(key) or "").strip()

        try:
            retention = float(raw.get("retention_days") or DEFAULT_RETENTION_DAYS)
        except (TypeError, ValueError):
            retention = DEFAULT_RETENTION_DAYS
        return cls(
            model_url=text("model_url"),
            model_sha256=text("model_sha256").lower(),
            model_path=text("model_path"),
            labels_url=text("labels_url"),
            labels_sha256=text("labels_sha256").lower(),
            labels_path=text("labels_path"),
            retention_days=retention if retention > 0 else DEFAULT_RETENTION_DAYS,
            share_summaries=bool(raw.get("share_summaries", False)),
        )

    def missing(self) -> str | None:
        """Why the model cannot be used as configured, or None."""
        if not (self.model_url or self.model_path) or not self.model_sha256:
            return "no detection model is configured (model URL or path, and its sha256)"
        if not (self.labels_url or self.labels_path) or not self.labels_sha256:
            return "no labels file is configured (labels URL or path, and its sha256)"
        return None


def detection_cameras(options: dict[str, Any]) -> dict[str, float]:
    """Cameras with detection on -> frames per second (default off)."""
    out: dict[str, float] = {}
    for camera_id, opts in (options.get(OPT_CAMERAS) or {}).items():
        if not opts.get("detection"):
            continue
        try:
            fps = float(opts.get("detection_fps") or DEFAULT_FPS)
        except (TypeError, ValueError):
            fps = DEFAULT_FPS
        out[camera_id] = min(max(fps, 0.05), 10.0)
    return out


def _load_detection_modules() -> RuntimeStatus:
    """Import what detection needs (numpy, Pillow, the runtime probe); import executor only."""
    from .detection import clips, events, footage, model_store, service  # noqa: F401
    from .detection.runtime import runtime_status
    from .media import jpeg, masks, sources  # noqa: F401

    return runtime_status()


class DetectionManager:
    def __init__(self, ctx: InstallationContext, requests: RequestBook) -> None:
        self.hass = ctx.hass
        self.entry = entry = ctx.entry
        self.ctx = ctx
        # Footage requests are remembered (and persisted) by the request book.
        self.requests = requests
        self.options = DetectionOptions.from_options(dict(entry.options))
        self.camera_fps = detection_cameras(dict(entry.options))
        self.service: DetectionService | None = None
        self.reason = ""
        self.last_event: dict[str, DetectionEvent] = {}
        self.ready = asyncio.Event()
        # Which TFLite runtime imports here; probed in the import executor when detection starts.
        self.runtime: RuntimeStatus | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._unsubs: list[Callable[[], None]] = []
        self._recheck: dict[str, Callable[[], None]] = {}
        self._sources: list[CameraSource] = []
        self._issue_id = f"{ISSUE_DETECTION}_{entry.entry_id}"

    @property
    def enabled(self) -> bool:
        return bool(self.camera_fps)

    @property
    def is_ready(self) -> bool:
        return self.service is not None and self.service.detector is not None

    def signal(self, camera_id: str) -> str:
        return f"{DOMAIN}_{self.entry.entry_id}_detection_{camera_id}"

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start in the background: a model download must not hold up the entry's setup."""
        if not self.enabled:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
            self.ready.set()
            return
        self._tasks.append(
            self.entry.async_create_background_task(
                self.hass, self._async_start(), f"{DOMAIN} detection start"
            )
        )
        # Entries are not unloaded at shutdown: end running events and the worker thread.
        self._unsubs.append(self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._on_ha_stop))

    async def _on_ha_stop(self, _event: Event) -> None:
        await self.async_stop()

    async def _async_start(self) -> None:
        try:
            await self._start_service()
        finally:
            self.ready.set()

    async def _start_service(self) -> None:
        if (problem := self.options.missing()) is not None:
            self._fail(problem)
            return
        try:
            # numpy, Pillow, the detection package and the TFLite runtime probe load in HA's
            # import executor, never in the event loop; the imports below then only look up
            # modules already loaded.
            self.runtime = await self.hass.async_add_import_executor_job(_load_detection_modules)
            from .detection.model_store import ModelSource
            from .detection.service import DetectionConfig, DetectionService, Status
        except ImportError as err:  # numpy / Pillow missing: the feature says why
            self._fail(f"detection could not be loaded: {err}")
            return
        opts = self.options
        root = Path(self.hass.config.path(DOMAIN))
        config = DetectionConfig(
            model=ModelSource(
                opts.model_sha256, url=opts.model_url or None, local_path=opts.model_path or None
            ),
            labels=ModelSource(
                opts.labels_sha256,
                url=opts.labels_url or None,
                local_path=opts.labels_path or None,
            ),
            model_dir=root,
            events_dir=root / "events",
            retention_days=opts.retention_days,
            thresholds={"person": 0.6},
        )
        service = DetectionService(
            config,
            async_get_clientsession(self.hass),
            run_blocking=self.hass.async_add_executor_job,
        )
        self.service = service
        status = await service.start()
        if status is not Status.READY:
            self._fail(service.reason or status.value)
            return
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
        for camera_id, fps in self.camera_fps.items():
            await self._start_camera(service, camera_id, fps)
        self._unsubs.append(
            async_track_time_interval(
                self.hass, self._prune, PRUNE_INTERVAL, cancel_on_shutdown=True
            )
        )
        if opts.share_summaries:
            self._unsubs.append(
                async_track_time_interval(
                    self.hass, self._summary_tick, SUMMARY_INTERVAL, cancel_on_shutdown=True
                )
            )

    def _fail(self, reason: str) -> None:
        self.reason = reason
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_DETECTION,
            translation_placeholders={"reason": reason},
        )
        for camera_id in self.camera_fps:
            async_dispatcher_send(self.hass, self.signal(camera_id))

    async def _start_camera(self, service: DetectionService, camera_id: str, fps: float) -> None:
        from .camera_sources import build_source
        from .media.jpeg import process_frame
        from .media.masks import MaskError, parse_masks
        from .media.sources import SourceError

        text = str(
            (self.entry.options.get(OPT_CAMERAS) or {}).get(camera_id, {}).get("masks") or ""
        )
        try:
            masks = parse_masks(text)
        except MaskError as err:
            # Deny by default: a camera whose masks cannot be read is not watched at all.
            _LOGGER.warning("%s: masks unreadable, detection stays off: %s", camera_id, err)
            return
        try:
            # The same sources live view uses: the HA camera entity, a go2rtc stream, ONVIF.
            source = build_source(self.hass, self.entry.options, camera_id, timeout=FETCH_TIMEOUT_S)
        except SourceError as err:
            _LOGGER.warning("%s: no frame source, detection stays off: %s", camera_id, err)
            return
        self._sources.append(source)
        cam = service.camera(
            camera_id,
            on_change=partial(self._on_change, camera_id),
            mask=partial(process_frame, masks=masks) if masks else None,
            mask_polygons=list(masks) or None,
            # Clips cannot be masked: only cameras without masks record them.
            record_clip=None if masks else self._clip_recorder(camera_id),
        )
        if cam is None:
            return
        latest = await self.hass.async_add_executor_job(service.store.latest, camera_id)
        if latest is not None:
            self.last_event[camera_id] = latest.event
        self._tasks.append(
            self.entry.async_create_background_task(
                self.hass, cam.run(source.snapshot, 1 / fps), f"{DOMAIN} detection {camera_id}"
            )
        )
        async_dispatcher_send(self.hass, self.signal(camera_id))

    def _clip_recorder(self, camera_id: str) -> ClipRecorder | None:
        """Clips from go2rtc (``stream.mp4``) for a camera that is a go2rtc stream."""
        from .camera_sources import go2rtc_settings, source_spec
        from .detection.clips import record_clip

        server = go2rtc_settings(self.entry.options)
        spec = source_spec(self.entry.options, camera_id) or {}
        stream = spec.get("stream") if spec.get("type") == "go2rtc" else spec.get("go2rtc_stream")
        if server is None or not stream or server.get("username"):
            return None  # no go2rtc, an entity camera, or go2rtc behind a login
        session = async_get_clientsession(self.hass)

        async def record(_event: DetectionEvent, dest: Path) -> Path:
            return await record_clip(session, str(server["url"]), str(stream), CLIP_S, dest)

        return record

    async def async_stop(self) -> None:
        for unsub in [*self._unsubs, *self._recheck.values()]:
            unsub()
        self._unsubs.clear()
        self._recheck.clear()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.service is not None:
            await self.service.stop()  # ends running events, shuts the detector's thread
        for source in self._sources:
            await source.close()
        self._sources.clear()
        for cancel in self._recheck.values():  # set by the END events just published
            cancel()
        self._recheck.clear()

    # --- events and entities -----------------------------------------------------------

    @callback
    def _on_change(self, camera_id: str, change: EventChange) -> None:
        from .detection.events import Change

        event = change.event
        self.last_event[camera_id] = event
        if change.kind in (Change.START, Change.END):
            self.hass.bus.async_fire(
                EVENT_DETECTION,
                {"kind": change.kind.value, "entity_id": camera_id, **event.to_dict()},
            )
        async_dispatcher_send(self.hass, self.signal(camera_id))
        # "Person now" turns off quiet_s after the last sighting even while a car keeps the
        # event running: look again once that time has passed.
        if (cancel := self._recheck.pop(camera_id, None)) is not None:
            cancel()
        if self.service is not None:
            self._recheck[camera_id] = async_call_later(
                self.hass,
                self.service.config.quiet_s + 0.5,
                partial(self._recheck_fired, camera_id),
            )

    @callback
    def _recheck_fired(self, camera_id: str, _now: Any) -> None:
        self._recheck.pop(camera_id, None)
        async_dispatcher_send(self.hass, self.signal(camera_id))

    def active(self, camera_id: str, group: str) -> bool:
        if self.service is None or (cam := self.service.cameras.get(camera_id)) is None:
            return False
        return cam.tracker.active(group, time.time())

    def camera_running(self, camera_id: str) -> bool:
        return self.service is not None and camera_id in self.service.cameras

    # --- footage requests ----------------------------------------------------------------

    async def async_footage_request(self, req: AccessRequest) -> list[str]:
        """Lines listing the local events in a clip request's window (for the notification)."""
        if req.scope != "clip" or not self.is_ready:
            return []  # nothing to list (and no detection module to load in the event loop)
        from .detection.footage import FootageError, FootageRequest, matching_events

        try:
            footage = FootageRequest.from_message(req)
        except FootageError:
            return []
        assert self.service is not None
        found = await self.hass.async_add_executor_job(matching_events, self.service.store, footage)
        return [
            f"{s.camera_id} {s.event.to_dict()['start_iso']} {s.event.best_label} "
            f"(event {s.event_id})"
            for s in found
        ]

    async def async_share(
        self, request_id: str, camera_id: str, event_ids: list[str], kinds: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """Upload the chosen events of an approved footage request (raises FootageError)."""
        from .detection.footage import (
            FootageError,
            FootageRequest,
            prepare_event,
            upload_prepared,
        )
        from .media.jpeg import process_frame
        from .media.masks import parse_masks

        if not self.is_ready:
            raise FootageError(f"detection is not running: {self.reason or 'starting'}")
        assert self.service is not None
        req = self.requests.find(request_id)
        if req is None:
            raise FootageError(f"no footage request {request_id} is known here")
        try:
            footage = FootageRequest.from_message(req)
        except FootageError as err:
            raise FootageError(f"request {request_id} is not a footage request") from err
        if (why := self._footage_refusal(req, camera_id)) is not None:
            raise FootageError(f"sharing is not allowed: {why}")
        text = str(
            (self.entry.options.get(OPT_CAMERAS) or {}).get(camera_id, {}).get("masks") or ""
        )
        masks = parse_masks(text)
        # Every picked event is checked and built before the first upload: a refusal (one
        # event outside the window, one without a snapshot) means nothing left the house.
        prepared = []
        for event_id in event_ids:
            files = await self.hass.async_add_executor_job(
                partial(
                    prepare_event,
                    self.service.store,
                    footage,
                    camera_id,
                    event_id,
                    installation_id=self.ctx.installation_id,
                    kinds=kinds,
                    camera_masked=bool(masks),
                    mask=partial(process_frame, masks=masks),
                )
            )
            prepared.append((event_id, files))
        records: list[dict[str, Any]] = []
        for event_id, files in prepared:
            shared = await upload_prepared(
                async_get_clientsession(self.hass), self.entry.data[CONF_URL], self.ctx.key, files
            )
            await self.ctx.audit.record(  # the local log records what left the house
                "footage_shared",
                {
                    "request_id": request_id,
                    "incident_id": footage.incident_id,
                    "camera": camera_id,
                    "event_id": event_id,
                    "files": [
                        {k: r.get(k) for k in ("evidence_id", "content_type", "sha256", "masked")}
                        for r in shared
                    ],
                },
            )
            records.extend(shared)
        return records

    def _footage_refusal(self, req: AccessRequest, camera_id: str) -> str | None:
        """Deny by default: the resident approved this camera for this request, and the
        rules (pause, sharing switch, mode, schedule, revocations) still allow it now."""
        state = self.ctx.state
        approval = state.approvals.get(req.request_id)
        if approval is None or camera_id not in approval.cameras or approval.scope != "clip":
            return "not_approved"
        if approval.approved_at < state.revoked_before:
            return "revoked"
        result = self.ctx.gate.request(req, camera_id)
        return None if result.allowed else result.local_reason

    def _shared_camera_ids(self) -> list[str]:
        state = self.ctx.state
        return [
            cid
            for cid, cam in self.ctx.cameras.settings.items()
            if cam.mode != "off" and cid not in state.sharing_disabled
        ]

    # --- summaries and retention -----------------------------------------------------------

    async def _prune(self, _now: Any = None) -> None:
        if self.service is not None and self.is_ready:
            await self.service.prune()

    async def _summary_tick(self, _now: Any = None) -> None:
        from .detection.footage import UploadError

        try:
            await self.async_upload_summary()
        except UploadError as err:
            _LOGGER.warning("Event summary not sent: %s", err)

    async def async_upload_summary(self, now: float | None = None) -> dict[str, Any] | None:
        """Counts by camera, hour and label for the last day, if the resident allows it."""
        from .detection.footage import build_summary, upload_summary

        if not self.options.share_summaries or not self.is_ready:
            return None
        assert self.service is not None
        shared = self._shared_camera_ids()
        if not shared:
            return None
        now = time.time() if now is None else now
        summary = await self.hass.async_add_executor_job(
            partial(
                build_summary,
                self.service.store,
                self.ctx.installation_id,
                now - SUMMARY_SPAN_S,
                now,
                camera_ids=shared,
            )
        )
        return await upload_summary(
            async_get_clientsession(self.hass),
            self.entry.data[CONF_URL],
            self.ctx.key,
            summary,
        )

    def diagnostics(self) -> dict[str, Any]:
        status = self.runtime
        return {
            "enabled": self.enabled,
            "status": self.service.status.value if self.service else "off",
            "reason": self.reason,
            "runtime_available": status.available if status else None,
            "cameras": {
                cid: {
                    "fps": fps,
                    "running": self.camera_running(cid),
                    "frames": cam.frames if (cam := self._cam(cid)) else 0,
                    "errors": cam.errors if cam else 0,
                }
                for cid, fps in self.camera_fps.items()
            },
        }

    def _cam(self, camera_id: str) -> Any:
        return self.service.cameras.get(camera_id) if self.service else None
