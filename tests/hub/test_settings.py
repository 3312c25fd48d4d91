"""Configuration from environment variables and flags."""

from __future__ import annotations

import pytest

from hub_server.database import normalise_url
from hub_server.settings import Settings


def test_environment_then_overrides() -> None:
    env = {
        "CONNECT_SHARE_HUB_PORT": "9000",
        "CONNECT_SHARE_HUB_SECURE_COOKIES": "yes",
        "CONNECT_SHARE_HUB_MAX_RADIUS_M": "2500.5",
        "CONNECT_SHARE_HUB_DATABASE_URL": "postgresql://hub@db/hub",
        "UNRELATED": "x",
    }
    settings = Settings.from_env(env, port=9100, host=None)
    assert settings.port == 9100  # a flag wins over the variable
    assert settings.host == "127.0.0.1"  # None means "not given"
    assert settings.secure_cookies is True and settings.max_radius_m == 2500.5
    assert normalise_url(settings.database_url) == "postgresql+asyncpg://hub@db/hub"
    assert Settings.from_env({}).database_url.endswith("connect-share-hub.sqlite3")
    assert normalise_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="CONNECT_SHARE_HUB_PORT"):
        Settings.from_env({"CONNECT_SHARE_HUB_PORT": "eighty"})
    with pytest.raises(ValueError, match="CONNECT_SHARE_HUB_SECURE_COOKIES"):
        Settings.from_env({"CONNECT_SHARE_HUB_SECURE_COOKIES": "maybe"})
