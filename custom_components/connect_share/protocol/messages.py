"""Wire messages between an installation and the hub, and the binary media frame header.

Control messages are JSON objects ``{"v": 1, "type": "...", ...fields}``. Every message type
is a frozen dataclass registered under its ``type``; ``decode_message`` validates strictly
(unknown type, missing or unknown field, wrong type, oversize) and raises ``ProtocolError``
with a stable code, never anything else. Media travels as binary WebSocket frames:
``FrameHeader`` + JPEG bytes.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import types
import typing
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Union, get_args, get_origin

from . import safe_json
from .errors import ProtocolError
from .policy import CAMERA_MODES
from .purpose import Purpose

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024
MAX_FRAME_BYTES = 8 * 1024 * 1024
# A live session nobody watches ends after this many seconds (on both sides).
NO_VIEWER_GRACE_S = 5.0

# The only reasons an installation ever gives the hub when it refuses or ends something. The
# resident's real reason (paused, outside the schedule, purpose not allowed, ...) stays in the
# resident's own log: telling the hub "paused" would tell it when someone is home.
NEUTRAL_REFUSAL = "unavailable"
NEUTRAL_END = "ended"
NEUTRAL_REVOKE = "revoked_by_resident"
SNAPSHOT_SENT = "snapshot_sent"
NEUTRAL_REASONS = frozenset({NEUTRAL_REFUSAL, NEUTRAL_END, NEUTRAL_REVOKE, SNAPSHOT_SENT})


def neutral_reason(reason: str, *, refusal: bool = True) -> str:
    """The hub-visible form of any reason: one of ``NEUTRAL_REASONS``. Used by the
    installation before sending and by the hub on receipt (defence in depth)."""
    if reason in NEUTRAL_REASONS:
        return reason
    return NEUTRAL_REFUSAL if refusal else NEUTRAL_END


_REGISTRY: dict[str, type[Message]] = {}


@dataclass(frozen=True)
class Message:
    """Base of every control message; subclasses set ``TYPE``."""

    TYPE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE:
            _REGISTRY[cls.TYPE] = cls


# --- nested records ----------------------------------------------------------------------


@dataclass(frozen=True)
class CameraInfo:
    camera_id: str
    name: str
    mode: str
    lat: float | None = None
    lon: float | None = None
    heading_deg: float | None = None
    fov_deg: float | None = None
    masked: bool = False
    scopes: list[str] = dataclasses.field(default_factory=list)

    def validate(self) -> None:
        if self.mode not in CAMERA_MODES:
            raise ProtocolError("bad_field", f"mode must be one of {CAMERA_MODES}")
        if (self.lat is None) != (self.lon is None):
            raise ProtocolError("bad_field", "lat and lon go together")
        if self.lat is not None and not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):  # type: ignore[operator]
            raise ProtocolError("bad_field", "lat/lon out of range")


@dataclass(frozen=True)
class IncidentInfo:
    incident_id: str
    case_number: str
    incident_type: str
    reason: str
    lat: float
    lon: float
    radius_m: float
    officer_id: str
    officer_name: str
    badge: str
    # Agency, offense type and legal basis (``protocol.purpose``); absent from older hubs.
    purpose: Purpose | None = None


# --- connection and authentication -------------------------------------------------------


@dataclass(frozen=True)
class Hello(Message):
    """Installation -> hub, first message on a new socket."""

    TYPE: ClassVar[str] = "hello"
    installation_id: str
    client_version: str


@dataclass(frozen=True)
class Challenge(Message):
    """Hub -> installation: sign this nonce with your installation key."""

    TYPE: ClassVar[str] = "challenge"
    nonce: str
    hub_time: float


@dataclass(frozen=True)
class Auth(Message):
    TYPE: ClassVar[str] = "auth"
    installation_id: str
    nonce: str
    signature: str


@dataclass(frozen=True)
class AuthOk(Message):
    TYPE: ClassVar[str] = "auth_ok"
    installation_id: str
    hub_time: float
    jwks: dict[str, Any]


@dataclass(frozen=True)
class Ping(Message):
    TYPE: ClassVar[str] = "ping"
    ts: float


@dataclass(frozen=True)
class Pong(Message):
    TYPE: ClassVar[str] = "pong"
    ts: float


@dataclass(frozen=True)
class Error(Message):
    TYPE: ClassVar[str] = "error"
    code: str
    message: str = ""
    ref: str | None = None


# --- cameras, requests, decisions ---------------------------------------------------------


@dataclass(frozen=True)
class CameraSync(Message):
    """Installation -> hub: the full list of shared cameras (replaces the previous list)."""

    TYPE: ClassVar[str] = "camera_sync"
    cameras: list[CameraInfo]


@dataclass(frozen=True)
class AccessRequest(Message):
    """Hub -> installation: an incident asks for live view, snapshots or footage."""

    TYPE: ClassVar[str] = "access_request"
    request_id: str
    incident: IncidentInfo
    camera_ids: list[str]
    scope: str
    window_start: float | None = None
    window_end: float | None = None
    max_session_s: int = 900


@dataclass(frozen=True)
class Decision(Message):
    """Installation -> hub. Only approved cameras are named; the rest is 'no footage'.

    ``final=False`` approves some cameras now (e.g. ``auto`` ones) while the resident is
    still asked about the others; the hub adds later decisions until a final one.
    """

    TYPE: ClassVar[str] = "decision"
    request_id: str
    approved_camera_ids: list[str]
    max_session_s: int = 900
    max_fps: float = 5.0
    final: bool = True
    msg_id: str | None = None


@dataclass(frozen=True)
class Grant(Message):
    """Hub -> installation: the token issued for an approved request (for its own log)."""

    TYPE: ClassVar[str] = "grant"
    request_id: str
    token: str


# --- sessions and revocation --------------------------------------------------------------


@dataclass(frozen=True)
class SessionOpen(Message):
    """Hub -> installation: an officer wants frames now, under this token."""

    TYPE: ClassVar[str] = "session_open"
    session_id: str
    token: str
    camera_id: str
    scope: str
    fps: float = 2.0


@dataclass(frozen=True)
class SessionStarted(Message):
    TYPE: ClassVar[str] = "session_started"
    session_id: str
    fps: float


@dataclass(frozen=True)
class SessionClose(Message):
    """Either direction. The installation reports what it sent, for both audit logs."""

    TYPE: ClassVar[str] = "session_close"
    session_id: str
    reason: str
    frames_sent: int = 0
    duration_s: float = 0.0
    msg_id: str | None = None


@dataclass(frozen=True)
class Revoke(Message):
    """Either direction: revoke token ids, an incident, or everything (``all``)."""

    TYPE: ClassVar[str] = "revoke"
    reason: str
    token_ids: list[str] = dataclasses.field(default_factory=list)
    incident_id: str | None = None
    all: bool = False
    msg_id: str | None = None


@dataclass(frozen=True)
class Ack(Message):
    """Hub -> installation: the message with this ``msg_id`` is processed and durable at the
    hub. The installation's outbox keeps (and replays after reconnect) every message that
    carries a ``msg_id`` until its ack arrives; the hub processes each ``msg_id`` once."""

    TYPE: ClassVar[str] = "ack"
    msg_id: str


@dataclass(frozen=True)
class SessionViewers(Message):
    """Hub -> installation: how many officers' players receive this session's frames now.
    A session whose viewers stay at 0 for ``NO_VIEWER_GRACE_S`` is closed by the hub."""

    TYPE: ClassVar[str] = "session_viewers"
    session_id: str
    viewers: int


# --- audit cross-check -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFetch(Message):
    """Installation -> hub: send me the hub's audit entries about my cameras after ``since``."""

    TYPE: ClassVar[str] = "audit_fetch"
    since_seq: int = 0
    limit: int = 500


