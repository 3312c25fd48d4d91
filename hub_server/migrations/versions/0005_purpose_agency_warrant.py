"""Purpose, agency and warrant (issue 14): offense types, forbidden purposes, legal basis.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# NIBRS-style starter list (code, label, group); admins add, relabel or retire entries.
OFFENSE_TYPES = (
    ("09A", "Murder and nonnegligent manslaughter", "person"),
    ("100", "Kidnapping/abduction", "person"),
    ("11A", "Rape", "person"),
    ("13A", "Aggravated assault", "person"),
    ("13B", "Simple assault", "person"),
    ("120", "Robbery", "property"),
    ("200", "Arson", "property"),
    ("220", "Burglary/breaking and entering", "property"),
    ("23F", "Theft from motor vehicle", "property"),
    ("23H", "All other larceny", "property"),
    ("240", "Motor vehicle theft", "property"),
    ("290", "Destruction/damage/vandalism of property", "property"),
    ("35A", "Drug/narcotic violations", "society"),
    ("520", "Weapon law violations", "society"),
    ("90Z", "All other offenses", "other"),
    ("MISSING", "Missing person", "other"),
    ("HITRUN", "Hit and run (traffic)", "other"),
)
FORBIDDEN_PURPOSES = (
    ("immigration_enforcement", "Immigration enforcement"),
    (
        "first_amendment_activity",
        "First-Amendment-protected activity (protest, assembly, speech, religion, press)",
    ),
)


def upgrade() -> None:
    offense_types = op.create_table(
        "offense_types",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("offense_group", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    forbidden = op.create_table(
        "forbidden_purposes",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
    )
    op.bulk_insert(
        offense_types,
        [
            {"code": c, "label": lb, "offense_group": g, "active": True}
            for c, lb, g in OFFENSE_TYPES
        ],
    )
    op.bulk_insert(forbidden, [{"code": c, "label": lb} for c, lb in FORBIDDEN_PURPOSES])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("offense_code", sa.String(32), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("offense_group", sa.String(16), nullable=False, server_default="")
        )
    with op.batch_alter_table("access_requests") as batch:
        batch.add_column(
            sa.Column("legal_basis", sa.String(16), nullable=False, server_default="consent")
        )
        batch.add_column(
            sa.Column("warrant_ref", sa.String(128), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("warrant_court", sa.String(128), nullable=False, server_default="")
        )
    with op.batch_alter_table("grants") as batch:
        batch.add_column(
            sa.Column("legal_basis", sa.String(16), nullable=False, server_default="consent")
        )
        batch.add_column(sa.Column("reviewed_at", sa.Double(), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("reviewed_by")
        batch.drop_column("reviewed_at")
        batch.drop_column("legal_basis")
    with op.batch_alter_table("access_requests") as batch:
        batch.drop_column("warrant_court")
        batch.drop_column("warrant_ref")
        batch.drop_column("legal_basis")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("offense_group")
        batch.drop_column("offense_code")
    op.drop_table("forbidden_purposes")
    op.drop_table("offense_types")
