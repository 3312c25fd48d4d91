"""Chain of custody for shared footage (signed manifests) and signed event summaries.

The installation describes each file it uploads (who, which camera, which request, size,
sha256, the event's time span) in a manifest, encodes it as canonical JSON and signs it
with its Ed25519 installation key. The hub checks the signature against the key it
recorded at enrollment before storing anything; an officer (or a court) later checks a
downloaded file against the manifest with nothing but the manifest and the public key.

Canonical JSON here: UTF-8, keys sorted, no whitespace, ASCII only (non-ASCII escaped),
and integers only (times in unix milliseconds), so every implementation produces the same
bytes. The signature covers a domain-separation prefix plus those bytes, so it can never
be confused with an auth-challenge signature from the same key (see ``keys.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import ProtocolError
from .keys import b64url_decode, b64url_encode

EVIDENCE_CONTEXT = b"connect-share/evidence-manifest/v1\x00"
MANIFEST_VERSION = 1
CONTENT_TYPES = ("image/jpeg", "video/mp4")
MAX_FILE_BYTES = 2 * 1024**3

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LABEL = re.compile(r"^[a-z0-9 _-]{1,40}$")


class EvidenceMismatch(ProtocolError):
    """A file does not match its manifest (size or sha256)."""

    def __init__(self, detail: str) -> None:
        super().__init__("evidence_mismatch", detail)


@dataclass(frozen=True, slots=True)
class EvidenceManifest:
    installation_id: str
    camera_id: str
    incident_id: str
    request_id: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    event_start_ms: int
    event_end_ms: int
    created_ms: int
    event_id: str = ""
    labels: tuple[str, ...] = field(default_factory=tuple)
    masked: bool = False  # the resident's privacy masks were applied to this file
    version: int = MANIFEST_VERSION

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "installation_id": self.installation_id,
            "camera_id": self.camera_id,
            "incident_id": self.incident_id,
            "request_id": self.request_id,
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "event_start_ms": self.event_start_ms,
            "event_end_ms": self.event_end_ms,
            "created_ms": self.created_ms,
            "event_id": self.event_id,
            "labels": list(self.labels),
            "masked": self.masked,
        }

    def canonical(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> EvidenceManifest:
        """Strict: unknown keys, wrong types or a missing field are ProtocolError."""
        if not isinstance(data, Mapping):
            raise ProtocolError("bad_manifest", "a manifest is a JSON object")
        expected = set(cls(**_EXAMPLE).to_dict())
        keys = set(data)
        if keys != expected:
            missing, extra = sorted(expected - keys), sorted(keys - expected)
            raise ProtocolError("bad_manifest", f"missing {missing}, unexpected {extra}")
        if type(data["v"]) is not int or data["v"] != MANIFEST_VERSION:
            raise ProtocolError("bad_manifest", f"unsupported manifest version {data['v']!r}")
        labels = data["labels"]
        if not isinstance(labels, list):
            raise ProtocolError("bad_manifest", "labels must be a list")
        return cls(
            installation_id=data["installation_id"],
            camera_id=data["camera_id"],
            incident_id=data["incident_id"],
            request_id=data["request_id"],
            file_name=data["file_name"],
            content_type=data["content_type"],
            size=data["size"],
            sha256=data["sha256"],
            event_start_ms=data["event_start_ms"],
            event_end_ms=data["event_end_ms"],
            created_ms=data["created_ms"],
            event_id=data["event_id"],
            labels=tuple(labels),
            masked=data["masked"],
        )


def _validate(m: EvidenceManifest) -> None:
    def bad(what: str) -> ProtocolError:
        return ProtocolError("bad_manifest", what)

    for name in ("installation_id", "camera_id", "incident_id", "request_id"):
        value = getattr(m, name)
        if not isinstance(value, str) or not _ID.match(value):
            raise bad(f"{name} must be an id (letters, digits, ._:@/-; at most 128)")
    if not isinstance(m.event_id, str) or (m.event_id and not _ID.match(m.event_id)):
        raise bad("event_id must be an id or empty")
    if not isinstance(m.file_name, str) or not _FILE_NAME.match(m.file_name):
        raise bad("file_name must be a plain file name (letters, digits, ._-)")
    if m.content_type not in CONTENT_TYPES:
        raise bad(f"content_type must be one of {CONTENT_TYPES}")
    for name in ("size", "event_start_ms", "event_end_ms", "created_ms", "version"):
        value = getattr(m, name)
        # bool is an int in Python; JSON true is not a number.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad(f"{name} must be a non-negative integer")
    if not 0 < m.size <= MAX_FILE_BYTES:
        raise bad(f"size must be 1..{MAX_FILE_BYTES}")
    if not isinstance(m.sha256, str) or not _SHA256.match(m.sha256):
        raise bad("sha256 must be 64 lowercase hex digits")
    if m.event_end_ms < m.event_start_ms:
        raise bad("event_end_ms is before event_start_ms")
    if not isinstance(m.masked, bool):
        raise bad("masked must be true or false")
    if not isinstance(m.labels, tuple) or len(m.labels) > 50:
        raise bad("labels must be a list of at most 50 labels")
    for label in m.labels:
        if not isinstance(label, str) or not _LABEL.match(label):
            raise bad(f"bad label {label!r}")


_EXAMPLE: dict[str, Any] = {
    "installation_id": "i",
    "camera_id": "c",
    "incident_id": "n",
    "request_id": "r",
    "file_name": "f.jpg",
    "content_type": "image/jpeg",
    "size": 1,
    "sha256": "0" * 64,
    "event_start_ms": 0,
    "event_end_ms": 0,
    "created_ms": 0,
}


def canonical_json(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def manifest_payload(manifest: EvidenceManifest) -> bytes:
    """The exact bytes the installation key signs."""
    return EVIDENCE_CONTEXT + manifest.canonical()


def sign_manifest(key: Ed25519PrivateKey, manifest: EvidenceManifest) -> dict[str, Any]:
    """The signed manifest as sent and stored: ``{"manifest": {...}, "signature": b64url}``."""
    return {
        "manifest": manifest.to_dict(),
        "signature": b64url_encode(key.sign(manifest_payload(manifest))),
    }


def verify_manifest(public_key: Ed25519PublicKey, signed: Any) -> EvidenceManifest:
    """The manifest if the signature is the installation's; ProtocolError otherwise."""
    if not isinstance(signed, Mapping) or set(signed) != {"manifest", "signature"}:
        raise ProtocolError("bad_manifest", "expected {manifest, signature}")
    manifest = EvidenceManifest.from_dict(signed["manifest"])
    signature = b64url_decode(signed["signature"])
    try:
        public_key.verify(signature, manifest_payload(manifest))
    except InvalidSignature as err:
        raise ProtocolError("bad_signature", "the manifest signature does not verify") from err
    return manifest


