"""Database tables. Times are float epoch seconds (same on SQLite and PostgreSQL).

The Alembic migrations in ``migrations/versions`` create exactly these tables; a test
compares the two so they cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("admin", "supervisor", "analyst", "officer")


class Base(DeclarativeBase):
    pass


class HubMeta(Base):
    """Key/value facts about this hub (its id)."""

    __tablename__ = "hub_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SigningKey(Base):
    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_b64: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    # NULL while current; set when a newer key takes over (kept in the JWKS for a while).
    retired_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    badge: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Double)


class ApiToken(Base):
    """Bearer tokens for scripts; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    revoked_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class WebSession(Base):
    """Console login sessions (cookie); stored so several hub instances share them."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)


class EnrollmentCode(Base):
    __tablename__ = "enrollment_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    used_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    installation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Installation(Base):
    __tablename__ = "installations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    client_version: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[float] = mapped_column(Double)
    last_seen_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class Camera(Base):
    __tablename__ = "cameras"
    installation_id: Mapped[str] = mapped_column(ForeignKey("installations.id"), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Double, nullable=True)
    lon: Mapped[float | None] = mapped_column(Double, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Double, nullable=True)
    fov_deg: Mapped[float | None] = mapped_column(Double, nullable=True)
    masked: Mapped[bool] = mapped_column(Boolean, default=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[float] = mapped_column(Double)

    # The radius search narrows by this bounding-box index, then checks exact distance.
    __table_args__ = (Index("ix_cameras_lat_lon", "lat", "lon"),)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64))
    incident_type: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    radius_m: Mapped[float] = mapped_column(Double)
    window_start: Mapped[float | None] = mapped_column(Double, nullable=True)
    window_end: Mapped[float | None] = mapped_column(Double, nullable=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[float] = mapped_column(Double, index=True)
    closed_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    # The allowed offense type (``offense_types``) and its group at the time (issue 14).
    offense_code: Mapped[str] = mapped_column(String(32), default="")
    offense_group: Mapped[str] = mapped_column(String(16), default="")


class OffenseType(Base):
    """An offense type officers may name (admin-managed, NIBRS-style starter list)."""

    __tablename__ = "offense_types"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(128))
    offense_group: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ForbiddenPurpose(Base):
    """A purpose the city never allows (immigration enforcement, First-Amendment activity)."""

    __tablename__ = "forbidden_purposes"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class IncidentOfficer(Base):
    """An officer assigned to an incident (besides the one who opened it)."""

    __tablename__ = "incident_officers"
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    assigned_by: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[float] = mapped_column(Double)


class AccessRequestRow(Base):
    """One request to one installation (an incident's request fans out into several)."""

    __tablename__ = "access_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    installation_id: Mapped[str] = mapped_column(ForeignKey("installations.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    camera_ids: Mapped[list[str]] = mapped_column(JSON)
    window_start: Mapped[float | None] = mapped_column(Double, nullable=True)
    window_end: Mapped[float | None] = mapped_column(Double, nullable=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[float] = mapped_column(Double, index=True)
    expires_at: Mapped[float] = mapped_column(Double)
    # pending -> answered | expired. The officer sees only approved cameras or "no footage".
    status: Mapped[str] = mapped_column(String(16), default="pending")
    answered_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    approved_camera_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # consent | exigent | warrant (with the warrant's reference and issuing court).
    legal_basis: Mapped[str] = mapped_column(String(16), default="consent")
    warrant_ref: Mapped[str] = mapped_column(String(128), default="")
    warrant_court: Mapped[str] = mapped_column(String(128), default="")


class GrantRow(Base):
    """An issued access token (``id`` is its ``jti``); the token itself is not stored."""

    __tablename__ = "grants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.id"), index=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    installation_id: Mapped[str] = mapped_column(ForeignKey("installations.id"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    camera_ids: Mapped[list[str]] = mapped_column(JSON)
    scope: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[float | None] = mapped_column(Double, nullable=True)
    window_end: Mapped[float | None] = mapped_column(Double, nullable=True)
    kid: Mapped[str] = mapped_column(String(64))
    # Not the token (issue 12 item 2): its hash and the unsigned parts, re-signed when
    # needed (hub_server/grant_tokens.py).
    token_sha256: Mapped[str] = mapped_column(String(64))
    token_header: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[float] = mapped_column(Double, index=True)
    expires_at: Mapped[float] = mapped_column(Double)
    max_fps: Mapped[float] = mapped_column(Double, default=5.0)
    revoked_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    legal_basis: Mapped[str] = mapped_column(String(16), default="consent")
    # Supervisor review of accesses without a warrant.
    reviewed_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class LiveSessionRow(Base):
    __tablename__ = "live_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), index=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    installation_id: Mapped[str] = mapped_column(ForeignKey("installations.id"))
    camera_id: Mapped[str] = mapped_column(String(128))
    opened_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[float] = mapped_column(Double, index=True)
    started_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    frames_relayed: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Append-only (database triggers refuse UPDATE and DELETE), hash-chained by ``seq``."""

    __tablename__ = "audit_entries"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[float] = mapped_column(Double)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    installation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    incident_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Canonical JSON text: hashed exactly as stored, so no database can reformat it.
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_installation_seq", "installation_id", "seq"),
        UniqueConstraint("prev_hash", name="uq_audit_prev_hash"),
    )


class ProcessedMessage(Base):
    """An installation message with a ``msg_id`` the hub has processed (and acked).

    Written in the transaction that processed the message, so a replay after a crash or a
    reconnect is recognised and only acked again. Kept ``processed_message_retention_days``.
    """

    __tablename__ = "processed_messages"
    installation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[float] = mapped_column(Double, index=True)


class EvidenceUpload(Base):
    """A one-time upload id for one checked, signed evidence manifest (issue 12 item 8).

    ``manifest_sha256`` (of the manifest's canonical JSON) is unique, so a signed manifest
    can be turned into an upload id only once; the row is kept after use for that reason
    (pruned once the manifest is too old to be accepted anyway).
    """

    __tablename__ = "evidence_uploads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    installation_id: Mapped[str] = mapped_column(ForeignKey("installations.id"))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    signed_manifest: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double, index=True)
    expires_at: Mapped[float] = mapped_column(Double)
    used_at: Mapped[float | None] = mapped_column(Double, nullable=True)

    __table_args__ = (
        UniqueConstraint("manifest_sha256", name="uq_evidence_uploads_manifest_sha256"),
    )


class LoginFailure(Base):
    """One failed login, keyed ``ip:<address>`` and again ``user:<username>``.

    In the database rather than in memory so that every instance counts every failure
    (``auth.LoginRateLimiter``); one row per failure, so concurrent failures are inserts
    that cannot overwrite each other. Rows older than ``login_window_s`` are pruned.
    """

    __tablename__ = "login_failures"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[float] = mapped_column(Double, index=True)

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)
