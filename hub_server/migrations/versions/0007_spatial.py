"""Spatial index for the radius search: SQLite R*Tree, PostgreSQL GiST on point(lon, lat).

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-10
"""

from __future__ import annotations

from alembic import op

from hub_server import spatial

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in (*spatial.SQLITE_DDL, *spatial.SQLITE_REBUILD):
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in spatial.POSTGRES_DDL:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    statements = spatial.SQLITE_DROP if dialect == "sqlite" else spatial.POSTGRES_DROP
    for statement in statements:
        op.execute(statement)
