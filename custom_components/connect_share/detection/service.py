"""Detection for one Home Assistant config entry: model files, one detector, one store.

The integration creates one ``DetectionService``, awaits ``start()`` during setup and asks
it for a ``CameraDetection`` per camera with detection on. ``start()`` never raises: when
detection cannot run it records ``status`` and a ``reason`` for the resident (a repair
issue), and the rest of the integration carries on without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import aiohttp

from .detector import AsyncDetector, ModelError
from .event_store import EventStore, MaskFn
from .events import EventTracker
from .mask_filter import MaskedArea, Polygon
from .model_store import ModelDownloadError, ModelSource, ensure_model
from .pipeline import BlockingRunner, CameraDetection, ChangeCallback, ClipRecorder
from .runtime import DetectionUnavailable, runtime_status

_LOGGER = logging.getLogger(__name__)


class Status(StrEnum):
    STARTING = "starting"
    READY = "ready"
    UNAVAILABLE = "unavailable"  # no LiteRT / tflite-runtime on this platform
    MODEL_ERROR = "model_error"  # download, hash or model file problem


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    model: ModelSource
    labels: ModelSource
    model_dir: Path  # hass.config.path("connect_share")
    events_dir: Path  # hass.config.path("connect_share/events")
    retention_days: float = 14.0
    num_threads: int = 1
    default_threshold: float = 0.5
    thresholds: Mapping[str, float] = field(default_factory=dict)
    quiet_s: float = 15.0


class DetectionService:
    def __init__(
        self,
        config: DetectionConfig,
        session: aiohttp.ClientSession,
        *,
        run_blocking: BlockingRunner | None = None,
    ) -> None:
        self.config = config
        self.session = session
        self.run_blocking = run_blocking
        self.status = Status.STARTING
        self.reason = ""
        self.detector: AsyncDetector | None = None
        self.store = EventStore(config.events_dir, retention_days=config.retention_days)
        self.cameras: dict[str, CameraDetection] = {}

    async def _blocking[*Ts, R](self, func: Callable[[*Ts], R], /, *args: *Ts) -> R:
        if self.run_blocking is not None:
            return await self.run_blocking(func, *args)
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def start(self) -> Status:
        """Fetch and check the model and labels, load the detector, load the store."""
        await self._blocking(self.store.load)
        status = runtime_status()
        if not status.available:
            return self._fail(Status.UNAVAILABLE, status.reason)
        try:
            model = await ensure_model(self.config.model, self.config.model_dir, self.session)
            labels = await ensure_model(self.config.labels, self.config.model_dir, self.session)
            self.detector = await AsyncDetector.create(
                model,
                labels,
                num_threads=self.config.num_threads,
                default_threshold=self.config.default_threshold,
                thresholds=dict(self.config.thresholds),
            )
        except DetectionUnavailable as err:
            return self._fail(Status.UNAVAILABLE, err.reason)
        except (ModelDownloadError, ModelError, OSError) as err:
            return self._fail(Status.MODEL_ERROR, str(err))
        self.status, self.reason = Status.READY, status.reason
        return self.status

    def _fail(self, status: Status, reason: str) -> Status:
        _LOGGER.warning("Object detection is off: %s", reason)
        self.status, self.reason = status, reason
        return status

    def camera(
        self,
        camera_id: str,
        *,
        on_change: ChangeCallback | None = None,
        mask: MaskFn | None = None,
        mask_polygons: list[Polygon] | None = None,
        record_clip: ClipRecorder | None = None,
    ) -> CameraDetection | None:
        """The camera's pipeline (created once), or None when detection is not ready."""
        if self.detector is None:
            return None
        existing = self.cameras.get(camera_id)
        if existing is not None:
            return existing
        pipeline = CameraDetection(
            camera_id,
            self.detector,
            self.store,
            tracker=EventTracker(camera_id, quiet_s=self.config.quiet_s),
            mask=mask,
            masked_area=MaskedArea(mask_polygons) if mask_polygons else None,
            on_change=on_change,
            run_blocking=self.run_blocking,
            record_clip=record_clip,
        )
        self.cameras[camera_id] = pipeline
        return pipeline

    async def remove_camera(self, camera_id: str) -> None:
        pipeline = self.cameras.pop(camera_id, None)
        if pipeline is not None:
            await pipeline.close()

    async def prune(self) -> int:
        """Retention pass over the event store (call daily, e.g. async_track_time_interval)."""
        return await self._blocking(self.store.prune)

    async def stop(self) -> None:
        for camera_id in list(self.cameras):
            await self.remove_camera(camera_id)
        if self.detector is not None:
            await self.detector.close()
            self.detector = None
