"""Event tracking and the on-disk event store."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from PIL import Image

from custom_components.connect_share.detection.detector import Detection
from custom_components.connect_share.detection.event_store import (
    EventStore,
    EventStoreError,
    camera_dir_name,
)
from custom_components.connect_share.detection.events import Change, EventTracker

T0 = datetime(2026, 11, 20, 13, 55, tzinfo=UTC).timestamp()
BOX = (0.1, 0.2, 0.6, 0.5)


def person(score: float) -> Detection:
    return Detection("person", score, BOX)


def car(score: float) -> Detection:
    return Detection("car", score, (0.5, 0.5, 0.9, 0.9))


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


def kinds(changes) -> list[str]:
    return [c.kind.value for c in changes]


# -- tracker -------------------------------------------------------------------------


def test_event_starts_updates_and_ends_after_quiet_period():
    tracker = EventTracker("cam-1", quiet_s=10)
    assert tracker.observe(T0, []) == []
    first = tracker.observe(T0 + 1, [person(0.6)], jpeg((10, 10, 10)))
    assert kinds(first) == ["start"]
    event = first[0].event
    assert event.start == T0 + 1 and event.ongoing and event.best_label == "person"
    assert tracker.active("person", T0 + 2) and not tracker.active("vehicle", T0 + 2)
    # Worse score, same label: nothing new to report.
    assert tracker.observe(T0 + 2, [person(0.55)], jpeg((20, 20, 20))) == []
    # Better score: a better snapshot.
    better = tracker.observe(T0 + 3, [person(0.8)], jpeg((30, 30, 30)))
    assert kinds(better) == ["update"]
    assert event.best_score == 0.8 and event.best_snapshot == jpeg((30, 30, 30))
    # New label (lower score): update without replacing the snapshot.
    assert kinds(tracker.observe(T0 + 4, [car(0.5)], jpeg((40, 40, 40)))) == ["update"]
    assert event.labels.keys() == {"person", "car"}
    assert event.best_snapshot == jpeg((30, 30, 30))
    assert tracker.active("vehicle", T0 + 5)
    assert tracker.tick(T0 + 13) == []  # 9 s quiet: still on
    ended = tracker.tick(T0 + 14)
    assert kinds(ended) == ["end"] and ended[0].event is event
    assert event.end == T0 + 14 and not event.ongoing
    assert event.labels["person"].first_seen == T0 + 1
    assert event.labels["person"].last_seen == T0 + 3
    assert not tracker.active("person", T0 + 14)
    assert kinds(tracker.observe(T0 + 20, [person(0.6)])) == ["start"]
    assert tracker.current is not None and tracker.current.event_id != event.event_id


def test_long_events_are_cut_and_restarted():
    tracker = EventTracker("cam-1", quiet_s=10, max_duration_s=60)
    ids = []
    for step in range(0, 150, 5):
        for change in tracker.observe(T0 + step, [car(0.7)]):
            if change.kind is Change.START:
                ids.append(change.event.event_id)
    assert len(ids) == 3 and len(set(ids)) == 3


def test_close_ends_a_running_event():
    tracker = EventTracker("cam-1")
    tracker.observe(T0, [person(0.9)])
    closed = tracker.close(T0 + 3)
    assert kinds(closed) == ["end"] and closed[0].event.end == T0 + 3
    assert tracker.close(T0 + 4) == []


def test_bad_tracker_settings():
    with pytest.raises(ValueError):
        EventTracker("c", quiet_s=0)


# -- store ---------------------------------------------------------------------------


def finished_event(camera: str, start: float, labels=("person",), frame: bytes | None = None):
    tracker = EventTracker(camera, quiet_s=10)
    for i, label in enumerate(labels):
        tracker.observe(start + i, [Detection(label, 0.6 + i / 100, BOX)], frame)
    return tracker.tick(start + len(labels) + 30)[0].event


def test_save_query_reload(tmp_path):
    store = EventStore(tmp_path)
    frame = jpeg((200, 0, 0))
    event = finished_event("camera.front_door", T0, ("person", "car"), frame)
    stored = store.save(event)
    assert stored.snapshot_path is not None and stored.snapshot_path.read_bytes() == frame
    assert not stored.snapshot_masked
    assert stored.directory == tmp_path / "camera.front_door" / "2026-11-20"
    other = store.save(finished_event("camera.yard", T0 + 7200, ("cat",)))
    assert other.snapshot is None

    assert [s.event_id for s in store.query(T0 - 60, T0 + 60)] == [event.event_id]
    assert store.query(T0 + 100, T0 + 200) == []
    assert len(store.query(T0, T0 + 8000)) == 2
    assert [s.camera_id for s in store.query(0, 2e10, camera_ids={"camera.yard"})] == [
        "camera.yard"
    ]
    assert [s.camera_id for s in store.query(0, 2e10, labels={"car"})] == ["camera.front_door"]
    assert store.cameras() == ["camera.front_door", "camera.yard"]
    assert store.latest("camera.yard").event_id == other.event_id

    again = EventStore(tmp_path)
    assert again.load() == 2
    back = again.get("camera.front_door", event.event_id)
    assert back is not None
    assert back.event.labels.keys() == {"person", "car"}
    assert back.snapshot_path.read_bytes() == frame
    assert back.to_dict()["start_iso"].startswith("2026-11-20T13:55")


def test_mask_runs_before_the_snapshot_is_written(tmp_path):
    store = EventStore(tmp_path)
    event = finished_event("cam", T0, frame=jpeg((255, 255, 255)))
    masked = jpeg((0, 0, 0))
    seen: list[bytes] = []

    def mask(data: bytes) -> bytes:
        seen.append(data)
        return masked

    stored = store.save(event, mask=mask)
    assert seen == [jpeg((255, 255, 255))]
    assert stored.snapshot_path.read_bytes() == masked and stored.snapshot_masked
    assert jpeg((255, 255, 255)) not in [p.read_bytes() for p in tmp_path.rglob("*.jpg")]


def test_failing_mask_stores_no_picture_but_keeps_the_event(tmp_path):
    store = EventStore(tmp_path)
    event = finished_event("cam", T0, frame=jpeg((255, 255, 255)))

    def broken(data: bytes) -> bytes:
        raise ValueError("bad polygon")

    stored = store.save(event, mask=broken)
    assert stored.snapshot is None
    assert list(tmp_path.rglob("*.jpg")) == []
    assert store.get("cam", event.event_id) is not None


def test_running_event_is_updated_in_place(tmp_path):
    store = EventStore(tmp_path)
    tracker = EventTracker("cam", quiet_s=10)
    event = tracker.observe(T0, [person(0.6)], jpeg((1, 1, 1)))[0].event
    store.save(event)
    tracker.observe(T0 + 1, [person(0.9)], jpeg((250, 250, 250)))
    stored = store.save(event)
    assert stored.snapshot_path.read_bytes() == jpeg((250, 250, 250))
    assert len(list(tmp_path.rglob("*.json"))) == 1
    # A restart while it ran: on load it ends when it was last seen.
    reloaded = EventStore(tmp_path)
    reloaded.load()
    assert reloaded.get("cam", event.event_id).event.end == T0 + 1


def test_clip_attach(tmp_path):
    store = EventStore(tmp_path / "events")
    event = finished_event("cam", T0)
    store.save(event)
    clip = tmp_path / "rec.mp4"
    clip.write_bytes(b"\0\0\0\x18ftypmp42")
    stored = store.attach_clip("cam", event.event_id, clip)
    assert not clip.exists() and stored.clip_path.read_bytes().startswith(b"\0\0\0\x18ftyp")
    with pytest.raises(EventStoreError):
        store.attach_clip("cam", "0000000000000-000000000000", clip)


def test_corrupt_event_file_costs_only_that_event(tmp_path):
    store = EventStore(tmp_path)
    good = store.save(finished_event("cam", T0))
    bad = store.save(finished_event("cam", T0 + 100))
    (bad.directory / f"{bad.event_id}.json").write_text("{not json")
    (tmp_path / "cam" / "2026-11-20" / "stray.json").write_text(json.dumps({"x": 1}))
    again = EventStore(tmp_path)
    assert again.load() == 1
    assert again.get("cam", good.event_id) is not None


def test_retention_prunes_old_events_and_their_files(tmp_path):
    store = EventStore(tmp_path, retention_days=7)
    old = store.save(finished_event("cam", T0, frame=jpeg((5, 5, 5))))
    new = store.save(finished_event("cam", T0 + 6 * 86400))
    assert store.prune(now=T0 + 8 * 86400) == 1
    assert store.get("cam", old.event_id) is None
    assert not old.directory.exists()  # its day directory was left empty and removed
    assert store.get("cam", new.event_id) is not None
    assert EventStore(tmp_path).load() == 1


def test_summary_counts_by_label_and_hour(tmp_path):
    store = EventStore(tmp_path)
    # 13:55:00 .. 13:55:01 person+car; one event 14:02 person; one 14:58 -> 15:03 person.
    store.save(finished_event("front", T0, ("person", "car")))
    store.save(finished_event("front", T0 + 420, ("person",)))
    tracker = EventTracker("yard", quiet_s=10)
    start = T0 + 3780  # 14:58
    for step in range(0, 301, 5):
        tracker.observe(start + step, [person(0.7)])
    store.save(tracker.tick(start + 400)[0].event)

    two_pm = datetime(2026, 11, 20, 14, tzinfo=UTC).timestamp()
    rows = store.summary(two_pm, two_pm + 3600)
    assert rows == [
        {
            "camera_id": "front",
            "hour": "2026-11-20T14:00:00.000+00:00",
            "label": "person",
            "count": 1,
        },
        {
            "camera_id": "yard",
            "hour": "2026-11-20T14:00:00.000+00:00",
            "label": "person",
            "count": 1,
        },
    ]
    whole = store.summary(two_pm - 3600, two_pm + 7200)
    assert {(r["camera_id"], r["hour"][11:13], r["label"], r["count"]) for r in whole} == {
        ("front", "13", "person", 1),
        ("front", "13", "car", 1),
        ("front", "14", "person", 1),
        ("yard", "14", "person", 1),
        ("yard", "15", "person", 1),
    }
    assert all(set(r) == {"camera_id", "hour", "label", "count"} for r in whole)


def test_camera_dir_names_are_safe():
    assert camera_dir_name("camera.front_door") == "camera.front_door"
    for odd in ("../etc", "a/b", "", ".hidden", "x" * 300):
        name = camera_dir_name(odd)
        assert "/" not in name and not name.startswith(".") and len(name) < 60
    assert camera_dir_name("a/b") != camera_dir_name("a_b/")
