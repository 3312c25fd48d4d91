"""Issue 12 item 7: failed logins slow the guesser down without locking anybody out.

Five wrong passwords for one user used to lock that user's correct password, from
everywhere, and every user of the same address, for 900 s.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from hub_server.auth import LoginRateLimiter
from hub_server.database import Database, migrate
from hub_server.models import LoginFailure
from tests.hub.postgres import PostgresServer
from tests.hub_harness import HubHarness, HubUser, running_hub


async def login_from(hub: HubHarness, address: str, username: str, password: str) -> tuple:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.post(
            hub.url + "/api/v1/auth/login", json={"username": username, "password": password}
        ) as resp,
    ):
        return resp.status, await resp.json()


async def test_wrong_passwords_do_not_lock_out_others(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        alice: HubUser = await hub.create_user(role="officer", username="alice")
        bob: HubUser = await hub.create_user(role="officer", username="bob")
        for _ in range(5):
            status, _ = await login_from(hub, "127.0.0.2", "alice", "wrong password!")
            assert status == 401
        # The guessing address is slowed down for alice, with a Retry-After.
        status, body = await login_from(hub, "127.0.0.2", "alice", alice.password)
        assert status == 429 and body["retry_after"] >= 1
        # Alice, from an address that has not failed, logs in with her password.
        status, body = await login_from(hub, "127.0.0.1", "alice", alice.password)
        assert status == 200, body
        # Bob, from the very address that failed, is not locked out.
        status, body = await login_from(hub, "127.0.0.2", "bob", bob.password)
        assert status == 200, body


async def test_an_address_spraying_usernames_is_slowed_alone(tmp_path: Path) -> None:
    async with running_hub(tmp_path, login_max_failures_per_address=6) as hub:
        carol = await hub.create_user(role="officer", username="carol")
        for i in range(6):
            status, _ = await login_from(hub, "127.0.0.3", f"nobody{i}", "wrong password!")
            assert status == 401
        status, body = await login_from(hub, "127.0.0.3", "carol", carol.password)
        assert status == 429, body
        status, body = await login_from(hub, "127.0.0.1", "carol", carol.password)
        assert status == 200, body


async def test_delays_grow_with_each_failure(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await migrate(url)
    db = Database(url)
    limiter = LoginRateLimiter(5, 900, address_max=20, base_delay_s=1, max_delay_s=900)

    async def failed(address: str, now: float) -> None:
        async with db.write() as session:
            await limiter.failed(session, "dana", address, now)

    async def retry_after(address: str, now: float) -> int:
        async with db.read() as session:
            return await limiter.retry_after(session, "dana", address, now)

    try:
        now = 1000.0
        for _ in range(5):
            await failed("10.0.0.1", now)
        waits = [await retry_after("10.0.0.1", now)]
        for _ in range(4):
            now += waits[-1]  # wait it out, then fail again
            assert await retry_after("10.0.0.1", now) == 0
            await failed("10.0.0.1", now)
            waits.append(await retry_after("10.0.0.1", now))
        assert waits == [1, 2, 4, 8, 16]
        assert await retry_after("10.0.0.9", now) == 0  # a clean address: never held
        for _ in range(30):
            await failed("10.0.0.1", now)
        assert await retry_after("10.0.0.1", now) == 900  # capped
        # Failures leave the window (and the table) after window_s.
        assert await retry_after("10.0.0.1", now + 901) == 0
        await failed("10.0.0.7", now + 901)
        async with db.read() as session:
            assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 2
    finally:
        await db.close()


@pytest.mark.postgres
async def test_guesses_spread_over_instances_share_one_budget(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Two instances on one PostgreSQL: each sees the failures made through the other."""
    url = postgres_server.create_database()
    async with running_hub(tmp_path, database_url=url, login_max_failures=4) as a:
        erin = await a.create_user(role="officer", username="erin")
        async with running_hub(tmp_path, database_url=url, login_max_failures=4) as b:
            for hub in (a, b, a, b):
                status, _ = await login_from(hub, "127.0.0.4", "erin", "wrong password!")
                assert status == 401
            for hub in (a, b):  # the fifth guess waits, whichever instance it is sent to
                status, body = await login_from(hub, "127.0.0.4", "erin", erin.password)
                assert status == 429 and body["retry_after"] >= 1, body
            # Still never a lockout: a clean address logs in through either instance, and
            # that success clears erin's count for the next one.
            status, body = await login_from(b, "127.0.0.1", "erin", erin.password)
            assert status == 200, body
            status, body = await login_from(a, "127.0.0.4", "erin", erin.password)
            assert status == 200, body
            # Simultaneous guesses through both instances: every one that was refused as a
            # wrong password is counted (inserts, no lost update), none more.
            guesses = await asyncio.gather(
                *(login_from(hub, "127.0.0.5", "erin", "wrong again!") for hub in (a, b) * 3)
            )
            statuses = [status for status, _ in guesses]
            assert set(statuses) <= {401, 429} and 401 in statuses, statuses
            async with a.state.db.read() as session:
                counted = await session.scalar(
                    select(func.count())
                    .select_from(LoginFailure)
                    .where(LoginFailure.key == "ip:127.0.0.5")
                )
            assert counted == statuses.count(401)
