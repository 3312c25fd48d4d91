"""Alembic environment: runs on the connection ``hub_server.database.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from hub_server.models import Base
from hub_server.spatial import include_name

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through hub_server.database
    raise RuntimeError("run migrations with `connect-share-hub migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_name=include_name,
    # SQLite cannot ALTER most things; batch mode rebuilds tables for later migrations.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
