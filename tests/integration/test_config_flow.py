"""Config, reauth, reconfigure and options flows against a fake hub."""

from __future__ import annotations

import logging

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from custom_components.connect_share.const import DOMAIN

from .conftest import enroll, until
from .fake_hub import FakeHub

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "config_dir")


async def test_enroll_shows_fingerprint_and_pins_keys(
    hass: HomeAssistant, fake_hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = fake_hub.new_code()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": fake_hub.url + "/", "code": code}
    )
    assert result["step_id"] == "confirm"
    fingerprint = next(iter(fake_hub.keyset.fingerprints().values()))
    assert result["description_placeholders"]["fingerprint"] == fingerprint
    assert fake_hub.codes[code] is False  # the code is spent only after confirmation
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    entry = result["result"]
    assert entry.unique_id == fake_hub.hub_id
    assert entry.data["installation_id"] in fake_hub.installations
    assert entry.data["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert entry.data["fingerprints"] == [fingerprint]
    await hass.async_block_till_done()
    await until(lambda: entry.runtime_data.connection.is_connected, "hub connection")
    # The key never reaches the log.
    key_body = entry.data["private_key"].splitlines()[1]
    assert key_body not in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)

    # A second enrollment with the same hub is refused before any code is spent.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": fake_hub.url, "code": fake_hub.new_code()}
    )
    assert result["type"] == "abort" and result["reason"] == "already_configured"


async def _finish_with_good_code(hass: HomeAssistant, fake_hub: FakeHub, flow_id: str) -> None:
    """After an error the same flow still reaches CREATE_ENTRY (quality scale:
    config-flow-test-coverage), and the entry loads."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": fake_hub.url, "code": fake_hub.new_code()}
    )
    if result["step_id"] == "confirm":
        result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] == "create_entry", result
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("url_suffix", "code", "error"),
    [
        (None, "x", "cannot_connect"),
        ("/not-here", "x", "not_a_hub"),
    ],
)
async def test_user_step_errors(
    hass: HomeAssistant, fake_hub: FakeHub, url_suffix: str | None, code: str, error: str
) -> None:
    url = "http://127.0.0.1:1" if url_suffix is None else fake_hub.url + url_suffix
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "code": code}
    )
    assert result["type"] == "form" and result["errors"] == {"base": error}
    await _finish_with_good_code(hass, fake_hub, result["flow_id"])


@pytest.mark.parametrize(
    "url", ["http://hub.example.test", "http://192.168.1.20:8765", "ftp://127.0.0.1", "hub"]
)
async def test_plain_http_to_another_host_is_refused(
    hass: HomeAssistant, fake_hub: FakeHub, url: str
) -> None:
    """Tokens, keys and frames must never cross the network in clear."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "code": fake_hub.new_code()}
    )
    assert result["type"] == "form" and result["errors"] == {"base": "insecure_url"}
    await _finish_with_good_code(hass, fake_hub, result["flow_id"])  # http://127.0.0.1 is fine


@pytest.mark.parametrize("error", ["invalid_code", "code_used", "code_expired"])
async def test_refused_codes_then_a_good_one(
    hass: HomeAssistant, fake_hub: FakeHub, error: str
) -> None:
    code = {"invalid_code": "wrong", "code_used": fake_hub.new_code(), "code_expired": "old"}[error]
    if error == "code_used":
        fake_hub.codes[code] = True
    fake_hub.expired_codes.add("old")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": fake_hub.url, "code": code}
    )
    assert result["step_id"] == "confirm"  # the fingerprint is shown before the code is spent
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "user" and result["errors"] == {"base": error}
    await _finish_with_good_code(hass, fake_hub, result["flow_id"])


async def test_not_a_connect_share_hub(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    other = FakeHub(service="some-other-service")
    await other.start()
    try:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"url": other.url, "code": "x"}
        )
        assert result["errors"] == {"base": "not_a_hub"}
        await _finish_with_good_code(hass, fake_hub, result["flow_id"])
    finally:
        await other.stop()


