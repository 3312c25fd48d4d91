"""Footage requests on the resident's side: matching events, signed manifests, upload.

Flow (the integration wires it to a notification and the ``share_footage`` service):
1. The hub sends an ``access_request`` with scope ``clip`` and a window.
   ``matching_events(store, request)`` lists the local events to show the resident.
2. The resident approves the cameras (a ``decision``) and picks events to share.
3. For each pick, ``share_event(...)`` builds the manifest (sha256 of the exact bytes
   sent), signs it with the installation key, exchanges it for a one-time upload id
   (``POST /api/v1/evidence/uploads``) and sends the file to that id, signed (``PUT``).

Privacy: a snapshot of a camera with masks is shared only masked (masked on disk already,
or through ``mask`` now); clips are never masked, so a masked camera's clips are refused.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..protocol.errors import ProtocolError
from ..protocol.evidence import (
    HOUR_MS,
    UPLOAD_SIGNATURE_HEADER,
    EventSummary,
    EvidenceManifest,
    SummaryRow,
    digest_chunks,
    file_digest,
    sign_manifest,
    sign_summary,
    sign_upload_id,
)
from .event_store import EventStore, MaskFn, StoredEvent

UPLOADS_PATH = "/api/v1/evidence/uploads"
SUMMARY_PATH = "/api/v1/summaries"
_CHUNK = 256 * 1024


class FootageError(Exception):
    """This item cannot be shared (message says why, for the resident)."""


class UploadError(FootageError):
    """The hub refused or could not be reached; ``status``/``code`` from its JSON error."""

    def __init__(self, message: str, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class FootageRequest:
    """The parts of an ``access_request`` (scope clip) the footage path needs."""

    request_id: str
    incident_id: str
    camera_ids: tuple[str, ...]
    window_start: float
    window_end: float

    @classmethod
    def from_message(cls, msg: Any) -> FootageRequest:
        """From a decoded ``AccessRequest`` message."""
        if msg.scope != "clip" or msg.window_start is None or msg.window_end is None:
            raise FootageError("not a footage request (scope clip with a window)")
        return cls(
            request_id=msg.request_id,
            incident_id=msg.incident.incident_id,
            camera_ids=tuple(msg.camera_ids),
            window_start=float(msg.window_start),
            window_end=float(msg.window_end),
        )


def matching_events(
    store: EventStore,
    request: FootageRequest,
    *,
    camera_ids: Collection[str] | None = None,
    labels: Collection[str] | None = None,
) -> list[StoredEvent]:
    """Local events inside the request's window for its cameras (blocking: executor)."""
    wanted = set(request.camera_ids) if camera_ids is None else set(camera_ids)
    wanted &= set(request.camera_ids)
    return store.query(request.window_start, request.window_end, camera_ids=wanted, labels=labels)


def _ms(ts: float) -> int:
    return round(ts * 1000)


