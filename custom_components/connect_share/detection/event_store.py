"""The local event store: one directory per camera and day, a JSON file per event.

Layout under the root (the integration passes ``hass.config.path("connect_share/events")``)::

    <camera>/<YYYY-MM-DD>/<event_id>.json   the event (DetectionEvent.to_dict + files)
    <camera>/<YYYY-MM-DD>/<event_id>.jpg    best snapshot, masked before it is written
    <camera>/<YYYY-MM-DD>/<event_id>.mp4    short clip, when one was recorded

A file per event, written to a temp file and renamed, means a crash or a bad file costs at
most one event, never the index of all of them. The in-memory index is rebuilt by a scan at
start. All methods do blocking file I/O: call them from an executor. One lock serialises
them, so the frame loop and a footage request can use the same store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .events import DetectionEvent, iso

_LOGGER = logging.getLogger(__name__)
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")
_EVENT_ID = re.compile(r"^\d{13}-[0-9a-f]{12}$")
DAY = 86400.0

MaskFn = Callable[[bytes], bytes]


class EventStoreError(Exception):
    """A request the store cannot serve (unknown event, bad name); message says which."""


def camera_dir_name(camera_id: str) -> str:
    """A directory name for a camera id; odd ids get a readable prefix plus a hash."""
    if _SAFE.match(camera_id) and ".." not in camera_id:
        return camera_id
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", camera_id).strip("_")[:40] or "camera"
    return f"{slug}-{hashlib.sha256(camera_id.encode()).hexdigest()[:12]}"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: DetectionEvent
    directory: Path
    snapshot: str | None  # file names inside ``directory``
    clip: str | None
    snapshot_masked: bool

    @property
    def event_id(self) -> str:
        return self.event.event_id

    @property
    def camera_id(self) -> str:
        return self.event.camera_id

    @property
    def snapshot_path(self) -> Path | None:
        return self.directory / self.snapshot if self.snapshot else None

    @property
    def clip_path(self) -> Path | None:
        return self.directory / self.clip if self.clip else None

    @property
    def end_or_last(self) -> float:
        return self.event.end if self.event.end is not None else self.event.last_seen

    def to_dict(self) -> dict[str, Any]:
        data = self.event.to_dict()
        data["snapshot"] = self.snapshot
        data["clip"] = self.clip
        data["snapshot_masked"] = self.snapshot_masked
        return data


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class EventStore:
    def __init__(self, root: str | os.PathLike[str], *, retention_days: float = 14.0) -> None:
        if retention_days <= 0:
            raise ValueError("retention_days must be positive")
        self.root = Path(root)
        self.retention_days = retention_days
        self._lock = threading.RLock()
        self._events: dict[tuple[str, str], StoredEvent] = {}
        self._loaded = False

    # -- loading -----------------------------------------------------------------------

    def load(self) -> int:
        """Scan the root and build the index; unreadable event files are skipped (logged)."""
        with self._lock:
            self._events.clear()
            self.root.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.root.glob("*/*/*.json")):
                try:
                    stored = self._read(path)
                except (OSError, ValueError, KeyError, TypeError) as err:
                    _LOGGER.warning("Skipping unreadable event file %s: %s", path, err)
                    continue
                if stored.event.end is None:
                    # Left running by a restart: its tracker is gone, so it ended when
                    # it was last seen.
                    stored.event.end = stored.event.last_seen
                    self._write_json(stored)
                self._events[(stored.camera_id, stored.event_id)] = stored
            self._loaded = True
            return len(self._events)

    def _read(self, path: Path) -> StoredEvent:
        data = json.loads(path.read_text(encoding="utf-8"))
        event = DetectionEvent.from_dict(data)
        if event.event_id != path.stem or not _EVENT_ID.match(event.event_id):
            raise ValueError("event id does not match the file name")
        snapshot, clip = data.get("snapshot"), data.get("clip")
        return StoredEvent(
            event=event,
            directory=path.parent,
            snapshot=snapshot if snapshot and (path.parent / snapshot).is_file() else None,
            clip=clip if clip and (path.parent / clip).is_file() else None,
            snapshot_masked=bool(data.get("snapshot_masked", False)),
        )

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()

    # -- writing -----------------------------------------------------------------------

    def save(
        self, event: DetectionEvent, mask: MaskFn | None = None, *, masked: bool = False
    ) -> StoredEvent:
        """Create or update an event; writes its best snapshot when it changed.

        ``mask`` (e.g. the media helper's frame masking) runs on the snapshot before it
        touches the disk. If masking fails the snapshot is not stored at all: an unmasked
        picture of a neighbour's window must never be kept by accident. ``masked=True``
        says the snapshot was masked before (the pipeline masks frames before detection).
        """
        if not _EVENT_ID.match(event.event_id):
            raise EventStoreError(f"bad event id {event.event_id!r}")
        with self._lock:
            self._ensure_loaded()
            key = (event.camera_id, event.event_id)
            previous = self._events.get(key)
            directory = (
                previous.directory
                if previous
                else self.root / camera_dir_name(event.camera_id) / _day(event.start)
            )
            directory.mkdir(parents=True, exist_ok=True)
            snapshot = previous.snapshot if previous else None
            snapshot_masked = previous.snapshot_masked if previous else False
            if event.best_snapshot is not None and (event.snapshot_changed or not snapshot):
                picture: bytes | None = event.best_snapshot
                if mask is not None:
                    try:
                        picture = mask(event.best_snapshot)
                    except Exception:
                        _LOGGER.exception(
                            "Masking the snapshot of %s failed; not storing it", event.event_id
                        )
                        picture = None
                if picture is not None:
                    snapshot = f"{event.event_id}.jpg"
                    _write_atomic(directory / snapshot, picture)
                    snapshot_masked = mask is not None or masked
                event.snapshot_changed = False
            stored = StoredEvent(
                event=event,
                directory=directory,
                snapshot=snapshot,
                clip=previous.clip if previous else None,
                snapshot_masked=snapshot_masked,
            )
            self._write_json(stored)
            self._events[key] = stored
            return stored

    def attach_clip(self, camera_id: str, event_id: str, source: Path) -> StoredEvent:
        """Move a recorded MP4 (already masked or from an unmasked camera) into the store."""
        with self._lock:
            stored = self._require(camera_id, event_id)
            name = f"{event_id}.mp4"
            shutil.move(str(source), stored.directory / name)
            updated = StoredEvent(
                stored.event, stored.directory, stored.snapshot, name, stored.snapshot_masked
            )
            self._write_json(updated)
            self._events[(camera_id, event_id)] = updated
            return updated

    def _write_json(self, stored: StoredEvent) -> None:
        data = json.dumps(stored.to_dict(), indent=1, sort_keys=True).encode()
        _write_atomic(stored.directory / f"{stored.event_id}.json", data)

    # -- reading -----------------------------------------------------------------------

    def _require(self, camera_id: str, event_id: str) -> StoredEvent:
        self._ensure_loaded()
        stored = self._events.get((camera_id, event_id))
        if stored is None:
            raise EventStoreError(f"no event {event_id} for camera {camera_id}")
        return stored

    def get(self, camera_id: str, event_id: str) -> StoredEvent | None:
        with self._lock:
            self._ensure_loaded()
            return self._events.get((camera_id, event_id))

    def query(
        self,
        start: float,
        end: float,
        *,
        camera_ids: Collection[str] | None = None,
        labels: Collection[str] | None = None,
    ) -> list[StoredEvent]:
        """Events that overlap [start, end], oldest first."""
        with self._lock:
            self._ensure_loaded()
            found = [
                stored
                for (camera, _), stored in self._events.items()
                if (camera_ids is None or camera in camera_ids)
                and stored.event.start <= end
                and stored.end_or_last >= start
                and (labels is None or not labels or set(labels) & stored.event.labels.keys())
            ]
        return sorted(found, key=lambda s: (s.event.start, s.camera_id))

    def cameras(self) -> list[str]:
        with self._lock:
            self._ensure_loaded()
            return sorted({camera for camera, _ in self._events})

    def latest(self, camera_id: str) -> StoredEvent | None:
        with self._lock:
            self._ensure_loaded()
            mine = [s for (c, _), s in self._events.items() if c == camera_id]
        return max(mine, key=lambda s: s.event.start, default=None)

    # -- summaries (what the hub may learn without images) -----------------------------

    def summary_counts(
        self,
        start: float,
        end: float,
        *,
        camera_ids: Collection[str] | None = None,
        bucket_s: int = 3600,
    ) -> list[tuple[str, int, str, int]]:
        """(camera_id, bucket start in unix seconds, label, events) for [start, end).

        An event counts once in every bucket during which its label was seen, so "a person
        between 14:00 and 15:00" finds an event from 13:55 to 14:05. No ids, no boxes,
        no pictures.
        """
        counts: Counter[tuple[str, int, str]] = Counter()
        for stored in self.query(start, end, camera_ids=camera_ids):
            for label, stats in stored.event.labels.items():
                first = max(stats.first_seen, start)
                # The window is half-open, [start, end): 14:00-15:00 is one hour, not two.
                last = min(stats.last_seen, end - 1e-3)
                if first > last:
                    continue
                bucket = int(first // bucket_s) * bucket_s
                while bucket <= last:
                    counts[(stored.camera_id, bucket, label)] += 1
                    bucket += bucket_s
        return [(c, b, label, n) for (c, b, label), n in sorted(counts.items())]

    def summary(
        self,
        start: float,
        end: float,
        *,
        camera_ids: Collection[str] | None = None,
        bucket_s: int = 3600,
    ) -> list[dict[str, Any]]:
        """``summary_counts`` as dicts with ISO hours, for display and diagnostics."""
        return [
            {"camera_id": camera, "hour": iso(bucket), "label": label, "count": count}
            for camera, bucket, label, count in self.summary_counts(
                start, end, camera_ids=camera_ids, bucket_s=bucket_s
            )
        ]

    # -- retention ---------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete events that ended more than ``retention_days`` ago; returns how many."""
        now = time.time() if now is None else now
        cutoff = now - self.retention_days * DAY
        removed = 0
        with self._lock:
            self._ensure_loaded()
            for key, stored in list(self._events.items()):
                if stored.event.end is None or stored.event.end >= cutoff:
                    continue
                for name in (stored.snapshot, stored.clip, f"{stored.event_id}.json"):
                    if name:
                        (stored.directory / name).unlink(missing_ok=True)
                del self._events[key]
                removed += 1
                with contextlib.suppress(OSError):  # not empty: other events remain
                    stored.directory.rmdir()
        return removed

    def iter_days(self, camera_id: str) -> Iterable[str]:
        """Days (YYYY-MM-DD, newest first) that hold events of a camera: media browser."""
        with self._lock:
            self._ensure_loaded()
            days = {s.directory.name for (c, _), s in self._events.items() if c == camera_id}
        return sorted(days, reverse=True)

    def events_on_day(self, camera_id: str, day: str) -> list[StoredEvent]:
        with self._lock:
            self._ensure_loaded()
            found = [
                s
                for (c, _), s in self._events.items()
                if c == camera_id and s.directory.name == day
            ]
        return sorted(found, key=lambda s: s.event.start, reverse=True)