@dataclass(frozen=True)
class AuditEntries(Message):
    """Hub -> installation: entries with ``seq``, ``ts``, ``action``, ``detail``, ``hash``."""

    TYPE: ClassVar[str] = "audit_entries"
    entries: list[dict[str, Any]]
    more: bool = False


# --- encoding ----------------------------------------------------------------------------


def encode_message(msg: Message) -> str:
    body = {"v": PROTOCOL_VERSION, "type": msg.TYPE}
    body.update(_to_json(msg))
    return json.dumps(body, separators=(",", ":"))


def decode_message(raw: str | bytes | dict[str, Any]) -> Message:
    """Parse and validate one control message. Raises ``ProtocolError`` only."""
    if isinstance(raw, dict):
        data: Any = raw
    else:
        if len(raw) > MAX_MESSAGE_BYTES:
            raise ProtocolError("too_large", f"message over {MAX_MESSAGE_BYTES} bytes")
        data = safe_json.loads(raw)
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "a message is a JSON object")
    if data.get("v") != PROTOCOL_VERSION:
        raise ProtocolError("bad_version", f"expected v={PROTOCOL_VERSION}")
    msg_type = data.get("type")
    if not isinstance(msg_type, str) or (cls := _REGISTRY.get(msg_type)) is None:
        raise ProtocolError("unknown_type", str(msg_type)[:64])
    fields = {k: v for k, v in data.items() if k not in ("v", "type")}
    msg = _from_json(cls, fields, msg_type)
    if isinstance(msg, CameraSync):
        for camera in msg.cameras:
            camera.validate()
    if isinstance(msg, AccessRequest) and msg.incident.purpose is not None:
        try:
            msg.incident.purpose.validate()
        except ValueError as err:
            raise ProtocolError("bad_field", f"access_request.incident.purpose: {err}") from err
    return msg


