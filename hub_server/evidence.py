"""Evidence: footage the resident chose to share, with its signed manifest.

Upload, in two steps (issue 12 item 8):

1. ``POST /api/v1/evidence/uploads`` with the signed manifest (JSON). It must be signed by
   the key the installation enrolled with, be fresh (``created_ms`` within a day), name a
   footage request to that installation which the resident approved for that camera, and
   the event must overlap the requested window. A refusal writes nothing. The answer is a
   random one-time upload id (``evidence_uploads``, valid ``upload_ttl_s``). Each manifest
   gives one id only: a replayed signed manifest is refused (409 ``manifest_replayed``).
2. ``PUT /api/v1/evidence/uploads/{upload_id}`` with the file as the raw body and the
   installation's signature over the id (``connect_share_protocol.evidence.sign_upload_id``)
   in the ``X-Connect-Share-Upload-Signature`` header. The signature is checked, and the
   request re-checked (revoked grant, closed incident), before a byte of the body is read;
   then the id is spent, the file streamed to a temp file, hashed, and kept only if its size
   and sha256 match. Only then, with the caller known, is a mismatch audited as
   ``evidence.rejected``.

Stored files are deleted by retention (hub_server/retention.py: the ``evidence`` period,
counted from the later of receipt and the incident's close; an open incident holds them).

Download is for the officers tied to the request (who asked, whose grant, who opened the
incident) and supervisors/admins; every download is in the audit log. The manifest bundle
(``/manifest``) carries the installation's public key, so anyone can check a file offline:
``python -m hub_server.evidence_cli verify-evidence FILE --manifest M.json``.

Storage: ``<evidence_dir>/<evidence_id>/{content,manifest.json,record.json}``; the
directory (env ``CONNECT_SHARE_HUB_EVIDENCE_DIR``, default ``evidence`` beside a SQLite
database) must be shared when several hub instances run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from connect_share_protocol import fingerprint, public_key_from_b64
from connect_share_protocol.evidence import (
    UPLOAD_SIGNATURE_HEADER,
    EvidenceManifest,
    EvidenceMismatch,
    canonical_json,
    check_digest,
    verify_manifest,
    verify_upload_signature,
)

from . import audit, openapi
from .auth import ALL_ROLES, AuthUser, current_user, policy
from .errors import ApiError, not_found
from .installation_signatures import claimed_installation_id, verified_by_installation
from .models import AccessRequestRow, EvidenceUpload, GrantRow, Incident, Installation
from .state import HUB, get_hub
from .summaries import setup_summary_routes
from .validation import HEX_ID, path_id, read_json

_LOGGER = logging.getLogger(__name__)
ENV_PREFIX = "CONNECT_SHARE_HUB_EVIDENCE_"
MAX_MANIFEST_BYTES = 16 * 1024
SUPERVISING_ROLES = frozenset({"supervisor", "admin"})
PRUNE_EVERY_S = 3600.0
DEFAULT_MAX_MB = 512
DEFAULT_UPLOAD_TTL_S = 3600.0
MANIFEST_MAX_AGE_S = 86400.0  # a manifest is signed when the resident shares
MANIFEST_MAX_SKEW_S = 600.0  # the resident's clock may be a little ahead


@dataclass(frozen=True, slots=True)
class EvidenceConfig:
    root: Path
    max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024
    upload_ttl_s: float = DEFAULT_UPLOAD_TTL_S

    @classmethod
    def from_env(cls, database_url: str, environ: dict[str, str] | None = None) -> EvidenceConfig:
        env = os.environ if environ is None else environ
        root = env.get(ENV_PREFIX + "DIR")
        if not root:
            root = str(_default_root(database_url))
        return cls(
            root=Path(root),
            max_bytes=int(float(env.get(ENV_PREFIX + "MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024),
            upload_ttl_s=float(env.get(ENV_PREFIX + "UPLOAD_TTL_S", DEFAULT_UPLOAD_TTL_S)),
        )


def _default_root(database_url: str) -> Path:
    """Beside the SQLite file (tests, small hubs); else ./evidence."""
    with contextlib.suppress(Exception):
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            return Path(url.database).resolve().parent / "evidence"
    return Path.cwd() / "evidence"


EVIDENCE = web.AppKey("connect_share_evidence", EvidenceConfig)


# -- storage -----------------------------------------------------------------------------


def evidence_id_for(signed: dict[str, Any]) -> str:
    """Same signed manifest, same id: a repeated upload finds the stored copy."""
    return hashlib.sha256(canonical_json(signed)).hexdigest()[:32]


def _read_record(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / "record.json").read_text())
    except (OSError, ValueError):
        return None


def stored_records(root: Path) -> list[dict[str, Any]]:
    if not root.is_dir():
        return []
    records = []
    for child in root.iterdir():
        if HEX_ID.match(child.name) and (record := _read_record(child)) is not None:
            records.append(record)
    return sorted(records, key=lambda r: r["received_at"])


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


# -- upload ------------------------------------------------------------------------------


async def _authorise_upload(
    request: web.Request, signed: dict[str, Any]
) -> tuple[EvidenceManifest, Installation, AccessRequestRow, Incident]:
    hub = get_hub(request)
    inst_id = claimed_installation_id(signed.get("manifest"), "bad_manifest", "manifest")
    async with hub.db.read() as session:
        manifest, inst = await verified_by_installation(session, inst_id, verify_manifest, signed)
        req = await session.get(AccessRequestRow, manifest.request_id)
        if req is None or req.installation_id != inst.id or req.incident_id != manifest.incident_id:
            raise ApiError(403, "no_such_request", "no footage request to this installation")
        incident = await session.get(Incident, req.incident_id)
        grant_rows = (
            await session.scalars(select(GrantRow).where(GrantRow.request_id == req.id))
        ).all()
    assert incident is not None
    if req.scope != "clip" or req.window_start is None or req.window_end is None:
        raise ApiError(403, "not_a_footage_request", "the request did not ask for footage")
    if manifest.camera_id not in (req.approved_camera_ids or []):
        raise ApiError(403, "camera_not_approved", "the resident did not approve this camera")
    # One token per approved camera: this camera's grants decide (revoked alone or all).
    camera_grants = [g for g in grant_rows if manifest.camera_id in (g.camera_ids or [])]
    if camera_grants and all(g.revoked_at is not None for g in camera_grants):
        raise ApiError(403, "request_revoked", "the footage grant was revoked")
    if incident.closed_at is not None:
        raise ApiError(409, "incident_closed", "the incident is closed")
    start_s, end_s = manifest.event_start_ms / 1000, manifest.event_end_ms / 1000
    if end_s < req.window_start or start_s > req.window_end:
        raise ApiError(403, "outside_window", "the event is outside the requested window")
    return manifest, inst, req, incident


async def _receive_file(
    part: aiohttp.StreamReader, manifest: EvidenceManifest, incoming: Path, max_bytes: int
) -> Path:
    """Stream to a temp file; EvidenceMismatch unless size and sha256 match exactly."""
    if manifest.size > max_bytes:
        raise ApiError(413, "body_too_large", f"evidence files are at most {max_bytes} bytes")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: incoming.mkdir(parents=True, exist_ok=True))
    fd, name = tempfile.mkstemp(dir=incoming, suffix=".part")
    tmp = Path(name)
    handle = os.fdopen(fd, "wb")
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := await part.read(256 * 1024):
            size += len(chunk)
            if size > manifest.size:  # more than promised: stop reading now
                raise EvidenceMismatch(f"more than the manifest's {manifest.size} bytes")
            digest.update(chunk)
            await loop.run_in_executor(None, handle.write, chunk)
        await loop.run_in_executor(None, handle.close)
        check_digest(manifest, size, digest.hexdigest())
    except BaseException:
        handle.close()
        tmp.unlink(missing_ok=True)
        raise
    return tmp


async def _load_upload(request: web.Request, upload_id: str) -> EvidenceUpload:
    async with get_hub(request).db.read() as session:
        upload = await session.get(EvidenceUpload, upload_id)
    if upload is None:
        raise not_found("upload")
    return upload


async def _authenticate_upload(request: web.Request, upload: EvidenceUpload) -> None:
    """The installation's signature over the upload id, from the header; 401/403 if not."""
    signature = request.headers.get(UPLOAD_SIGNATURE_HEADER)
    if not signature:
        raise ApiError(
            401, "not_authenticated", f"sign the upload id and send it as {UPLOAD_SIGNATURE_HEADER}"
        )
    async with get_hub(request).db.read() as session:
        await verified_by_installation(
            session,
            upload.installation_id,
            lambda key, _doc: verify_upload_signature(key, upload.id, signature),
            {},
        )


