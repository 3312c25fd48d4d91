"""Detection events per camera: start on the first detection, end after a quiet period.

Pure and clock-free: the caller passes ``now`` (unix seconds), so tests need no timers and
the integration drives it from its frame loop. An event keeps its labels, the best score
per label, and the frame with the best score overall (the snapshot).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .detector import Detection

# Binary sensors group COCO labels the way a resident thinks of them.
LABEL_GROUPS: dict[str, frozenset[str]] = {
    "person": frozenset({"person"}),
    "vehicle": frozenset({"car", "truck", "bus", "motorcycle", "bicycle"}),
    "animal": frozenset({"cat", "dog", "bird", "horse", "sheep", "cow", "bear"}),
}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def new_event_id(start: float) -> str:
    # Sorts by time, unique without coordination: milliseconds + 6 random bytes.
    return f"{int(start * 1000):013d}-{secrets.token_hex(6)}"


@dataclass(slots=True)
class LabelStats:
    best_score: float
    first_seen: float
    last_seen: float
    best_box: tuple[float, float, float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_score": round(self.best_score, 4),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "best_box": [round(v, 4) for v in self.best_box],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelStats:
        box = tuple(float(v) for v in data["best_box"])
        if len(box) != 4:
            raise ValueError("best_box needs 4 numbers")
        return cls(
            best_score=float(data["best_score"]),
            first_seen=float(data["first_seen"]),
            last_seen=float(data["last_seen"]),
            best_box=box,
        )


@dataclass(slots=True)
class DetectionEvent:
    event_id: str
    camera_id: str
    start: float
    last_seen: float
    end: float | None = None  # None while the event runs
    labels: dict[str, LabelStats] = field(default_factory=dict)
    best_label: str = ""
    best_score: float = 0.0
    # Best frame as captured (unmasked, in memory only); the store masks it before disk.
    best_snapshot: bytes | None = field(default=None, repr=False)
    snapshot_changed: bool = field(default=False, repr=False)

    @property
    def ongoing(self) -> bool:
        return self.end is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "camera_id": self.camera_id,
            "start": self.start,
            "end": self.end,
            "last_seen": self.last_seen,
            "start_iso": iso(self.start),
            "end_iso": iso(self.end) if self.end is not None else None,
            "best_label": self.best_label,
            "best_score": round(self.best_score, 4),
            "labels": {name: stats.to_dict() for name, stats in sorted(self.labels.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectionEvent:
        end = data.get("end")
        return cls(
            event_id=str(data["event_id"]),
            camera_id=str(data["camera_id"]),
            start=float(data["start"]),
            last_seen=float(data["last_seen"]),
            end=float(end) if end is not None else None,
            labels={str(k): LabelStats.from_dict(v) for k, v in data["labels"].items()},
            best_label=str(data.get("best_label", "")),
            best_score=float(data.get("best_score", 0.0)),
        )

    def groups(self) -> set[str]:
        return {g for g, members in LABEL_GROUPS.items() if members & self.labels.keys()}


class Change(StrEnum):
    START = "start"
    UPDATE = "update"  # new label or better snapshot: worth saving and announcing
    END = "end"


@dataclass(frozen=True, slots=True)
class EventChange:
    kind: Change
    event: DetectionEvent


class EventTracker:
    """One camera's current event.

    - ``observe(now, detections, frame)`` after each frame that went through detection;
    - ``tick(now)`` on frames the motion gate skipped, or from a timer, to end quiet events.
    An event ends ``quiet_s`` after the last detection, or is cut at ``max_duration_s``
    (a parked car seen all day becomes a series of bounded events, not one endless one).
    """

    def __init__(
        self, camera_id: str, *, quiet_s: float = 15.0, max_duration_s: float = 600.0
    ) -> None:
        if quiet_s <= 0 or max_duration_s <= 0:
            raise ValueError("quiet_s and max_duration_s must be positive")
        self.camera_id = camera_id
        self.quiet_s = quiet_s
        self.max_duration_s = max_duration_s
        self.current: DetectionEvent | None = None
        # Label -> last time seen, for "is a person here now" binary sensors.
        self._recent: dict[str, float] = {}

    def observe(
        self, now: float, detections: Iterable[Detection], frame: bytes | None = None
    ) -> list[EventChange]:
        found = list(detections)
        changes = self.tick(now)
        for det in found:
            self._recent[det.label] = now
        if not found:
            return changes
        event = self.current
        if event is not None and now - event.start >= self.max_duration_s:
            event.end = now
            changes.append(EventChange(Change.END, event))
            event = self.current = None
        started = event is None
        if event is None:
            event = self.current = DetectionEvent(
                event_id=new_event_id(now), camera_id=self.camera_id, start=now, last_seen=now
            )
        event.last_seen = now
        updated = False
        for det in found:
            stats = event.labels.get(det.label)
            if stats is None:
                event.labels[det.label] = LabelStats(det.score, now, now, det.box)
                updated = True
            else:
                stats.last_seen = now
                if det.score > stats.best_score:
                    stats.best_score, stats.best_box = det.score, det.box
        best = max(found, key=lambda d: d.score)
        if best.score > event.best_score:
            event.best_score, event.best_label = best.score, best.label
            if frame is not None:
                event.best_snapshot = frame
                event.snapshot_changed = True
                updated = True
        changes.append(EventChange(Change.START if started else Change.UPDATE, event))
        if not started and not updated:
            changes.pop()  # same labels, no better frame: nothing to tell anyone
        return changes

    def tick(self, now: float) -> list[EventChange]:
        """End the current event if it has been quiet long enough."""
        event = self.current
        if event is None or now - event.last_seen < self.quiet_s:
            return []
        event.end = event.last_seen + self.quiet_s
        self.current = None
        return [EventChange(Change.END, event)]

    def close(self, now: float) -> list[EventChange]:
        """End the current event now (detection disabled, integration unloading)."""
        event = self.current
        if event is None:
            return []
        event.end = max(now, event.last_seen)
        self.current = None
        return [EventChange(Change.END, event)]

    def active(self, label_or_group: str, now: float) -> bool:
        """Was this label (or any label of this group) seen in the last ``quiet_s``?"""
        members = LABEL_GROUPS.get(label_or_group, frozenset({label_or_group}))
        return any(now - self._recent.get(label, float("-inf")) < self.quiet_s for label in members)
