"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

D = sa.Double
S = sa.String


def upgrade() -> None:
    op.create_table(
        "hub_meta",
        sa.Column("key", S(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", S(64), primary_key=True),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_b64", S(64), nullable=False),
        sa.Column("created_at", D(), nullable=False),
        sa.Column("retired_at", D(), nullable=True),
    )
    op.create_table(
        "users",
        sa.Column("id", S(32), primary_key=True),
        sa.Column("username", S(64), nullable=False, unique=True),
        sa.Column("display_name", S(128), nullable=False),
        sa.Column("badge", S(32), nullable=False),
        sa.Column("role", S(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", D(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", S(32), primary_key=True),
        sa.Column("user_id", S(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", S(64), nullable=False, unique=True),
        sa.Column("name", S(128), nullable=False),
        sa.Column("created_at", D(), nullable=False),
        sa.Column("expires_at", D(), nullable=False),
        sa.Column("revoked_at", D(), nullable=True),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", S(64), primary_key=True),
        sa.Column("user_id", S(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf_token", S(64), nullable=False),
        sa.Column("created_at", D(), nullable=False),
        sa.Column("expires_at", D(), nullable=False),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "enrollment_codes",
        sa.Column("code_hash", S(64), primary_key=True),
        sa.Column("created_by", S(32), nullable=True),
        sa.Column("note", S(200), nullable=False),
        sa.Column("created_at", D(), nullable=False),
        sa.Column("expires_at", D(), nullable=False),
        sa.Column("used_at", D(), nullable=True),
        sa.Column("installation_id", S(32), nullable=True),
    )
    op.create_table(
        "installations",
        sa.Column("id", S(32), primary_key=True),
        sa.Column("name", S(128), nullable=False),
        sa.Column("public_key", S(64), nullable=False, unique=True),
        sa.Column("client_version", S(64), nullable=False),
        sa.Column("enrolled_at", D(), nullable=False),
        sa.Column("last_seen_at", D(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("removed_at", D(), nullable=True),
    )
    op.create_table(
        "cameras",
        sa.Column("installation_id", S(32), sa.ForeignKey("installations.id"), primary_key=True),
        sa.Column("camera_id", S(128), primary_key=True),
        sa.Column("name", S(128), nullable=False),
        sa.Column("mode", S(16), nullable=False),
        sa.Column("lat", D(), nullable=True),
        sa.Column("lon", D(), nullable=True),
        sa.Column("heading_deg", D(), nullable=True),
        sa.Column("fov_deg", D(), nullable=True),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("updated_at", D(), nullable=False),
    )
    op.create_index("ix_cameras_lat_lon", "cameras", ["lat", "lon"])
    op.create_table(
        "incidents",
        sa.Column("id", S(32), primary_key=True),
        sa.Column("case_number", S(64), nullable=False),
        sa.Column("incident_type", S(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lat", D(), nullable=False),
        sa.Column("lon", D(), nullable=False),
        sa.Column("radius_m", D(), nullable=False),
        sa.Column("window_start", D(), nullable=True),
        sa.Column("window_end", D(), nullable=True),
        sa.Column("created_by", S(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", D(), nullable=False),
        sa.Column("closed_at", D(), nullable=True),
    )
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])
    op.create_table(
        "access_requests",
        sa.Column("id", S(32), primary_key=True),
        sa.Column("incident_id", S(32), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("installation_id", S(32), sa.ForeignKey("installations.id"), nullable=False),
        sa.Column("scope", S(16), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("window_start", D(), nullable=True),
        sa.Column("window_end", D(), nullable=True),
        sa.Column("created_by", S(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", D(), nullable=False),
        sa.Column("expires_at", D(), nullable=False),
        sa.Column("status", S(16), nullable=False),
        sa.Column("answered_at", D(), nullable=True),
        sa.Column("approved_camera_ids", sa.JSON(), nullable=False),
    )
    op.create_index("ix_access_requests_incident_id", "access_requests", ["incident_id"])
    op.create_index("ix_access_requests_installation_id", "access_requests", ["installation_id"])
    op.create_index("ix_access_requests_created_at", "access_requests", ["created_at"])
    op.create_table(
        "grants",
        sa.Column("id", S(32), primary_key=True),
        sa.Column("request_id", S(32), sa.ForeignKey("access_requests.id"), nullable=False),
        sa.Column("incident_id", S(32), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("installation_id", S(32), sa.ForeignKey("installations.id"), nullable=False),
        sa.Column("officer_id", S(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("scope", S(16), nullable=False),
        sa.Column("window_start", D(), nullable=True),
        sa.Column("window_end", D(), nullable=True),
        sa.Column("kid", S(64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", D(), nullable=False),
        sa.Column("expires_at", D(), nullable=False),
        sa.Column("max_fps", D(), nullable=False),
        sa.Column("revoked_at", D(), nullable=True),
        sa.Column("revoked_by", S(64), nullable=True),
        sa.Column("revoke_reason", S(200), nullable=True),
    )
    op.create_index("ix_grants_request_id", "grants", ["request_id"])
    op.create_index("ix_grants_incident_id", "grants", ["incident_id"])
    op.create_index("ix_grants_installation_id", "grants", ["installation_id"])
    op.create_index("ix_grants_issued_at", "grants", ["issued_at"])
    op.create_table(
        "live_sessions",
        sa.Column("id", S(32), primary_key=True),
        sa.Column("grant_id", S(32), sa.ForeignKey("grants.id"), nullable=False),
        sa.Column("incident_id", S(32), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("installation_id", S(32), sa.ForeignKey("installations.id"), nullable=False),
        sa.Column("camera_id", S(128), nullable=False),
        sa.Column("opened_by", S(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("opened_at", D(), nullable=False),
        sa.Column("started_at", D(), nullable=True),
        sa.Column("ended_at", D(), nullable=True),
        sa.Column("end_reason", S(64), nullable=True),
        sa.Column("frames_relayed", sa.Integer(), nullable=False),
    )
    op.create_index("ix_live_sessions_grant_id", "live_sessions", ["grant_id"])
    op.create_index("ix_live_sessions_opened_at", "live_sessions", ["opened_at"])
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("ts", D(), nullable=False),
        sa.Column("action", S(64), nullable=False),
        sa.Column("actor", S(64), nullable=False),
        sa.Column("installation_id", S(32), nullable=True),
        sa.Column("incident_id", S(32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", S(64), nullable=False),
        sa.Column("hash", S(64), nullable=False, unique=True),
        sa.UniqueConstraint("prev_hash", name="uq_audit_prev_hash"),
    )
    op.create_index("ix_audit_installation_seq", "audit_entries", ["installation_id", "seq"])
    _make_audit_append_only()


def _make_audit_append_only() -> None:
    """The database itself refuses UPDATE and DELETE on the audit log."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_no_change ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    for table in (
        "audit_entries",
        "live_sessions",
        "grants",
        "access_requests",
        "incidents",
        "cameras",
        "installations",
        "enrollment_codes",
        "web_sessions",
        "api_tokens",
        "users",
        "signing_keys",
        "hub_meta",
    ):
        op.drop_table(table)
