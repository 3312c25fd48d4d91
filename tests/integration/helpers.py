"""Shared steps for the integration's end-to-end tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = ROOT / "blueprints" / "automation" / "connect_share"


def install_blueprints(config_dir: Path) -> None:
    target = config_dir / "blueprints" / "automation" / "connect_share"
    target.mkdir(parents=True, exist_ok=True)
    for path in BLUEPRINTS.glob("*.yaml"):
        shutil.copy(path, target / path.name)


async def setup_automations(hass: HomeAssistant, *automations: dict[str, Any]) -> None:
    assert await async_setup_component(hass, "automation", {"automation": list(automations)})
    await hass.async_block_till_done()


def use_blueprint(name: str, **inputs: Any) -> dict[str, Any]:
    return {"use_blueprint": {"path": f"connect_share/{name}.yaml", "input": inputs}}


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    from homeassistant.helpers import entity_registry as er

    eid = er.async_get(hass).async_get_entity_id(platform, "connect_share", unique_id)
    assert eid is not None, unique_id
    return eid


def audit_actions(entry: Any) -> list[str]:
    return [e.action for e in entry.runtime_data.audit.entries]