async def _spend_upload(request: web.Request, upload: EvidenceUpload) -> None:
    """Mark the id used (exactly one caller wins); 409 if it was, 410 if it expired."""
    now = time.time()
    if upload.used_at is not None:
        raise ApiError(409, "upload_used", "this upload id was used already")
    if upload.expires_at <= now:
        raise ApiError(410, "upload_expired", "this upload id expired; ask for a new one")
    async with get_hub(request).db.write() as session:
        result = await session.execute(
            update(EvidenceUpload)
            .where(EvidenceUpload.id == upload.id, EvidenceUpload.used_at.is_(None))
            .values(used_at=now)
        )
        spent = cast(CursorResult[Any], result).rowcount == 1
    if not spent:
        raise ApiError(409, "upload_used", "this upload id was used already")


@policy(public=True)  # authenticated by the installation's signature on the manifest
async def create_upload(request: web.Request) -> web.Response:
    """Check a signed manifest (nothing is written if refused) and answer a one-time id."""
    hub = get_hub(request)
    config = request.app[EVIDENCE]
    signed = await read_json(request)
    manifest, inst, _req, _incident = await _authorise_upload(request, signed)
    now = time.time()
    created_s = manifest.created_ms / 1000
    if created_s < now - MANIFEST_MAX_AGE_S or created_s > now + MANIFEST_MAX_SKEW_S:
        raise ApiError(403, "manifest_stale", "sign a fresh manifest (created_ms is not now)")
    if manifest.size > config.max_bytes:
        limit = config.max_bytes
        raise ApiError(413, "body_too_large", f"evidence files are at most {limit} bytes")
    upload = EvidenceUpload(
        id=uuid.uuid4().hex,
        installation_id=inst.id,
        manifest_sha256=hashlib.sha256(manifest.canonical()).hexdigest(),
        signed_manifest=canonical_json(signed).decode("ascii"),
        created_at=now,
        expires_at=now + config.upload_ttl_s,
    )
    try:
        async with hub.db.write() as session:
            session.add(upload)
    except IntegrityError as err:
        raise ApiError(
            409, "manifest_replayed", "this manifest was used already; sign a new one"
        ) from err
    return web.json_response(
        {
            "upload_id": upload.id,
            "upload_path": f"/api/v1/evidence/uploads/{upload.id}",
            "expires_at": upload.expires_at,
        },
        status=201,
    )


