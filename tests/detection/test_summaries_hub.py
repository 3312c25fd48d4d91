"""Event summaries through the real hub: counts only, signed, scoped to the incident circle."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connect_share_protocol import ProtocolError
from connect_share_protocol.evidence import (
    EVIDENCE_CONTEXT,
    HOUR_MS,
    EventSummary,
    SummaryRow,
    canonical_json,
    sign_summary,
    verify_summary,
)
from connect_share_protocol.keys import b64url_encode
from custom_components.connect_share.detection.detector import Detection
from custom_components.connect_share.detection.event_store import EventStore
from custom_components.connect_share.detection.events import EventTracker
from custom_components.connect_share.detection.footage import (
    UploadError,
    build_summary,
    upload_summary,
)
from tests.hub_harness import camera, running_hub

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)
FAR = (33.7700, -84.3880)
TWO_PM = datetime(2026, 11, 20, 14, tzinfo=UTC).timestamp()


def add_event(store: EventStore, camera_id: str, start: float, label: str) -> None:
    tracker = EventTracker(camera_id, quiet_s=5)
    tracker.observe(start, [Detection(label, 0.8, (0.1, 0.1, 0.5, 0.5))])
    store.save(tracker.tick(start + 60)[0].event)


@pytest.fixture
def store(tmp_path) -> EventStore:
    store = EventStore(tmp_path / "events")
    add_event(store, "cam-front", TWO_PM + 600, "person")  # 14:10
    add_event(store, "cam-front", TWO_PM + 2400, "car")  # 14:40
    add_event(store, "cam-front", TWO_PM + 7200, "person")  # 16:00
    add_event(store, "cam-far", TWO_PM + 900, "person")  # 14:15, outside the circle
    add_event(store, "cam-private", TWO_PM + 900, "person")  # not shared by the resident
    return store


def test_summary_is_counts_only_and_signed(store):
    summary = build_summary(
        store,
        "inst-1",
        TWO_PM - 3600,
        TWO_PM + 3 * 3600 - 1,
        camera_ids={"cam-front", "cam-far"},
        now=TWO_PM + 4 * 3600,
    )
    assert summary.start_ms == int(TWO_PM - 3600) * 1000
    assert summary.end_ms == int(TWO_PM + 3 * 3600) * 1000
    assert [r.to_list() for r in summary.rows] == [
        ["cam-far", int(TWO_PM) * 1000, "person", 1],
        ["cam-front", int(TWO_PM) * 1000, "car", 1],
        ["cam-front", int(TWO_PM) * 1000, "person", 1],
        ["cam-front", int(TWO_PM + 7200) * 1000, "person", 1],
    ]
    key = Ed25519PrivateKey.generate()
    signed = sign_summary(key, summary)
    # The integration imports the protocol as a sub-package, the hub as
    # connect_share_protocol: two copies of the classes, so compare the data.
    assert verify_summary(key.public_key(), signed).to_dict() == summary.to_dict()
    forged = {"summary": {**signed["summary"], "rows": []}, "signature": signed["signature"]}
    with pytest.raises(ProtocolError, match="bad_signature"):
        verify_summary(key.public_key(), forged)
    # The same bytes signed under the evidence-manifest context are not a summary signature.
    as_manifest = b64url_encode(key.sign(EVIDENCE_CONTEXT + canonical_json(summary.to_dict())))
    with pytest.raises(ProtocolError, match="bad_signature"):
        verify_summary(key.public_key(), {**signed, "signature": as_manifest})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_ms": 5}, "whole hours"),
        ({"end_ms": 0}, "whole hours"),
        ({"rows": (SummaryRow("c", 0, "person", 0),)}, "count"),
        ({"rows": (SummaryRow("c", HOUR_MS * 5, "person", 1),)}, "inside"),
        ({"rows": (SummaryRow("c\t", 0, "person", 1),)}, "camera_id"),
        ({"rows": (SummaryRow("c", 0, "person", 1), SummaryRow("c", 0, "person", 2))}, "dup"),
    ],
)
def test_bad_summaries(change, message):
    fields = {
        "installation_id": "inst-1",
        "start_ms": 0,
        "end_ms": HOUR_MS,
        "created_ms": 1,
        "rows": (),
    }
    fields.update(change)
    with pytest.raises(ProtocolError, match=message):
        EventSummary(**fields)


async def test_which_cameras_saw_a_person_between_two_and_three(tmp_path, store):
    async with running_hub(tmp_path) as hub, aiohttp.ClientSession() as http:
        sim = await hub.simulated_installation(
            [
                camera("cam-front", *NEAR, mode="registered", name="Front door"),
                camera("cam-far", *FAR, mode="registered"),
            ]
        )
        officer = await hub.create_user(role="officer")
        api = hub.client(officer)
        incident = await api.open_incident(*HOME, radius_m=300)
        path = f"/api/v1/incidents/{incident['incident_id']}/summaries"

        # Nothing sent yet: the hub knows nothing.
        empty = await api.expect(
            200, "GET", f"{path}?label=person&start={TWO_PM}&end={TWO_PM + 3600}"
        )
        assert empty["cameras"] == []

        summary = build_summary(
            store,
            sim.installation_id,
            TWO_PM - 3600,
            TWO_PM + 4 * 3600,
            camera_ids={"cam-front", "cam-far"},
        )
        answer = await upload_summary(http, hub.url, sim.key, summary)
        assert answer["rows"] == len(summary.rows)

        hit = await api.expect(
            200, "GET", f"{path}?label=person&start={TWO_PM}&end={TWO_PM + 3600}"
        )
        assert [(c["camera_id"], c["name"]) for c in hit["cameras"]] == [
            ("cam-front", "Front door")
        ]  # cam-far is outside the circle; cam-private was never sent
        assert hit["cameras"][0]["hours"] == [
            {"hour_ms": int(TWO_PM) * 1000, "label": "person", "count": 1}
        ]
        later = await api.expect(
            200, "GET", f"{path}?label=person&start={TWO_PM + 3600}&end={TWO_PM + 7200}"
        )
        assert later["cameras"] == []
        cars = await api.expect(200, "GET", f"{path}?label=car&start={TWO_PM}&end={TWO_PM + 3600}")
        assert [c["camera_id"] for c in cars["cameras"]] == ["cam-front"]

        # A new upload for the same hours replaces the counts (the resident deleted events).
        emptied = EventSummary(
            installation_id=sim.installation_id,
            start_ms=summary.start_ms,
            end_ms=summary.end_ms,
            created_ms=summary.created_ms + 1,
            rows=(),
        )
        await upload_summary(http, hub.url, sim.key, emptied)
        gone = await api.expect(
            200, "GET", f"{path}?label=person&start={TWO_PM}&end={TWO_PM + 3600}"
        )
        assert gone["cameras"] == []

        # Forged or malformed uploads are refused and change nothing.
        with pytest.raises(UploadError) as info:
            await upload_summary(http, hub.url, Ed25519PrivateKey.generate(), summary)
        assert (info.value.status, info.value.code) == (403, "bad_signature")
        status, body = await api.call("POST", "/api/v1/summaries", json={"summary": {}})
        assert status == 400
        status, _ = await api.call("GET", f"{path}?label=person&start={TWO_PM}&end={TWO_PM - 1}")
        assert status == 400

        admin = hub.client(await hub.create_user(role="admin"))
        queried = await admin.audit(action="summaries.queried")
        assert len(queried) == 5 and queried[0]["incident_id"] == incident["incident_id"]
        assert (await hub.verify_audit()).ok
