"""Grants keep the token's hash and claims, not the token (issue 12 item 2).

Each existing ``grants.token`` is split into its JOSE header and claims (JSON text) and
hashed; the token column is then blanked and dropped. On SQLite ``secure_delete`` is set
first so the freed pages are overwritten with zeros; on PostgreSQL run ``VACUUM FULL
grants`` afterwards to drop the old row versions (docs/operations.md). The hub re-signs a
grant's token when it needs it (``hub_server/grant_tokens.py``).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import base64
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    with op.batch_alter_table("grants") as batch:
        batch.add_column(
            sa.Column("token_sha256", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("token_header", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("claims", sa.Text(), nullable=False, server_default=""))
    grants = sa.table(
        "grants",
        sa.column("id", sa.String),
        sa.column("token", sa.Text),
        sa.column("token_sha256", sa.String),
        sa.column("token_header", sa.Text),
        sa.column("claims", sa.Text),
    )
    for grant_id, token in bind.execute(sa.select(grants.c.id, grants.c.token)).all():
        header, payload, _signature = (token or "..").split(".")[:3]
        bind.execute(
            grants.update()
            .where(grants.c.id == grant_id)
            .values(
                token_sha256=hashlib.sha256((token or "").encode("ascii")).hexdigest(),
                token_header=_unb64(header),
                claims=_unb64(payload),
                token="",  # blanked before the column goes
            )
        )
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("token")


def downgrade() -> None:
    # The tokens cannot come back without the signing keys: old grants get an empty token
    # (an installation refuses it; they expire within the hour anyway).
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("token", sa.Text(), nullable=False, server_default=""))
        batch.drop_column("claims")
        batch.drop_column("token_header")
        batch.drop_column("token_sha256")