@policy(public=True)  # authenticated by the installation's signature on the upload id
async def upload_evidence(request: web.Request) -> web.Response:
    """The file for a one-time upload id; nothing is read before the caller is known."""
    hub = get_hub(request)
    config = request.app[EVIDENCE]
    upload_id = request.match_info["upload_id"]
    if not HEX_ID.match(upload_id):
        raise not_found("upload")
    upload = await _load_upload(request, upload_id)
    await _authenticate_upload(request, upload)
    # From here on the caller is the installation. The grant may have been revoked or the
    # incident closed since the id was issued: check again, then spend the id.
    signed = json.loads(upload.signed_manifest)
    manifest, inst, req, incident = await _authorise_upload(request, signed)
    if request.content_length is not None and request.content_length > manifest.size:
        raise ApiError(413, "body_too_large", f"the manifest promises {manifest.size} bytes")
    await _spend_upload(request, upload)
    evidence_id = evidence_id_for(signed)
    target = config.root / evidence_id
    try:
        tmp = await _receive_file(
            request.content, manifest, config.root / ".incoming", config.max_bytes
        )
    except EvidenceMismatch as err:
        async with hub.db.write() as session:
            await audit.append(
                hub.db,
                session,
                "evidence.rejected",
                actor=f"installation:{inst.id}",
                installation_id=inst.id,
                incident_id=incident.id,
                request_id=req.id,
                camera_id=manifest.camera_id,
                upload_id=upload.id,
                reason=err.detail,
            )
        raise ApiError(422, "evidence_mismatch", err.detail) from err
    if target.exists():
        tmp.unlink(missing_ok=True)
        record = _read_record(target)
        return web.json_response({"evidence": _public(record), "stored": False}, status=200)
    now = time.time()
    record = {
        "evidence_id": evidence_id,
        "incident_id": incident.id,
        "case_number": incident.case_number,
        "request_id": req.id,
        "installation_id": inst.id,
        "camera_id": manifest.camera_id,
        "file_name": manifest.file_name,
        "content_type": manifest.content_type,
        "size": manifest.size,
        "sha256": manifest.sha256,
        "event_start_ms": manifest.event_start_ms,
        "event_end_ms": manifest.event_end_ms,
        "labels": list(manifest.labels),
        "masked": manifest.masked,
        "received_at": now,
        "public_key": inst.public_key,
        "key_fingerprint": fingerprint(public_key_from_b64(inst.public_key)),
    }

    def place() -> None:
        staging = config.root / ".incoming" / f"{evidence_id}.{uuid.uuid4().hex}"
        staging.mkdir()
        os.replace(tmp, staging / "content")
        _write_json(staging / "manifest.json", signed)
        _write_json(staging / "record.json", record)
        try:
            os.rename(staging, target)  # the whole directory appears at once
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # a parallel upload won
            if not target.exists():
                raise

    await asyncio.get_running_loop().run_in_executor(None, place)
    async with hub.db.write() as session:
        await audit.append(
            hub.db,
            session,
            "evidence.received",
            actor=f"installation:{inst.id}",
            installation_id=inst.id,
            incident_id=incident.id,
            evidence_id=evidence_id,
            request_id=req.id,
            camera_id=manifest.camera_id,
            sha256=manifest.sha256,
            size=manifest.size,
        )
    return web.json_response({"evidence": _public(record), "stored": True}, status=201)


