"""One-time evidence upload ids (issue 12 item 8).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "installation_id", sa.String(32), sa.ForeignKey("installations.id"), nullable=False
        ),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("signed_manifest", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.UniqueConstraint("manifest_sha256", name="uq_evidence_uploads_manifest_sha256"),
    )
    op.create_index("ix_evidence_uploads_created_at", "evidence_uploads", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_evidence_uploads_created_at", table_name="evidence_uploads")
    op.drop_table("evidence_uploads")
