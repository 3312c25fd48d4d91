"""Config, reauth, reconfigure and options flows against a fake hub."""

from __future__ import annotations

import logging
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.protocol import KeySet, generate_private_key
from custom_components.connect_share.protocol.keys import HubKey, key_id

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


def _stranger_jwks() -> dict:
    """A key set with one key the hub never showed (keys swapped in between)."""
    key = generate_private_key().public_key()
    return KeySet([HubKey(key_id(key), key)]).to_jwks()


@pytest.mark.parametrize("change", ["keys", "hub_id"])
async def test_confirm_aborts_when_the_enrollment_answer_differs(
    hass: HomeAssistant, fake_hub: FakeHub, change: str
) -> None:
    """The keys pinned are the keys whose fingerprint was shown, or nothing is pinned."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": fake_hub.url, "code": fake_hub.new_code()}
    )
    assert result["step_id"] == "confirm"
    if change == "keys":
        fake_hub.enroll_jwks = _stranger_jwks()
    else:
        fake_hub.hub_id = "hub-elsewhere"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] == "abort" and result["reason"] == "keys_changed"
    assert hass.config_entries.async_entries(DOMAIN) == []

    # Trying again (as the abort message says) shows the keys the hub enrolls with now.
    fake_hub.enroll_jwks = None
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    await _finish_with_good_code(hass, fake_hub, result["flow_id"])


async def test_key_in_use_then_a_fresh_key(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """The hub refuses a public key it already knows (409) before it looks at the code, so
    the code is not spent and the next attempt (with a fresh key) enrolls."""
    taken = generate_private_key()
    fake_hub.installations["inst-taken"] = taken.public_key()
    code = fake_hub.new_code()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": fake_hub.url, "code": code}
    )
    assert result["step_id"] == "confirm"
    with patch(
        "custom_components.connect_share.config_flow.generate_private_key", return_value=taken
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "user" and result["errors"] == {"base": "key_in_use"}
    assert fake_hub.codes[code] is False
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": fake_hub.url, "code": code}
    )
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry", result
    assert result["result"].data["installation_id"] != "inst-taken"
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def _reauth_flow_after_hub_forgets(hass: HomeAssistant, fake_hub: FakeHub, entry) -> str:
    """The hub removes the installation and drops the socket: the integration starts reauth."""
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    del fake_hub.installations[entry.data["installation_id"]]
    assert fake_hub.ws is not None
    await fake_hub.ws.close()
    await until(lambda: any(entry.async_get_active_flows(hass, {"reauth"})), "reauth flow to start")
    return str(next(iter(entry.async_get_active_flows(hass, {"reauth"})))["flow_id"])


async def _reauth_succeeds(hass: HomeAssistant, fake_hub: FakeHub, entry, flow_id: str) -> None:
    old_installation = entry.data["installation_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"code": fake_hub.new_code()})
    assert result["type"] == "abort" and result["reason"] == "reauth_successful", result
    await hass.async_block_till_done()
    assert entry.data["installation_id"] != old_installation
    assert entry.state is ConfigEntryState.LOADED
    await until(lambda: entry.runtime_data.connection.is_connected, "reconnection")


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


@pytest.mark.parametrize("change", ["keys", "hub_id"])
async def test_reauth_aborts_when_keys_or_hub_change(
    hass: HomeAssistant, fake_hub: FakeHub, change: str
) -> None:
    """Re-enrollment pins nothing it did not check: keys that differ from the hub's JWKS
    abort with keys_changed, another hub at the entry's URL aborts with wrong_hub; the entry
    keeps its data, and the next re-enrollment with the right hub succeeds."""
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    flow_id = await _reauth_flow_after_hub_forgets(hass, fake_hub, entry)
    before = dict(entry.data)
    hub_id = fake_hub.hub_id
    if change == "keys":
        fake_hub.enroll_jwks = _stranger_jwks()
    else:
        fake_hub.hub_id = "hub-elsewhere"
    code = fake_hub.new_code()
    result = await hass.config_entries.flow.async_configure(flow_id, {"code": code})
    reason = "keys_changed" if change == "keys" else "wrong_hub"
    assert result["type"] == "abort" and result["reason"] == reason
    assert dict(entry.data) == before
    # wrong_hub is decided before the code would be spent; keys_changed only after it.
    assert fake_hub.codes[code] is (change == "keys")

    fake_hub.enroll_jwks, fake_hub.hub_id = None, hub_id
    entry.async_start_reauth(hass)
    await hass.async_block_till_done()
    flow = next(iter(entry.async_get_active_flows(hass, {"reauth"})))
    await _reauth_succeeds(hass, fake_hub, entry, flow["flow_id"])
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


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:1", "cannot_connect"),
        ("/not-here", "not_a_hub"),
        ("http://hub.example.test", "insecure_url"),
    ],
)
async def test_reconfigure_errors_then_success(
    hass: HomeAssistant, fake_hub: FakeHub, url: str, error: str
) -> None:
    """The hub moved: a wrong address shows an error, the new one (same hub id, same keys,
    same installations) is stored and the entry reconnects there."""
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    moved = FakeHub()
    moved.hub_id, moved.key, moved.kid = fake_hub.hub_id, fake_hub.key, fake_hub.kid
    moved.installations = fake_hub.installations
    await moved.start()
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "reconfigure", "entry_id": entry.entry_id}
        )
        bad = fake_hub.url + url if url.startswith("/") else url
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"url": bad})
        assert result["type"] == "form" and result["errors"] == {"base": error}
        assert entry.data["url"] == fake_hub.url
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"url": moved.url}
        )
        assert result["type"] == "abort" and result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data["url"] == moved.url
        assert entry.state is ConfigEntryState.LOADED
        await fake_hub.stop()
        await until(lambda: moved.ws is not None, "connection to the hub at its new address")
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await moved.stop()


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


async def test_options_refuse_a_malformed_agency_id(
    hass: HomeAssistant, fake_hub: FakeHub, cameras
) -> None:
    """An agency id that is not ORI-style is shown on its field; fixed, the options save."""
    entry = await enroll(hass, fake_hub.url, fake_hub.new_code())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"cameras": ["camera.front"], "notify_target": ""}
    )
    assert result["step_id"] == "camera"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"mode": "on_request", "only_agencies": "NC0920100, police"}
    )
    assert result["errors"] == {"only_agencies": "invalid_agency"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"mode": "on_request", "only_agencies": "nc0920100; NC0920100"}
    )
    assert result["type"] == "create_entry", result
    await hass.async_block_till_done()
    assert entry.options["cameras"]["camera.front"]["only_agencies"] == "NC0920100"
    assert await hass.config_entries.async_unload(entry.entry_id)