# -- one-time upload ids ---------------------------------------------------------------
# The hub checks a signed manifest (``POST /api/v1/evidence/uploads``) and answers a random
# one-time upload id; the file is then sent to that id with the installation's signature
# over it in ``UPLOAD_SIGNATURE_HEADER``. The hub checks that signature before it reads a
# byte of the file, so nobody but the installation can spend the id (or get an
# ``evidence.rejected`` entry written in its name). Own context: it cannot stand in for a
# manifest, summary or auth-challenge signature.

UPLOAD_CONTEXT = b"connect-share/evidence-upload/v1\x00"
UPLOAD_SIGNATURE_HEADER = "X-Connect-Share-Upload-Signature"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def upload_payload(upload_id: str) -> bytes:
    """The exact bytes the installation key signs to spend ``upload_id``."""
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise ProtocolError("bad_upload_id", "an upload id is 32 lowercase hex digits")
    return UPLOAD_CONTEXT + upload_id.encode("ascii")


def sign_upload_id(key: Ed25519PrivateKey, upload_id: str) -> str:
    """The header value (base64url signature) for sending the file to ``upload_id``."""
    return b64url_encode(key.sign(upload_payload(upload_id)))


def verify_upload_signature(public_key: Ed25519PublicKey, upload_id: str, signature: Any) -> None:
    """ProtocolError ``bad_signature`` unless ``signature`` is the key's over ``upload_id``."""
    payload = upload_payload(upload_id)
    if not isinstance(signature, str) or not signature or len(signature) > 200:
        raise ProtocolError("bad_signature", "the upload signature is missing or malformed")
    try:
        public_key.verify(b64url_decode(signature), payload)
    except (InvalidSignature, ProtocolError, ValueError) as err:
        raise ProtocolError("bad_signature", "the upload signature does not verify") from err


def digest_chunks(chunks: Iterable[bytes]) -> tuple[int, str]:
    size, digest = 0, hashlib.sha256()
    for chunk in chunks:
        size += len(chunk)
        digest.update(chunk)
    return size, digest.hexdigest()


def file_digest(path: str | Path) -> tuple[int, str]:
    """(size, sha256 hex) of a file, read in 1 MiB chunks."""
    with Path(path).open("rb") as handle:
        return digest_chunks(iter(lambda: handle.read(1024 * 1024), b""))


def check_digest(manifest: EvidenceManifest, size: int, sha256: str) -> None:
    if size != manifest.size:
        raise EvidenceMismatch(f"size is {size} bytes, the manifest says {manifest.size}")
    if sha256 != manifest.sha256:
        raise EvidenceMismatch(f"sha256 is {sha256}, the manifest says {manifest.sha256}")


def verify_file(manifest: EvidenceManifest, path: str | Path) -> None:
    """EvidenceMismatch unless the file has exactly the manifest's size and sha256."""
    check_digest(manifest, *file_digest(path))


# -- event summaries ---------------------------------------------------------------------
# Counts of detection events by camera, hour and label: no ids, boxes or pictures. Sent
# only if the resident allows it, so the hub can answer "which cameras saw a person
# between 14:00 and 15:00" before anyone asks for footage. Signed like a manifest, under
# its own context, so neither signature can stand in for the other.

