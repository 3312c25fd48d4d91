"""Evidence uploads go through a one-time upload id (issue 12 item 8).

Before: ``POST /api/v1/evidence`` took a signed manifest and the file in one multipart
body; anyone holding a signed manifest could replay it, and a mismatching file was audited
as ``evidence.rejected`` in the installation's name without knowing who called. Now the
signed manifest buys exactly one upload id (nothing written on refusal), and the file is
accepted for that id only with the installation's signature over it, checked before a byte
of the body is read.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from connect_share_protocol.evidence import (
    UPLOAD_SIGNATURE_HEADER,
    EvidenceManifest,
    sign_manifest,
    sign_upload_id,
)
from hub_server import evidence as hub_evidence
from hub_server.models import EvidenceUpload
from tests.hub_harness import HubClient, HubHarness, SimulatedInstallation, camera, running_hub

HOME = (33.7490, -84.3880)
NEAR = (33.7495, -84.3880)
CONTENT = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 16 + b"\xff\xd9"


async def approved_footage(hub: HubHarness) -> tuple[SimulatedInstallation, HubClient, Any]:
    sim = await hub.simulated_installation([camera("cam-front", *NEAR, mode="registered")])
    api = hub.client(await hub.create_user(role="officer"))
    now = time.time()
    window = (now - 3600, now)
    incident = await api.open_incident(*HOME, radius_m=300, window=window)
    await api.request_footage(incident["incident_id"], [(sim.installation_id, "cam-front")], window)
    asked = await sim.next_message("access_request")
    await sim.approve(asked)
    await sim.next_message("grant")
    return sim, api, asked


def manifest_for(sim: SimulatedInstallation, asked: Any, **changes: Any) -> EvidenceManifest:
    now_ms = int(time.time() * 1000)
    manifest = EvidenceManifest(
        installation_id=sim.installation_id,
        camera_id="cam-front",
        incident_id=asked.incident.incident_id,
        request_id=asked.request_id,
        file_name="front.jpg",
        content_type="image/jpeg",
        size=len(CONTENT),
        sha256=hashlib.sha256(CONTENT).hexdigest(),
        event_start_ms=now_ms - 600_000,
        event_end_ms=now_ms - 590_000,
        created_ms=now_ms,
        labels=("person",),
    )
    return replace(manifest, **changes)


async def post_manifest(hub: HubHarness, signed: Any) -> tuple[int, Any]:
    async with hub.http.post(hub.url + "/api/v1/evidence/uploads", json=signed) as resp:
        return resp.status, await resp.json()


async def put_file(
    hub: HubHarness, upload_id: str, body: bytes, signature: str | None
) -> tuple[int, Any]:
    headers = {"Content-Type": "image/jpeg"}
    if signature is not None:
        headers[UPLOAD_SIGNATURE_HEADER] = signature
    url = f"{hub.url}/api/v1/evidence/uploads/{upload_id}"
    async with hub.http.put(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json()


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def audit_actions(admin: HubClient) -> list[str]:
    return [e["action"] for e in await admin.audit(limit=1000)]


async def test_upload_id_is_one_time_and_signed(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECT_SHARE_HUB_EVIDENCE_DIR", str(tmp_path / "evidence"))
    async with running_hub(tmp_path, database_url=database_url) as hub:
        sim, _api, asked = await approved_footage(hub)
        admin = hub.client(await hub.create_user(role="admin"))
        root = hub.app[hub_evidence.EVIDENCE].root
        signed = sign_manifest(sim.key, manifest_for(sim, asked))

        # The old one-step upload is gone.
        form = aiohttp.FormData()
        form.add_field("manifest", "{}", content_type="application/json")
        form.add_field("file", CONTENT, filename="a.jpg")
        async with hub.http.post(hub.url + "/api/v1/evidence", data=form) as resp:
            assert resp.status in (404, 405)

        status, body = await post_manifest(hub, signed)
        assert status == 201, body
        upload_id = body["upload_id"]
        assert body["upload_path"] == f"/api/v1/evidence/uploads/{upload_id}"
        # A replayed signed manifest is refused, by anyone, and writes nothing.
        before = await audit_actions(admin)
        status, body = await post_manifest(hub, signed)
        assert (status, body["error"]) == (409, "manifest_replayed")

        # The file without, with a stranger's, or with a signature over another id:
        # refused before the body is read (a large wrong body lands nowhere), not audited.
        junk = b"\x00" * (1024 * 1024)
        stranger = Ed25519PrivateKey.generate()
        for signature, expected in (
            (None, (401, "not_authenticated")),
            (sign_upload_id(stranger, upload_id), (403, "bad_signature")),
            (sign_upload_id(sim.key, "f" * 32), (403, "bad_signature")),
            ("not base64 !", (403, "bad_signature")),
        ):
            status, body = await put_file(hub, upload_id, junk, signature)
            assert (status, body["error"]) == expected, signature
        assert files_under(root) == []
        assert await audit_actions(admin) == before  # no evidence.rejected, nothing at all
        status, body = await put_file(hub, "0" * 32, CONTENT, sign_upload_id(sim.key, "0" * 32))
        assert (status, body["error"]) == (404, "not_found")

        # The installation spends the id exactly once, also when two uploads race.
        signature = sign_upload_id(sim.key, upload_id)
        results = await asyncio.gather(
            put_file(hub, upload_id, CONTENT, signature),
            put_file(hub, upload_id, CONTENT, signature),
        )
        assert sorted(status for status, _ in results) == [201, 409]
        [(_, stored)] = [r for r in results if r[0] == 201]
        [(_, refused)] = [r for r in results if r[0] == 409]
        assert refused["error"] == "upload_used"
        assert stored["evidence"]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
        assert "public_key" not in stored["evidence"]
        status, body = await put_file(hub, upload_id, CONTENT, signature)
        assert (status, body["error"]) == (409, "upload_used")
        actions = await audit_actions(admin)
        assert actions.count("evidence.received") == 1
        assert "evidence.rejected" not in actions
        assert (await hub.verify_audit()).ok


async def test_mismatch_is_audited_only_once_the_installation_is_known(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim, _api, asked = await approved_footage(hub)
        root = hub.app[hub_evidence.EVIDENCE].root
        status, body = await post_manifest(hub, sign_manifest(sim.key, manifest_for(sim, asked)))
        assert status == 201
        upload_id = body["upload_id"]
        signature = sign_upload_id(sim.key, upload_id)
        # A body longer than the manifest promises is refused from its Content-Length.
        status, body = await put_file(hub, upload_id, CONTENT + b"x", signature)
        assert (status, body["error"]) == (413, "body_too_large")
        flipped = CONTENT[:-3] + b"\x00\x00\x00"
        status, body = await put_file(hub, upload_id, flipped, signature)
        assert (status, body["error"]) == (422, "evidence_mismatch")
        admin = hub.client(await hub.create_user(role="admin"))
        [rejected] = await admin.audit(action="evidence.rejected")
        assert rejected["actor"] == f"installation:{sim.installation_id}"
        assert rejected["detail"]["upload_id"] == upload_id
        # Spent even though the file was refused; nothing kept on disk.
        status, body = await put_file(hub, upload_id, CONTENT, signature)
        assert (status, body["error"]) == (409, "upload_used")
        assert files_under(root) == []


async def test_stale_manifest_expired_id_and_revoked_grant(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim, api, asked = await approved_footage(hub)
        two_days_ago = int((time.time() - 2 * 86400) * 1000)
        stale = manifest_for(sim, asked, created_ms=two_days_ago)
        status, body = await post_manifest(hub, sign_manifest(sim.key, stale))
        assert (status, body["error"]) == (403, "manifest_stale")
        in_an_hour = int((time.time() + 3600) * 1000)
        future = manifest_for(sim, asked, created_ms=in_an_hour)
        status, body = await post_manifest(hub, sign_manifest(sim.key, future))
        assert (status, body["error"]) == (403, "manifest_stale")

        # An id past its expiry is refused (410) and stays unspent.
        status, body = await post_manifest(hub, sign_manifest(sim.key, manifest_for(sim, asked)))
        expired_id = body["upload_id"]
        async with hub.state.db.write() as session:
            await session.execute(
                update(EvidenceUpload)
                .where(EvidenceUpload.id == expired_id)
                .values(expires_at=time.time() - 1)
            )
        status, body = await put_file(hub, expired_id, CONTENT, sign_upload_id(sim.key, expired_id))
        assert (status, body["error"]) == (410, "upload_expired")

        # The grant is revoked after the id was issued: the upload is refused.
        manifest = manifest_for(sim, asked, created_ms=int(time.time() * 1000) + 1)
        status, body = await post_manifest(hub, sign_manifest(sim.key, manifest))
        upload_id = body["upload_id"]
        grant = await api.wait_for_grant(asked.incident.incident_id, "cam-front", scope="clip")
        admin = hub.client(await hub.create_user(role="admin"))
        await admin.revoke_grant(grant["grant_id"])
        status, body = await put_file(hub, upload_id, CONTENT, sign_upload_id(sim.key, upload_id))
        assert (status, body["error"]) == (403, "request_revoked")
        # Old upload rows are pruned once their manifests would be stale anyway.
        later = time.time() + 3 * 86400
        await hub_evidence.prune_uploads(hub.app, now=later)
        async with hub.state.db.read() as session:
            assert await session.get(EvidenceUpload, upload_id) is None
