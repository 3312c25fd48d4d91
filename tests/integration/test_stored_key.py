"""An installation whose stored private key cannot be read (quality scale:
test-before-setup): setup fails with a translated ConfigEntryAuthFailed and starts
re-enrollment, the only fix (the key exists nowhere else), which then loads the entry."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.connect_share.const import CONF_JWKS, CONF_PRIVATE_KEY

from .conftest import enroll, until
from .fake_hub import FakeHub

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "config_dir")


def _truncated(pem: str) -> str:
    lines = pem.splitlines()
    return "\n".join([lines[0], lines[1][: len(lines[1]) // 2], lines[-1]]) + "\n"


def _ec_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


CORRUPTIONS = {
    "truncated": _truncated,
    "not_pem": lambda _pem: "this is not a key",
    "not_ed25519": lambda _pem: _ec_key(),
    "non_ascii": lambda pem: pem.replace("PRIVATE", "PRIVÄTE"),
    "missing": None,
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
async def test_unreadable_stored_key_starts_reenrollment(
    hass: HomeAssistant, fake_hub: FakeHub, corruption: str, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    old_installation = entry.data["installation_id"]
    key_body = entry.data[CONF_PRIVATE_KEY].splitlines()[1]
    assert await hass.config_entries.async_unload(entry.entry_id)

    # Damage the key where Home Assistant keeps it: in the entry's data.
    data: dict[str, Any] = dict(entry.data)
    corrupt = CORRUPTIONS[corruption]
    if corrupt is None:
        del data[CONF_PRIVATE_KEY]
    else:
        data[CONF_PRIVATE_KEY] = corrupt(data[CONF_PRIVATE_KEY])
    hass.config_entries.async_update_entry(entry, data=data)

    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "stored_key_unreadable"
    assert entry.reason is not None and "Re-enroll with a new enrollment code" in entry.reason
    # Key material (the truncated key keeps the first half of it) never reaches the log.
    assert key_body[:16] not in caplog.text
    flows = list(entry.async_get_active_flows(hass, {"reauth"}))
    assert len(flows) == 1, "re-enrollment must be offered"

    # Re-enrolling with a new code stores a new key; the entry loads and connects.
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"code": fake_hub.new_code()}
    )
    assert result["type"] == "abort" and result["reason"] == "reauth_successful", result
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data["installation_id"] != old_installation
    assert entry.data[CONF_PRIVATE_KEY].startswith("-----BEGIN PRIVATE KEY-----")
    await until(lambda: entry.runtime_data.connection.is_connected, "connection after re-enrolling")
    assert await hass.config_entries.async_unload(entry.entry_id)


def _jwk_with(jwks: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"keys": [{**jwks["keys"][0], **changes}]}


# The hub's keys pinned at enrollment, damaged the ways a hand-edited or half-written
# .storage/core.config_entries would be. A small-order point ("AQAA...": the point 01 00..00)
# would accept forged signatures; it must be refused like any other damage.
JWKS_CORRUPTIONS = {
    "missing": None,
    "not_an_object": lambda _jwks: "keys",
    "no_keys": lambda _jwks: {"keys": []},
    "bad_x": lambda jwks: _jwk_with(jwks, x="not base64url!"),
    "small_order": lambda jwks: _jwk_with(jwks, x="AQ" + "A" * 41),
    "wrong_curve": lambda jwks: _jwk_with(jwks, crv="P-256"),
}


@pytest.mark.parametrize("corruption", list(JWKS_CORRUPTIONS))
async def test_unreadable_pinned_hub_keys_stop_setup_without_repinning(
    hass: HomeAssistant, fake_hub: FakeHub, corruption: str
) -> None:
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    assert await hass.config_entries.async_unload(entry.entry_id)

    data: dict[str, Any] = dict(entry.data)
    corrupt = JWKS_CORRUPTIONS[corruption]
    if corrupt is None:
        del data[CONF_JWKS]
    else:
        data[CONF_JWKS] = corrupt(data[CONF_JWKS])
    hass.config_entries.async_update_entry(entry, data=data)
    connects = fake_hub.connections

    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "pinned_keys_unreadable"
    assert entry.reason is not None and "Remove Connect Share and add it again" in entry.reason
    # Nothing is re-pinned behind the resident's back: no reauth, no connection to the hub.
    assert not list(entry.async_get_active_flows(hass, {"reauth"}))
    assert fake_hub.connections == connects
    assert entry.data.get(CONF_JWKS) == data.get(CONF_JWKS)
