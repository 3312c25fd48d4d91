"""Concurrent writers keep one unbroken audit chain (one process, and two on PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.hub_harness import running_hub

HOME = (33.7490, -84.3880)


async def test_parallel_requests_keep_the_chain(tmp_path: Path, database_url: str) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        api = hub.client(await hub.create_user(role="officer"))
        await asyncio.gather(*(api.open_incident(*HOME, case_number=f"C-{i}") for i in range(30)))
        report = await hub.verify_audit()
        assert report.ok and report.entries >= 32


@pytest.mark.postgres
async def test_two_hub_instances_share_one_chain(tmp_path: Path, postgres_server) -> None:
    url = postgres_server.create_database()
    async with (
        # Instances of one hub share its database and its key-encryption key.
        running_hub(tmp_path / "a", database_url=url, kek_file=str(tmp_path / "k")) as first,
        running_hub(tmp_path / "b", database_url=url, kek_file=str(tmp_path / "k")) as second,
    ):
        assert first.state.hub_id == second.state.hub_id
        user = await first.create_user(role="officer")
        a, b = first.client(user), second.client(user)
        await asyncio.gather(
            *((a if i % 2 else b).open_incident(*HOME, case_number=f"C-{i}") for i in range(40))
        )
        report = await first.verify_audit()
        assert report.ok and report.entries == 2 + 40  # user + token + 40 incidents
        jwks_a = await a.expect(200, "GET", "/.well-known/jwks.json")
        jwks_b = await b.expect(200, "GET", "/.well-known/jwks.json")
        assert jwks_a == jwks_b
