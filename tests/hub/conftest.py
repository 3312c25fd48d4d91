"""Hub test fixtures: a database URL per test, over SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_socket

from tests.hub.postgres import PostgresServer, PostgresUnavailable, start_postgres

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(autouse=True)
def _local_sockets(socket_enabled: None) -> None:
    """The hub tests run real servers on 127.0.0.1."""


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    pytest_socket.enable_socket()  # the free-port probe binds a socket before any test
    try:
        server = start_postgres()
    except PostgresUnavailable as err:
        pytest.fail(str(err))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: a SQLite file in tmp_path, or a new database on the PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()