SUMMARY_CONTEXT = b"connect-share/event-summary/v1\x00"
HOUR_MS = 3_600_000
MAX_SUMMARY_ROWS = 20_000
MAX_SUMMARY_SPAN_MS = 31 * 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class SummaryRow:
    camera_id: str
    hour_ms: int  # start of the UTC hour
    label: str
    count: int

    def to_list(self) -> list[Any]:
        return [self.camera_id, self.hour_ms, self.label, self.count]


@dataclass(frozen=True, slots=True)
class EventSummary:
    """The counts for every hour in [start_ms, end_ms): hours without a row had none."""

    installation_id: str
    start_ms: int
    end_ms: int
    created_ms: int
    rows: tuple[SummaryRow, ...]
    version: int = MANIFEST_VERSION

    def __post_init__(self) -> None:
        _validate_summary(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "installation_id": self.installation_id,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "created_ms": self.created_ms,
            "rows": [row.to_list() for row in self.rows],
        }

    @classmethod
    def from_dict(cls, data: Any) -> EventSummary:
        if not isinstance(data, Mapping):
            raise ProtocolError("bad_summary", "a summary is a JSON object")
        expected = {"v", "installation_id", "start_ms", "end_ms", "created_ms", "rows"}
        if set(data) != expected:
            raise ProtocolError("bad_summary", f"expected exactly the keys {sorted(expected)}")
        if type(data["v"]) is not int or data["v"] != MANIFEST_VERSION:
            raise ProtocolError("bad_summary", f"unsupported summary version {data['v']!r}")
        rows = data["rows"]
        if not isinstance(rows, list) or len(rows) > MAX_SUMMARY_ROWS:
            raise ProtocolError("bad_summary", f"rows must be a list of at most {MAX_SUMMARY_ROWS}")
        parsed = []
        for row in rows:
            if not isinstance(row, list) or len(row) != 4:
                raise ProtocolError("bad_summary", "each row is [camera_id, hour_ms, label, count]")
            parsed.append(SummaryRow(*row))
        return cls(
            installation_id=data["installation_id"],
            start_ms=data["start_ms"],
            end_ms=data["end_ms"],
            created_ms=data["created_ms"],
            rows=tuple(parsed),
        )


def _validate_summary(s: EventSummary) -> None:
    def bad(what: str) -> ProtocolError:
        return ProtocolError("bad_summary", what)

    if not isinstance(s.installation_id, str) or not _ID.match(s.installation_id):
        raise bad("installation_id must be an id")
    for name in ("start_ms", "end_ms", "created_ms"):
        value = getattr(s, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad(f"{name} must be a non-negative integer")
    if s.start_ms % HOUR_MS or s.end_ms % HOUR_MS or s.end_ms <= s.start_ms:
        raise bad("start_ms and end_ms are whole hours, start before end")
    if s.end_ms - s.start_ms > MAX_SUMMARY_SPAN_MS:
        raise bad("a summary covers at most 31 days")
    if not isinstance(s.rows, tuple) or len(s.rows) > MAX_SUMMARY_ROWS:
        raise bad(f"at most {MAX_SUMMARY_ROWS} rows")
    seen = set()
    for row in s.rows:
        if not isinstance(row, SummaryRow):
            raise bad("rows must be SummaryRow")
        if not isinstance(row.camera_id, str) or not _ID.match(row.camera_id):
            raise bad("row camera_id must be an id")
        if not isinstance(row.label, str) or not _LABEL.match(row.label):
            raise bad(f"bad label {row.label!r}")
        for name in ("hour_ms", "count"):
            value = getattr(row, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise bad(f"row {name} must be a non-negative integer")
        if row.hour_ms % HOUR_MS or not s.start_ms <= row.hour_ms < s.end_ms:
            raise bad("row hour_ms must be a whole hour inside [start_ms, end_ms)")
        if not 0 < row.count <= 1_000_000:
            raise bad("row count must be 1..1000000")
        key = (row.camera_id, row.hour_ms, row.label)
        if key in seen:
            raise bad("duplicate row")
        seen.add(key)


def sign_summary(key: Ed25519PrivateKey, summary: EventSummary) -> dict[str, Any]:
    payload = SUMMARY_CONTEXT + canonical_json(summary.to_dict())
    return {"summary": summary.to_dict(), "signature": b64url_encode(key.sign(payload))}


def verify_summary(public_key: Ed25519PublicKey, signed: Any) -> EventSummary:
    if not isinstance(signed, Mapping) or set(signed) != {"summary", "signature"}:
        raise ProtocolError("bad_summary", "expected {summary, signature}")
    summary = EventSummary.from_dict(signed["summary"])
    payload = SUMMARY_CONTEXT + canonical_json(summary.to_dict())
    try:
        public_key.verify(b64url_decode(signed["signature"]), payload)
    except InvalidSignature as err:
        raise ProtocolError("bad_signature", "the summary signature does not verify") from err
    return summary