def message_types() -> dict[str, type[Message]]:
    return dict(_REGISTRY)


def _to_json(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list | tuple):
        return [_to_json(v) for v in obj]
    return obj


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _from_json[T: DataclassInstance](cls: type[T], data: dict[str, Any], where: str) -> T:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ProtocolError("unknown_field", f"{where}: {sorted(unknown)[0]}")
    hints = _hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ProtocolError("missing_field", f"{where}.{name}")
            continue
        kwargs[name] = _coerce(hints[name], data[name], f"{where}.{name}")
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = get_args(hint)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ProtocolError("bad_field", f"{where}: expected a list")
        (inner,) = get_args(hint)
        return [_coerce(inner, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ProtocolError("bad_field", f"{where}: expected an object")
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ProtocolError("bad_field", f"{where}: expected an object")
        return _from_json(hint, value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise ProtocolError("bad_field", f"{where}: expected true/false")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ProtocolError("bad_field", f"{where}: expected an integer")
        return value
    if hint is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ProtocolError("bad_field", f"{where}: expected a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise ProtocolError("bad_field", f"{where}: not a finite number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ProtocolError("bad_field", f"{where}: expected a string")
        return value
    if hint is Any:
        return value
    raise ProtocolError("bad_field", f"{where}: unsupported type")  # pragma: no cover


# --- binary media frames ------------------------------------------------------------------

FRAME_MAGIC = b"CSF1"
FRAME_KIND_JPEG = 1
_FRAME_HEADER = struct.Struct("!4sB16sIQ")  # magic, kind, session uuid, seq, capture ms


@dataclass(frozen=True)
class FrameHeader:
    session_id: str  # 32 hex chars (uuid4().hex)
    seq: int
    captured_ms: int
    kind: int = FRAME_KIND_JPEG

    SIZE: ClassVar[int] = _FRAME_HEADER.size


def new_session_id() -> str:
    return uuid.uuid4().hex


def pack_frame(header: FrameHeader, payload: bytes) -> bytes:
    if len(payload) > MAX_FRAME_BYTES:
        raise ProtocolError("too_large", "frame payload too large")
    try:
        sid = uuid.UUID(hex=header.session_id).bytes
    except ValueError as err:
        raise ProtocolError("bad_field", "session_id must be 32 hex chars") from err
    return (
        _FRAME_HEADER.pack(FRAME_MAGIC, header.kind, sid, header.seq, header.captured_ms) + payload
    )


def unpack_frame(data: bytes) -> tuple[FrameHeader, bytes]:
    if len(data) < _FRAME_HEADER.size:
        raise ProtocolError("bad_frame", "shorter than the frame header")
    if len(data) > _FRAME_HEADER.size + MAX_FRAME_BYTES:
        raise ProtocolError("too_large", "frame too large")
    magic, kind, sid, seq, captured_ms = _FRAME_HEADER.unpack_from(data)
    if magic != FRAME_MAGIC:
        raise ProtocolError("bad_frame", "wrong magic")
    if kind != FRAME_KIND_JPEG:
        raise ProtocolError("bad_frame", f"unknown frame kind {kind}")
    header = FrameHeader(uuid.UUID(bytes=sid).hex, seq, captured_ms, kind)
    return header, data[_FRAME_HEADER.size :]