# -- download ----------------------------------------------------------------------------


def _public(record: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if record is None else {k: v for k, v in record.items() if k != "public_key"}


async def _may_see(request: web.Request, user: AuthUser, record: dict[str, Any]) -> bool:
    """Supervisors/admins, or the officer who asked, holds the grant or opened the incident."""
    if user.role in SUPERVISING_ROLES:
        return True
    hub = get_hub(request)
    async with hub.db.read() as session:
        req = await session.get(AccessRequestRow, record["request_id"])
        incident = await session.get(Incident, record["incident_id"])
        officers = set(
            (
                await session.scalars(
                    select(GrantRow.officer_id).where(GrantRow.request_id == record["request_id"])
                )
            ).all()
        )
    return (
        (req is not None and req.created_by == user.id)
        or (incident is not None and incident.created_by == user.id)
        or user.id in officers
    )


async def _load_visible(request: web.Request) -> tuple[Path, dict[str, Any]]:
    evidence_id = request.match_info["evidence_id"]
    if not HEX_ID.match(evidence_id):
        raise not_found("evidence")
    directory = request.app[EVIDENCE].root / evidence_id
    record = await asyncio.get_running_loop().run_in_executor(None, _read_record, directory)
    if record is None:
        raise not_found("evidence")
    if not await _may_see(request, current_user(request), record):
        raise ApiError(403, "not_authorised", "only officers tied to the request may see it")
    return directory, record


async def _audit_access(request: web.Request, action: str, record: dict[str, Any]) -> None:
    hub = get_hub(request)
    user = current_user(request)
    async with hub.db.write() as session:
        await audit.append(
            hub.db,
            session,
            action,
            actor=f"user:{user.id}",
            installation_id=record["installation_id"],
            incident_id=record["incident_id"],
            evidence_id=record["evidence_id"],
            officer_name=user.display_name,
            badge=user.badge,
        )


@policy(*ALL_ROLES)
async def list_incident_evidence(request: web.Request) -> web.Response:
    incident_id = path_id(request, "incident_id", "incident")
    root = request.app[EVIDENCE].root
    records = await asyncio.get_running_loop().run_in_executor(None, stored_records, root)
    user = current_user(request)
    visible = [
        _public(r)
        for r in records
        if r["incident_id"] == incident_id and await _may_see(request, user, r)
    ]
    return web.json_response({"evidence": visible})


async def incident_deliveries(app: web.Application, incident_id: str) -> set[tuple[str, str]]:
    """(request_id, camera_id) of every stored file of the incident: the "delivered" state
    of a request's camera, whoever may see the file itself."""
    records = await asyncio.get_running_loop().run_in_executor(
        None, stored_records, app[EVIDENCE].root
    )
    return {(r["request_id"], r["camera_id"]) for r in records if r["incident_id"] == incident_id}


@policy(*ALL_ROLES)
async def get_evidence(request: web.Request) -> web.Response:
    _, record = await _load_visible(request)
    return web.json_response({"evidence": _public(record)})


def manifest_bundle(directory: Path, record: dict[str, Any]) -> dict[str, Any]:
    """What ``verify-evidence`` needs: the signed manifest and the enrolled public key."""
    signed = json.loads((directory / "manifest.json").read_text())
    return {
        "evidence_id": record["evidence_id"],
        "manifest": signed["manifest"],
        "signature": signed["signature"],
        "public_key": record["public_key"],
        "key_fingerprint": record["key_fingerprint"],
        "received_at": record["received_at"],
    }


@policy(*ALL_ROLES)
async def get_manifest(request: web.Request) -> web.Response:
    directory, record = await _load_visible(request)
    bundle = await asyncio.get_running_loop().run_in_executor(
        None, manifest_bundle, directory, record
    )
    await _audit_access(request, "evidence.manifest_downloaded", record)
    return web.json_response(
        bundle,
        headers={
            "Content-Disposition": f'attachment; filename="{record["evidence_id"]}.manifest.json"'
        },
    )


@policy(*ALL_ROLES)
async def download_file(request: web.Request) -> web.StreamResponse:
    directory, record = await _load_visible(request)
    await _audit_access(request, "evidence.downloaded", record)
    return web.FileResponse(
        directory / "content",
        headers={
            "Content-Type": record["content_type"],
            "Content-Disposition": f'attachment; filename="{record["file_name"]}"',
            "X-Content-SHA256": record["sha256"],
        },
    )


# -- leftovers (evidence itself goes by retention, hub_server/retention.py) -------------


def remove_leftovers(root: Path, now: float) -> None:
    """Temp files a crash left behind in ``.incoming``."""
    incoming = root / ".incoming"
    if incoming.is_dir():
        for leftover in incoming.iterdir():
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime > 86400:
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()


async def prune_uploads(app: web.Application, now: float | None = None) -> None:
    """Upload ids older than any manifest the hub would still accept, and temp files."""
    hub = app[HUB]
    now = time.time() if now is None else now
    # Their manifests are refused as stale anyway, so the replay check does not need them.
    cutoff = now - 2 * MANIFEST_MAX_AGE_S
    async with hub.db.write() as session:
        await session.execute(delete(EvidenceUpload).where(EvidenceUpload.created_at < cutoff))
    root = app[EVIDENCE].root
    await asyncio.get_running_loop().run_in_executor(None, remove_leftovers, root, now)


async def _prune_loop(app: web.Application) -> None:
    while True:
        try:
            await prune_uploads(app)
        except Exception:
            _LOGGER.exception("evidence upload pruning failed")
        await asyncio.sleep(PRUNE_EVERY_S)


async def _start_pruning(app: web.Application) -> None:
    app[HUB].spawn(_prune_loop(app), "evidence-upload-pruning")


# -- registration ------------------------------------------------------------------------

_ALL = tuple(ALL_ROLES)
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/evidence/uploads": {
        "post": openapi._op(
            "Check a signed evidence manifest ({manifest, signature}) and get a one-time "
            "upload id. Authenticated by the installation's signature on the manifest; "
            "each manifest is accepted once (409 manifest_replayed).",
            body="SignedManifest",
            ok=201,
            errors=(403, 409),
        )
    },
    "/api/v1/evidence/uploads/{upload_id}": {
        "put": {
            **openapi._op(
                "Send the file (raw body) for a one-time upload id, with the installation's "
                f"signature over the id in {UPLOAD_SIGNATURE_HEADER}; checked before the "
                "body is read.",
                ok=201,
                errors=(401, 403, 404, 409, 410, 413, 422),
                params=[
                    openapi._path("upload_id"),
                    {
                        "name": UPLOAD_SIGNATURE_HEADER,
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
            ),
            "requestBody": {
                "required": True,
                # Any Content-Type (the manifest names the file's); the bytes must match
                # the manifest's size and sha256.
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
        }
    },
    "/api/v1/incidents/{incident_id}/evidence": {
        "get": openapi._op(
            "Evidence of an incident this user may see",
            roles=_ALL,
            errors=(404,),
            params=[openapi._path("incident_id")],
        )
    },
    "/api/v1/evidence/{evidence_id}": {
        "get": openapi._op(
            "One evidence record",
            roles=_ALL,
            errors=(404,),
            params=[openapi._path("evidence_id")],
        )
    },
    "/api/v1/evidence/{evidence_id}/manifest": {
        "get": openapi._op(
            "The signed manifest and the installation's public key (for verify-evidence)",
            roles=_ALL,
            errors=(404,),
            params=[openapi._path("evidence_id")],
        )
    },
    "/api/v1/evidence/{evidence_id}/file": {
        "get": openapi._op(
            "Download the file (audited)",
            roles=_ALL,
            errors=(404,),
            content_type="application/octet-stream",
            params=[openapi._path("evidence_id")],
        )
    },
}


def setup_evidence_routes(app: web.Application, config: EvidenceConfig | None = None) -> None:
    """Register the evidence routes, their OpenAPI entries and the upload pruning."""
    app[EVIDENCE] = config or EvidenceConfig.from_env(app[HUB].settings.database_url)
    app.router.add_post("/api/v1/evidence/uploads", create_upload)
    app.router.add_put("/api/v1/evidence/uploads/{upload_id}", upload_evidence)
    app.router.add_get("/api/v1/incidents/{incident_id}/evidence", list_incident_evidence)
    app.router.add_get("/api/v1/evidence/{evidence_id}", get_evidence)
    app.router.add_get("/api/v1/evidence/{evidence_id}/manifest", get_manifest)
    app.router.add_get("/api/v1/evidence/{evidence_id}/file", download_file)
    openapi.PATHS.update(OPENAPI_PATHS)
    app.on_startup.append(_start_pruning)
    setup_summary_routes(app)  # event counts share the storage and the signature scheme