async def test_reauth_when_hub_forgets_installation(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    old_installation = entry.data["installation_id"]
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    # The hub removes the installation and drops the socket.
    del fake_hub.installations[old_installation]
    assert fake_hub.ws is not None
    await fake_hub.ws.close()
    await until(lambda: any(entry.async_get_active_flows(hass, {"reauth"})), "reauth flow to start")
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, f"installation_removed_{entry.entry_id}")
    flow = next(iter(entry.async_get_active_flows(hass, {"reauth"})))
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"code": "bad"})
    assert result["errors"] == {"base": "invalid_code"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"code": fake_hub.new_code()}
    )
    assert result["type"] == "abort" and result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["installation_id"] != old_installation
    assert entry.state is ConfigEntryState.LOADED
    await until(lambda: entry.runtime_data.connection.is_connected, "reconnection")
    assert issues.async_get_issue(DOMAIN, f"installation_removed_{entry.entry_id}") is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    other = FakeHub()
    await other.start()
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "reconfigure", "entry_id": entry.entry_id}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"url": other.url}
        )
        assert result["type"] == "abort" and result["reason"] == "wrong_hub"
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "reconfigure", "entry_id": entry.entry_id}
        )
        new_url = fake_hub.url.replace("127.0.0.1", "127.0.0.1") + "/"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"url": new_url})
        assert result["type"] == "abort" and result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data["url"] == fake_hub.url
    finally:
        await other.stop()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_options_flow(hass: HomeAssistant, fake_hub: FakeHub, cameras) -> None:
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"cameras": ["camera.front", "camera.back"], "notify_target": "notify.phone"},
    )
    assert result["step_id"] == "camera"
    assert result["description_placeholders"]["camera"] == "Front"
    base = {
        "mode": "auto",
        "auto_incident_types": ["burglary", "custom_type"],
        "auto_max_distance_m": 150,
        "max_session_s": 600,
        "max_fps": 3,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, "masks": "[[[0,0],[2,0],[1,1]]]"}
    )
    assert result["errors"] == {"masks": "invalid_masks"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, "schedule": "someday 10:00-11:00"}
    )
    assert result["errors"] == {"schedule": "invalid_schedule"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, "lat": 52.0}
    )
    assert result["errors"] == {"lat": "lat_lon_pair"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**base, "masks": "[[[0,0],[0.5,0],[0.5,0.5]]]", "schedule": "mon-fri 08:00-18:00"},
    )
    assert result["step_id"] == "camera"
    assert result["description_placeholders"]["camera"] == "Back"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"mode": "registered"}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    front = entry.options["cameras"]["camera.front"]
    assert front["mode"] == "auto" and front["auto_incident_types"] == ["burglary", "custom_type"]
    assert entry.options["notify_target"] == "notify.phone"
    # The options change reached the hub as a camera sync.
    sync = await fake_hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    by_id = {c.camera_id: c for c in sync.cameras}
    assert by_id["camera.front"].masked is True
    assert by_id["camera.back"].mode == "registered"
    assert by_id["camera.back"].lat == pytest.approx(52.3731)  # default: the home
    registry = dr.async_get(hass)
    iid = entry.data["installation_id"]
    assert (
        registry.async_get_device_by_identifier((DOMAIN, f"{iid}_camera.back"), entry.entry_id)
        is not None
    )

    # Unsharing a camera removes its device and entities, and the hub hears of it.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"cameras": ["camera.front"], "notify_target": ""}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], base)
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert (
        registry.async_get_device_by_identifier((DOMAIN, f"{iid}_camera.back"), entry.entry_id)
        is None
    )
    assert (
        registry.async_get_device_by_identifier((DOMAIN, f"{iid}_camera.front"), entry.entry_id)
        is not None
    )
    await fake_hub.wait_for(
        "camera_sync", lambda m: [c.camera_id for c in m.cameras] == ["camera.front"]
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
