"""Quick start-up checks."""

from __future__ import annotations

from pathlib import Path

from tests.hub_harness import camera, running_hub


async def test_hub_starts_and_identifies(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        status, body = await hub.client().call("GET", "/api/v1/hub")
        assert status == 200
        assert body["service"] == "connect-share-hub"
        sim = await hub.simulated_installation([camera("cam-1", 33.75, -84.39)])
        assert sim.installation_id