def build_evidence(
    stored: StoredEvent,
    kind: str,
    *,
    installation_id: str,
    request: FootageRequest,
    camera_masked: bool,
    mask: MaskFn | None = None,
    now: float | None = None,
) -> tuple[EvidenceManifest, bytes | Path]:
    """The manifest and the exact content (bytes for a snapshot, a path for a clip).

    Blocking (reads and hashes the file): run in an executor.
    """
    if stored.camera_id not in request.camera_ids:
        raise FootageError(f"camera {stored.camera_id} is not part of this request")
    event = stored.event
    end = event.end if event.end is not None else event.last_seen
    if end < request.window_start or event.start > request.window_end:
        raise FootageError("the event is outside the requested window")
    masked = False
    content: bytes | Path
    if kind == "snapshot":
        path = stored.snapshot_path
        if path is None:
            raise FootageError("this event has no snapshot")
        data = path.read_bytes()
        masked = stored.snapshot_masked
        if camera_masked and not masked:
            if mask is None:
                raise FootageError("this camera has masks: its snapshot must be masked first")
            data, masked = mask(data), True
        size, sha256 = digest_chunks([data])
        content, content_type, name = data, "image/jpeg", f"{event.event_id}.jpg"
    elif kind == "clip":
        path = stored.clip_path
        if path is None:
            raise FootageError("this event has no clip")
        if camera_masked:
            raise FootageError("clips are not masked, so a camera with masks cannot share them")
        size, sha256 = file_digest(path)
        content, content_type, name = path, "video/mp4", f"{event.event_id}.mp4"
    else:
        raise FootageError(f"unknown kind {kind!r} (snapshot or clip)")
    manifest = EvidenceManifest(
        installation_id=installation_id,
        camera_id=stored.camera_id,
        incident_id=request.incident_id,
        request_id=request.request_id,
        file_name=name,
        content_type=content_type,
        size=size,
        sha256=sha256,
        event_start_ms=_ms(event.start),
        event_end_ms=_ms(end),
        created_ms=_ms(time.time() if now is None else now),
        event_id=event.event_id,
        labels=tuple(sorted(event.labels)),
        masked=masked,
    )
    return manifest, content


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    handle = await loop.run_in_executor(None, path.open, "rb")
    try:
        while chunk := await loop.run_in_executor(None, handle.read, _CHUNK):
            yield chunk
    finally:
        await loop.run_in_executor(None, handle.close)


def _refusal(status: int, answer: Any, what: str) -> UploadError:
    code = answer.get("error", "") if isinstance(answer, dict) else ""
    message = answer.get("message", "") if isinstance(answer, dict) else ""
    text = f"the hub refused the {what}: HTTP {status} {code} {message}"
    return UploadError(text.strip(), status, code)


async def _json_answer(resp: aiohttp.ClientResponse) -> Any:
    try:
        return await resp.json(content_type=None)
    except ValueError:
        return {}


