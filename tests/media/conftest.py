"""Media tests run local servers (go2rtc and ONVIF stand-ins) on 127.0.0.1."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _local_sockets(socket_enabled: None) -> None:
    """Allow sockets; the plugin's host allow-list still limits them to 127.0.0.1."""
