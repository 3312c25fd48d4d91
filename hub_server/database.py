"""Engine, sessions and migrations for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .kek import private_file

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Any constant shared by every hub instance: PostgreSQL serialises audit appends on it.
_AUDIT_LOCK_KEY = 0x43534855  # "CSHU"


def normalise_url(url: str) -> str:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs and pick the async drivers."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def private_sqlite_file(url: str) -> None:
    """A SQLite database file is created 0600 (its WAL and SHM files inherit the mode)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        private_file(Path(parsed.database))


def make_engine(url: str) -> AsyncEngine:
    url = normalise_url(url)
    # hide_parameters: SQL logs and errors never show values (keys, hashes, tokens).
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # Explicit, not the build's default: every commit is fsynced before it returns,
            # so a grant is durable before its token leaves (NORMAL in WAL mode is not).
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    elif engine.dialect.name == "postgresql":
        # Group commit inserts hundreds of rows per table: one multi-row INSERT per page
        # (one round trip, one statement for the server) instead of a Bind/Execute per row.
        engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


class Database:
    """Sessions for reads, and one serialised writer per hub process.

    Writes go through ``write()``: an in-process lock keeps this instance's transactions
    from racing for the audit chain's next ``seq``; on PostgreSQL an advisory lock taken by
    ``lock_audit`` does the same across instances.
    """

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        private_sqlite_file(self.url)
        self.engine = make_engine(self.url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any error."""
        async with self._write_lock, self.sessions() as session, session.begin():
            yield session

    async def lock_audit(self, session: AsyncSession) -> None:
        if self.dialect == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic upgrade)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _upgrade(sync_connection: Any, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_connection
    command.upgrade(cfg, revision)
