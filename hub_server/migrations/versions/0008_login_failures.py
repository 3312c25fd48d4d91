"""Failed logins in the database, shared by every hub instance (issue 13).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
    )
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_key_at", "login_failures")
    op.drop_index("ix_login_failures_at", "login_failures")
    op.drop_table("login_failures")
