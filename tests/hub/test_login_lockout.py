"""Issue 12 item 7: failed logins slow the guesser down without locking anybody out.

Five wrong passwords for one user used to lock that user's correct password, from
everywhere, and every user of the same address, for 900 s.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from hub_server.auth import LoginRateLimiter
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


def test_delays_grow_with_each_failure() -> None:
    limiter = LoginRateLimiter(5, 900, address_max=20, base_delay_s=1, max_delay_s=900)
    now = 1000.0
    for _ in range(5):
        limiter.failed("dana", "10.0.0.1", now)
    waits = [limiter.retry_after("dana", "10.0.0.1", now)]
    for _ in range(4):
        now += waits[-1]  # wait it out, then fail again
        assert limiter.retry_after("dana", "10.0.0.1", now) == 0
        limiter.failed("dana", "10.0.0.1", now)
        waits.append(limiter.retry_after("dana", "10.0.0.1", now))
    assert waits == [1, 2, 4, 8, 16]
    assert limiter.retry_after("dana", "10.0.0.9", now) == 0  # a clean address: never held
    for _ in range(30):
        limiter.failed("dana", "10.0.0.1", now)
    assert limiter.retry_after("dana", "10.0.0.1", now) == 900  # capped