async def upload_evidence(
    session: aiohttp.ClientSession,
    hub_url: str,
    key: Ed25519PrivateKey,
    manifest: EvidenceManifest,
    content: bytes | Path,
    *,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Sign and upload; returns the hub's evidence record. UploadError on refusal.

    Two steps: the signed manifest buys a one-time upload id (``POST``
    ``/api/v1/evidence/uploads``), then the file goes to that id with this installation's
    signature over it (``PUT``). A manifest is accepted once: to retry, build a new one.
    """
    base = hub_url.rstrip("/")
    signed = sign_manifest(key, manifest)
    try:
        async with session.post(
            base + UPLOADS_PATH,
            json=signed,
            timeout=aiohttp.ClientTimeout(total=60.0),
        ) as resp:
            answer = await _json_answer(resp)
            if resp.status != 201:
                raise _refusal(resp.status, answer, "evidence manifest")
        upload_id = answer.get("upload_id") if isinstance(answer, dict) else None
        if not isinstance(upload_id, str):
            raise UploadError("the hub gave no upload id")
        try:
            signature = sign_upload_id(key, upload_id)
        except ProtocolError as err:
            raise UploadError(f"the hub gave a malformed upload id: {err}") from err
        body: Any = content if isinstance(content, bytes) else _file_chunks(content)
        async with session.put(
            f"{base}{UPLOADS_PATH}/{upload_id}",
            data=body,
            headers={
                UPLOAD_SIGNATURE_HEADER: signature,
                "Content-Type": manifest.content_type,
            },
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp:
            answer = await _json_answer(resp)
            if resp.status not in (200, 201):
                raise _refusal(resp.status, answer, "evidence")
    except (aiohttp.ClientError, TimeoutError) as err:
        raise UploadError(f"could not upload the evidence: {err!r}") from err
    # The hub's JSON is not validated here (aiohttp gives Any); checking it would change
    # what a malformed answer does.
    return answer["evidence"]  # type: ignore[no-any-return]


def prepare_event(
    store: EventStore,
    request: FootageRequest,
    camera_id: str,
    event_id: str,
    *,
    installation_id: str,
    kinds: Collection[str] = ("snapshot", "clip"),
    camera_masked: bool = False,
    mask: MaskFn | None = None,
) -> list[tuple[EvidenceManifest, bytes | Path]]:
    """Every file of the chosen event that would be uploaded, checked and built (raises
    ``FootageError`` before anything leaves). Blocking: run in an executor."""
    stored = store.get(camera_id, event_id)
    if stored is None:
        raise FootageError(f"no local event {event_id} for camera {camera_id}")
    available = [
        k for k in kinds if (k == "snapshot" and stored.snapshot) or (k == "clip" and stored.clip)
    ]
    if not available:
        raise FootageError("the event has nothing to share of the kinds asked for")
    return [
        build_evidence(
            stored,
            kind,
            installation_id=installation_id,
            request=request,
            camera_masked=camera_masked,
            mask=mask,
        )
        for kind in available
    ]


async def upload_prepared(
    session: aiohttp.ClientSession,
    hub_url: str,
    key: Ed25519PrivateKey,
    prepared: list[tuple[EvidenceManifest, bytes | Path]],
) -> list[dict[str, Any]]:
    """Upload what ``prepare_event`` built; the hub's records."""
    return [await upload_evidence(session, hub_url, key, m, c) for m, c in prepared]


async def share_event(
    session: aiohttp.ClientSession,
    hub_url: str,
    key: Ed25519PrivateKey,
    store: EventStore,
    request: FootageRequest,
    camera_id: str,
    event_id: str,
    *,
    installation_id: str,
    kinds: Collection[str] = ("snapshot", "clip"),
    camera_masked: bool = False,
    mask: MaskFn | None = None,
) -> list[dict[str, Any]]:
    """Upload the chosen event's snapshot and/or clip (those it has); the hub's records.
    All of them are checked before the first is uploaded."""
    prepared = await asyncio.get_running_loop().run_in_executor(
        None,
        functools.partial(
            prepare_event,
            store,
            request,
            camera_id,
            event_id,
            installation_id=installation_id,
            kinds=kinds,
            camera_masked=camera_masked,
            mask=mask,
        ),
    )
    return await upload_prepared(session, hub_url, key, prepared)


# -- event summaries (only when the resident allows them) ------------------------------


def build_summary(
    store: EventStore,
    installation_id: str,
    start: float,
    end: float,
    *,
    camera_ids: Collection[str],
    now: float | None = None,
) -> EventSummary:
    """Counts by camera, hour and label for the whole hours in [start, end) (blocking).

    ``camera_ids``: the cameras the resident shares with the hub; others are never counted.
    """
    start_ms = int(start * 1000) // HOUR_MS * HOUR_MS
    end_ms = -(-int(end * 1000) // HOUR_MS) * HOUR_MS  # round up to the hour
    rows = store.summary_counts(start_ms / 1000, end_ms / 1000, camera_ids=set(camera_ids))
    return EventSummary(
        installation_id=installation_id,
        start_ms=start_ms,
        end_ms=end_ms,
        created_ms=_ms(time.time() if now is None else now),
        rows=tuple(SummaryRow(c, bucket * 1000, label, n) for c, bucket, label, n in rows),
    )


async def upload_summary(
    session: aiohttp.ClientSession,
    hub_url: str,
    key: Ed25519PrivateKey,
    summary: EventSummary,
    *,
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    """Send a signed summary; the hub replaces its counts for those hours. UploadError."""
    try:
        async with session.post(
            hub_url.rstrip("/") + SUMMARY_PATH,
            json=sign_summary(key, summary),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp:
            try:
                answer = await resp.json(content_type=None)
            except ValueError:
                answer = {}
            if resp.status != 200:
                code = answer.get("error", "") if isinstance(answer, dict) else ""
                raise UploadError(
                    f"the hub refused the summary: HTTP {resp.status} {code}", resp.status, code
                )
    except (aiohttp.ClientError, TimeoutError) as err:
        raise UploadError(f"could not upload the summary: {err!r}") from err
    # As in upload_evidence: the hub's JSON answer, passed on unvalidated.
    return answer  # type: ignore[no-any-return]
