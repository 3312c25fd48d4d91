"""A footage request end to end through the real hub, with the chain-of-custody check.

Officer asks for 14:00-15:00 -> the installation approves -> the resident's local events
(made by the real model on a real photo) in the window are listed -> snapshot and clip are
uploaded with a signed manifest -> the officer downloads file and manifest and
``verify-evidence`` accepts them; a tampered file is refused, at upload and offline.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from custom_components.connect_share.detection.detector import Detector
from custom_components.connect_share.detection.event_store import EventStore
from custom_components.connect_share.detection.events import EventTracker
from custom_components.connect_share.detection.footage import (
    FootageError,
    FootageRequest,
    UploadError,
    build_evidence,
    matching_events,
    share_event,
    upload_evidence,
)
from hub_server import evidence as hub_evidence
from hub_server import retention
from hub_server.cli import main as cli_main
from tests.hub_harness import camera, running_hub

from .conftest import MODEL_NAME

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)
TWO_PM = datetime(2026, 11, 20, 14, tzinfo=UTC).timestamp()
WINDOW = (TWO_PM, TWO_PM + 3600)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40


def grey_mask(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        Image.new("RGB", img.size, (128, 128, 128)).save(out, format="JPEG")
        return out.getvalue()


def local_events(shared: Path, root: Path) -> tuple[EventStore, list[str]]:
    """Events as the pipeline makes them: the real model on squat.bmp at 14:10 and 16:00."""
    models = shared / "models"
    detector = Detector(models / MODEL_NAME, models / "coco_labels.txt")
    photo = (shared / "testdata" / "images" / "squat.bmp").read_bytes()
    with Image.open(io.BytesIO(photo)) as img:
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="JPEG", quality=90)
        frame = buf.getvalue()
    store = EventStore(root)
    ids = []
    for start in (TWO_PM + 600, TWO_PM + 7200):
        tracker = EventTracker("cam-front", quiet_s=5)
        for step in range(3):
            tracker.observe(start + step, detector.detect(frame), frame)
        event = tracker.tick(start + 30)[0].event
        store.save(event)
        ids.append(event.event_id)
    clip = root / "rec.mp4"
    clip.write_bytes(MP4)
    store.attach_clip("cam-front", ids[0], clip)
    return store, ids


async def approved_request(hub, api, sim) -> tuple[dict, FootageRequest]:
    incident = await api.open_incident(*HOME, radius_m=300, window=WINDOW)
    await api.request_footage(incident["incident_id"], [(sim.installation_id, "cam-front")], WINDOW)
    asked = await sim.next_message("access_request")
    assert asked.scope == "clip"
    await sim.approve(asked)
    await sim.next_message("grant")
    return incident, FootageRequest.from_message(asked)


async def test_footage_request_with_chain_of_custody(tmp_path, shared_dir, capsys):
    store, (inside, outside) = local_events(shared_dir, tmp_path / "events")
    async with running_hub(tmp_path) as hub, aiohttp.ClientSession() as http:
        sim = await hub.simulated_installation([camera("cam-front", *NEAR, mode="registered")])
        officer = await hub.create_user(role="officer")
        bystander = await hub.create_user(role="analyst")
        api = hub.client(officer)
        incident, request = await approved_request(hub, api, sim)

        # 1. The resident sees only the event inside 14:00-15:00.
        shown = matching_events(store, request)
        assert [s.event_id for s in shown] == [inside]
        assert shown[0].event.best_label == "person"

        # 2. The resident shares it: snapshot (masked now: the camera has masks; masks
        #    never apply to clips, so that camera's clip is refused) ...
        with pytest.raises(FootageError, match="masks"):
            build_evidence(
                shown[0],
                "clip",
                installation_id=sim.installation_id,
                request=request,
                camera_masked=True,
            )
        records = await share_event(
            http,
            hub.url,
            sim.key,
            store,
            request,
            "cam-front",
            inside,
            installation_id=sim.installation_id,
            kinds=("snapshot",),
            camera_masked=True,
            mask=grey_mask,
        )
        assert [r["content_type"] for r in records] == ["image/jpeg"]
        assert records[0]["masked"] is True and records[0]["labels"] == ["person"]
        # ... and, for an unmasked camera, the clip.
        clip_records = await share_event(
            http,
            hub.url,
            sim.key,
            store,
            request,
            "cam-front",
            inside,
            installation_id=sim.installation_id,
            kinds=("clip",),
        )
        # A signed manifest is accepted once: uploading it again is refused (a retry signs
        # a new manifest).
        manifest, content = build_evidence(
            shown[0],
            "clip",
            installation_id=sim.installation_id,
            request=request,
            camera_masked=False,
        )
        first = await upload_evidence(http, hub.url, sim.key, manifest, content)
        with pytest.raises(UploadError) as replayed:
            await upload_evidence(http, hub.url, sim.key, manifest, content)
        assert (replayed.value.status, replayed.value.code) == (409, "manifest_replayed")
        assert first["sha256"] == clip_records[0]["sha256"]

        # 3. The officer lists and downloads; a bystander analyst may not.
        listed = await api.expect(
            200, "GET", f"/api/v1/incidents/{incident['incident_id']}/evidence"
        )
        assert {e["evidence_id"] for e in listed["evidence"]} >= {
            records[0]["evidence_id"],
            clip_records[0]["evidence_id"],
        }
        assert "public_key" not in listed["evidence"][0]
        other = hub.client(bystander)
        status, _ = await other.call("GET", f"/api/v1/evidence/{records[0]['evidence_id']}/file")
        assert status == 403
        assert (
            await other.expect(200, "GET", f"/api/v1/incidents/{incident['incident_id']}/evidence")
        )["evidence"] == []

        eid = clip_records[0]["evidence_id"]
        async with http.get(f"{hub.url}/api/v1/evidence/{eid}/file", headers=api.headers) as resp:
            assert resp.status == 200
            downloaded = await resp.read()
            assert resp.headers["X-Content-SHA256"] == clip_records[0]["sha256"]
        assert downloaded == MP4
        bundle = await api.expect(200, "GET", f"/api/v1/evidence/{eid}/manifest")
        file_path, manifest_path = tmp_path / "clip.mp4", tmp_path / "clip.manifest.json"
        file_path.write_bytes(downloaded)
        manifest_path.write_text(json.dumps(bundle))

        # 4. verify-evidence: OK; pinned to the resident's fingerprint: OK; tampered: refused.
        assert cli_main(["verify-evidence", str(file_path), "--manifest", str(manifest_path)]) == 0
        assert "OK:" in capsys.readouterr().out
        fp = bundle["key_fingerprint"]
        args = ["verify-evidence", str(file_path), "--manifest", str(manifest_path)]
        assert cli_main([*args, "--fingerprint", fp]) == 0
        assert cli_main([*args, "--fingerprint", "00" + fp[2:]]) == 1
        tampered = bytearray(downloaded)
        tampered[100] ^= 0xFF
        file_path.write_bytes(bytes(tampered))
        assert cli_main(args) == 1
        assert "sha256" in capsys.readouterr().out
        forged = dict(bundle, manifest={**bundle["manifest"], "camera_id": "cam-back"})
        manifest_path.write_text(json.dumps(forged))
        file_path.write_bytes(downloaded)
        assert cli_main(args) == 1
        assert "bad_signature" in capsys.readouterr().out

        # 5. The audit log has the receipt and the download, and its chain holds.
        entries = await hub.client(await hub.create_user(role="supervisor")).audit(
            incident_id=incident["incident_id"]
        )
        actions = [e["action"] for e in entries]
        assert "evidence.received" in actions and "evidence.downloaded" in actions
        assert (await hub.verify_audit()).ok


async def test_tampered_or_unauthorised_uploads_are_refused(tmp_path, shared_dir):
    store, (inside, outside) = local_events(shared_dir, tmp_path / "events")
    async with running_hub(tmp_path) as hub, aiohttp.ClientSession() as http:
        sim = await hub.simulated_installation([camera("cam-front", *NEAR, mode="registered")])
        api = hub.client(await hub.create_user(role="officer"))
        incident, request = await approved_request(hub, api, sim)
        stored = store.get("cam-front", inside)
        manifest, content = build_evidence(
            stored,
            "snapshot",
            installation_id=sim.installation_id,
            request=request,
            camera_masked=False,
        )
        assert isinstance(content, bytes)

        async def refused(key, man, data) -> UploadError:
            with pytest.raises(UploadError) as info:
                await upload_evidence(http, hub.url, key, man, data)
            return info.value

        # Bytes changed after signing: the hub hashes what arrives.
        flipped = content[:-10] + bytes(b ^ 0xFF for b in content[-10:])
        err = await refused(sim.key, manifest, flipped)
        assert (err.status, err.code) == (422, "evidence_mismatch")
        # More bytes than promised: refused from the Content-Length, before reading. (A
        # manifest is spent once: the next try signs a new one.)
        err = await refused(
            sim.key, replace(manifest, created_ms=manifest.created_ms + 1), content + b"extra"
        )
        assert (err.status, err.code) == (413, "body_too_large")
        # Signed by a key that is not the installation's.
        err = await refused(Ed25519PrivateKey.generate(), manifest, content)
        assert (err.status, err.code) == (403, "bad_signature")
        # A camera the resident did not approve, a request that is not theirs, a time
        # outside the window.
        for change, code in (
            ({"camera_id": "cam-back"}, "camera_not_approved"),
            ({"request_id": "f" * 32}, "no_such_request"),
            ({"event_start_ms": 1_000, "event_end_ms": 2_000}, "outside_window"),
        ):
            err = await refused(sim.key, replace(manifest, **change), content)
            assert (err.status, err.code) == (403, code), change
        # The outside-window event cannot even be built for this request.
        with pytest.raises(FootageError, match="outside"):
            build_evidence(
                store.get("cam-front", outside),
                "snapshot",
                installation_id=sim.installation_id,
                request=request,
                camera_masked=False,
            )
        # Nothing was stored by any refused upload.
        root = hub.app[hub_evidence.EVIDENCE].root
        assert not [p for p in root.iterdir() if p.name != ".incoming"] if root.exists() else True
        # Not JSON / no signature / an unknown upload id: clear 4xx, no crash.
        form = aiohttp.FormData()
        form.add_field("file", b"abc", filename="a.jpg")
        async with http.post(f"{hub.url}/api/v1/evidence/uploads", data=form) as resp:
            assert resp.status == 415
        status, body = await api.call("POST", "/api/v1/evidence/uploads", json={"x": 1})
        assert status == 400
        async with http.put(f"{hub.url}/api/v1/evidence/uploads/{'0' * 32}", data=b"a") as resp:
            assert resp.status == 404
        rejected = [
            e
            for e in await hub.client(await hub.create_user(role="admin")).audit(
                action="evidence.rejected"
            )
        ]
        assert len(rejected) == 1
        # A revoked footage grant ends the right to upload for that camera.
        admin = hub.client(await hub.create_user(role="admin"))
        grant = await api.wait_for_grant(incident["incident_id"], "cam-front", scope="clip")
        await admin.revoke_grant(grant["grant_id"])
        err = await refused(sim.key, manifest, content)
        assert (err.status, err.code) == (403, "request_revoked")


async def test_retention_removes_expired_evidence(tmp_path, shared_dir):
    store, (inside, _) = local_events(shared_dir, tmp_path / "events")
    # The passes run 91 days ahead; credentials kept (0) so the officer's API token, valid
    # for a day, survives them (credentials have their own test).
    keep_credentials = {"credentials_retention_days": 0}
    async with running_hub(tmp_path, **keep_credentials) as hub, aiohttp.ClientSession() as http:
        sim = await hub.simulated_installation([camera("cam-front", *NEAR, mode="registered")])
        api = hub.client(await hub.create_user(role="officer"))
        _, request = await approved_request(hub, api, sim)
        [record] = await share_event(
            http,
            hub.url,
            sim.key,
            store,
            request,
            "cam-front",
            inside,
            installation_id=sim.installation_id,
            kinds=("snapshot",),
        )
        eid = record["evidence_id"]
        root = hub.app[hub_evidence.EVIDENCE].root
        later = record["received_at"] + 91 * 86400  # past the 90-day evidence period

        async def evidence_deleted() -> int:
            return (await retention.enforce(hub.state.db, hub.settings, root, now=later))[
                "evidence"
            ]

        assert await evidence_deleted() == 0  # the open incident holds it
        await api.expect(200, "POST", f"/api/v1/incidents/{record['incident_id']}/close")
        assert await evidence_deleted() == 1
        status, body = await api.call("GET", f"/api/v1/evidence/{eid}")
        assert status == 404
        admin = hub.client(await hub.create_user(role="admin"))
        deleted = {
            e["detail"]["kind"]: e["detail"] for e in await admin.audit(action="retention.deleted")
        }
        assert deleted["evidence"]["evidence_ids"] == [eid]


async def test_bad_input_is_a_clear_4xx(tmp_path):
    async with running_hub(tmp_path) as hub, aiohttp.ClientSession() as http:
        api = hub.client(await hub.create_user(role="officer"))
        incident = await api.open_incident(*HOME, radius_m=300)

        async def post_manifest(manifest: object) -> int:
            async with http.post(f"{hub.url}/api/v1/evidence/uploads", json=manifest) as resp:
                assert resp.content_type == "application/json"
                return resp.status

        assert await post_manifest({"manifest": {"installation_id": "a\x00b"}}) == 403
        assert await post_manifest({"manifest": {"installation_id": "f" * 32}}) == 403
        assert await post_manifest({"manifest": "x", "signature": 1}) == 400
        assert await post_manifest([1]) == 400
        for path in (
            "/api/v1/incidents/nope/evidence",
            "/api/v1/incidents/nope/summaries",
            "/api/v1/evidence/not-an-id",
            "/api/v1/evidence/" + "0" * 32 + "/file",
        ):
            status, body = await api.call("GET", path)
            assert status == 404, (path, body)
        base = f"/api/v1/incidents/{incident['incident_id']}/summaries"
        for query in ("?label=a%00b&start=1&end=2", "?start=x&end=2", "?start=-1&end=2", ""):
            status, body = await api.call("GET", base + query)
            assert status == 400, (query, body)
        status, _ = await api.call(
            "POST", "/api/v1/summaries", json={"summary": {"installation_id": "\x00"}}
        )
        assert status == 403
