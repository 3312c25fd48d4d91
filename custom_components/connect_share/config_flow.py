"""Config flow (enroll with a hub), reauth (re-enroll), reconfigure (hub URL), options."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import probatio
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from . import hub_client
from .const import (
    CLIENT_VERSION,
    CONF_CODE,
    CONF_FINGERPRINTS,
    CONF_HUB_ID,
    CONF_HUB_NAME,
    CONF_INSTALLATION_ID,
    CONF_ISSUER,
    CONF_JWKS,
    CONF_PRIVATE_KEY,
    CONF_URL,
    CONF_WS_PATH,
    DOMAIN,
    INCIDENT_TYPES,
    MODES,
    OPT_CAMERAS,
    OPT_DETECTION,
    OPT_NOTIFY,
)
from .protocol import KeySet, generate_private_key, private_key_to_pem
from .protocol.masks import MaskError, parse_masks
from .protocol.purpose import AGENCY_ID_RE, OFFENSE_GROUPS
from .rules import DEFAULT_DENIED_PURPOSES, Schedule, ScheduleError
from .source_flow import SourceOptionsMixin, entity_cameras

_LOGGER = logging.getLogger(__name__)


def _fingerprint_text(keyset: KeySet) -> str:
    return ", ".join(sorted(keyset.fingerprints().values()))


class ConnectShareConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1

    def __init__(self) -> None:
        self._url = ""
        self._code = ""
        self._info: hub_client.HubInfo | None = None
        self._keyset: KeySet | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: Any) -> ConnectShareOptionsFlow:
        return ConnectShareOptionsFlow()

    async def _probe(self, url: str) -> tuple[hub_client.HubInfo, KeySet]:
        session = async_get_clientsession(self.hass)
        info = await hub_client.fetch_hub_info(session, url)
        keyset = await hub_client.fetch_jwks(session, url)
        return info, keyset

    async def _enroll(self, url: str, code: str) -> tuple[hub_client.Enrollment, str]:
        """Make a fresh key pair and enroll. The PEM goes only into the entry's data."""
        key = generate_private_key()
        name = self.hass.config.location_name or "Home Assistant"
        enrollment = await hub_client.enroll(
            async_get_clientsession(self.hass), url, code, key, name, CLIENT_VERSION
        )
        return enrollment, private_key_to_pem(key)

    # --- user: URL + code -> fingerprint confirmation -> enroll ----------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            url = hub_client.normalize_url(user_input[CONF_URL])
            try:
                url = hub_client.check_hub_url(url)
                info, keyset = await self._probe(url)
            except hub_client.HubError as err:
                errors["base"] = err.code
            else:
                await self.async_set_unique_id(info.hub_id)
                self._abort_if_unique_id_configured()
                self._url, self._code = url, user_input[CONF_CODE].strip()
                self._info, self._keyset = info, keyset
                return await self.async_step_confirm()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_URL): selector.TextSelector(
                            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
                        ),
                        probatio.Required(CONF_CODE): str,
                    }
                ),
                user_input or {},
            ),
            errors=errors,
        )

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the hub's key fingerprint before the one-time code is spent."""
        assert self._info is not None and self._keyset is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                enrollment, pem = await self._enroll(self._url, self._code)
            except hub_client.HubError as err:
                errors["base"] = err.code
                if isinstance(err, hub_client.EnrollmentRefused):
                    return self.async_show_form(
                        step_id="user",
                        data_schema=probatio.Schema(
                            {
                                probatio.Required(CONF_URL, default=self._url): str,
                                probatio.Required(CONF_CODE): str,
                            }
                        ),
                        errors=errors,
                    )
            else:
                if enrollment.hub_id != self._info.hub_id or not hub_client.same_keys(
                    enrollment.keyset, self._keyset
                ):
                    # The keys we showed are not the keys we would pin: refuse to guess.
                    return self.async_abort(reason="keys_changed")
                return self.async_create_entry(
                    title=self._info.name,
                    data=_entry_data(self._url, self._info, enrollment, pem),
                )
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={
                "hub": self._info.name,
                "url": self._url,
                "fingerprint": _fingerprint_text(self._keyset),
            },
            errors=errors,
        )

    # --- reauth: the hub no longer knows this installation -> re-enroll with a new code ---

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        url = entry.data[CONF_URL]
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                info, keyset = await self._probe(url)
                await self.async_set_unique_id(info.hub_id)
                self._abort_if_unique_id_mismatch(reason="wrong_hub")
                enrollment, pem = await self._enroll(url, user_input[CONF_CODE])
            except hub_client.HubError as err:
                errors["base"] = err.code
            else:
                if not hub_client.same_keys(enrollment.keyset, keyset):
                    return self.async_abort(reason="keys_changed")
                return self.async_update_reload_and_abort(
                    entry, data=_entry_data(url, info, enrollment, pem)
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema({probatio.Required(CONF_CODE): str}),
            description_placeholders={
                "url": url,
                "fingerprint": ", ".join(entry.data.get(CONF_FINGERPRINTS, [])),
            },
            errors=errors,
        )

    # --- reconfigure: the hub moved to another URL (same hub id, same pinned keys) --------

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            url = hub_client.normalize_url(user_input[CONF_URL])
            try:
                url = hub_client.check_hub_url(url)
                info = await hub_client.fetch_hub_info(async_get_clientsession(self.hass), url)
            except hub_client.HubError as err:
                errors["base"] = err.code
            else:
                await self.async_set_unique_id(info.hub_id)
                self._abort_if_unique_id_mismatch(reason="wrong_hub")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_URL: url})
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=probatio.Schema(
                {probatio.Required(CONF_URL, default=entry.data[CONF_URL]): str}
            ),
            errors=errors,
        )


def _entry_data(
    url: str, info: hub_client.HubInfo, enrollment: hub_client.Enrollment, pem: str
) -> dict[str, Any]:
    return {
        CONF_URL: url,
        CONF_HUB_ID: info.hub_id,
        CONF_HUB_NAME: info.name,
        CONF_INSTALLATION_ID: enrollment.installation_id,
        CONF_PRIVATE_KEY: pem,
        CONF_ISSUER: enrollment.issuer,
        CONF_JWKS: enrollment.jwks,
        CONF_WS_PATH: enrollment.ws_path,
        CONF_FINGERPRINTS: enrollment.fingerprints(),
    }


# --- options ---------------------------------------------------------------------------------


def validate_masks_text(text: str) -> str:
    """Voluptuous validator for the masks text field (the one mask parser)."""
    if not text.strip():
        return ""
    try:
        parse_masks(text)
    except MaskError as err:
        raise probatio.Invalid(str(err)) from err
    return text.strip()


def validate_schedule_text(text: str) -> str:
    try:
        Schedule.parse(text)
    except ScheduleError as err:
        raise probatio.Invalid(str(err)) from err
    return text.strip()


def camera_schema() -> probatio.Schema:
    num = selector.NumberSelector
    cfg = selector.NumberSelectorConfig
    box = selector.NumberSelectorMode.BOX
    return probatio.Schema(
        {
            probatio.Required("mode", default="on_request"): selector.SelectSelector(
                selector.SelectSelectorConfig(options=list(MODES), translation_key="mode")
            ),
            probatio.Optional("lat"): num(cfg(min=-90, max=90, step="any", mode=box)),
            probatio.Optional("lon"): num(cfg(min=-180, max=180, step="any", mode=box)),
            probatio.Optional("heading"): num(cfg(min=0, max=359, step=1, mode=box)),
            probatio.Optional("schedule", default=""): str,
            probatio.Optional("auto_incident_types", default=[]): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=list(INCIDENT_TYPES),
                    multiple=True,
                    custom_value=True,
                    translation_key="incident_type",
                )
            ),
            probatio.Optional("auto_max_distance_m", default=200): num(
                cfg(min=0, max=5000, step=10, unit_of_measurement="m", mode=box)
            ),
            probatio.Optional("max_session_s", default=900): num(
                cfg(min=10, max=3600, step=10, unit_of_measurement="s", mode=box)
            ),
            probatio.Optional("max_fps", default=2): num(cfg(min=0.2, max=15, step=0.1, mode=box)),
            probatio.Optional("masks", default=""): selector.TextSelector(
                selector.TextSelectorConfig(multiline=True)
            ),
            # Purpose rules (issue 14): enforced by the access gate like every other rule.
            probatio.Optional("deny_offense_groups", default=[]): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=list(OFFENSE_GROUPS), multiple=True, translation_key="offense_group"
                )
            ),
            probatio.Optional("warrant_for_live", default=False): selector.BooleanSelector(),
            probatio.Optional("only_agencies", default=""): str,
            probatio.Optional(
                "denied_purposes", default=", ".join(sorted(DEFAULT_DENIED_PURPOSES))
            ): str,
            probatio.Optional("detection", default=False): selector.BooleanSelector(),
            probatio.Optional("detection_fps", default=1): num(
                cfg(min=0.1, max=5, step=0.1, mode=box)
            ),
        }
    )


def detection_schema(current: Mapping[str, Any]) -> probatio.Schema:
    """Entry-level detection: model and labels (URL or local path, each with its sha256)."""
    fields: dict[Any, Any] = {}
    for key in (
        "model_url",
        "model_sha256",
        "model_path",
        "labels_url",
        "labels_sha256",
        "labels_path",
    ):
        fields[probatio.Optional(key, default=str(current.get(key, "")))] = str
    fields[probatio.Optional("retention_days", default=current.get("retention_days", 14))] = (
        selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=1,
                max=365,
                step=1,
                unit_of_measurement="d",
                mode=selector.NumberSelectorMode.BOX,
            )
        )
    )
    fields[probatio.Optional("share_summaries", default=bool(current.get("share_summaries")))] = (
        selector.BooleanSelector()
    )
    return probatio.Schema(fields)


def _clean_detection(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: str(data.get(k, "") or "").strip()
        for k in (
            "model_url",
            "model_sha256",
            "model_path",
            "labels_url",
            "labels_sha256",
            "labels_path",
        )
    }
    for key in ("model_sha256", "labels_sha256"):
        out[key] = out[key].lower()
        if out[key] and not re.fullmatch(r"[0-9a-f]{64}", out[key]):
            raise probatio.Invalid("not a sha256", path=[key])
    out["retention_days"] = int(data.get("retention_days", 14) or 14)
    out["share_summaries"] = bool(data.get("share_summaries", False))
    return out


class ConnectShareOptionsFlow(SourceOptionsMixin, OptionsFlowWithReload):
    """Pick cameras and the notify target, then one step per camera.

    Finishing with changed options reloads the entry (the set of cameras decides which
    devices and entities exist); data-only updates such as newly pinned hub keys do not."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}
        self._todo: list[str] = []
        self._current: str | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        current = dict(self.config_entry.options)
        errors: dict[str, str] = {}
        if user_input is not None:
            old_cams = current.get(OPT_CAMERAS, {})
            self._options = {
                OPT_NOTIFY: user_input.get(OPT_NOTIFY, "").strip(),
                OPT_CAMERAS: {c: dict(old_cams.get(c, {})) for c in user_input[OPT_CAMERAS]},
            }
            self._apply_sources(current, user_input)
            detection = user_input.get(OPT_DETECTION, current.get(OPT_DETECTION))
            try:
                if detection is not None:
                    self._options[OPT_DETECTION] = _clean_detection(detection)
            except probatio.Invalid:
                errors["base"] = "invalid_sha256"
            else:
                self._todo = list(self._options[OPT_CAMERAS])
                return await self._after_init(user_input)
        schema = probatio.Schema(
            {
                probatio.Optional(OPT_CAMERAS, default=entity_cameras(current)): (
                    selector.EntitySelector(
                        selector.EntitySelectorConfig(domain="camera", multiple=True)
                    )
                ),
                probatio.Optional(OPT_NOTIFY, default=current.get(OPT_NOTIFY, "")): str,
                **self._source_fields(current),
                probatio.Optional(OPT_DETECTION): section(
                    detection_schema(current.get(OPT_DETECTION) or {}), {"collapsed": True}
                ),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)

    async def _next_camera(self) -> ConfigFlowResult:
        if not self._todo:
            return self.async_create_entry(data=self._options)
        self._current = self._todo.pop(0)
        return await self.async_step_camera()

    async def async_step_camera(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        assert self._current is not None
        camera = self._current
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                cleaned = _clean_camera(user_input)
            except probatio.Invalid as err:
                errors[str(err.path[0]) if err.path else "base"] = _error_key(err)
            else:
                cleaned["name"] = self._camera_label(camera)
                self._options[OPT_CAMERAS][camera] = cleaned
                return await self._next_camera()
        stored = self._options[OPT_CAMERAS].get(camera) or {}
        return self.async_show_form(
            step_id="camera",
            data_schema=self.add_suggested_values_to_schema(camera_schema(), user_input or stored),
            description_placeholders={"camera": self._camera_label(camera)},
            errors=errors,
        )


def _error_key(err: probatio.Invalid) -> str:
    field = str(err.path[0]) if err.path else ""
    return {
        "masks": "invalid_masks",
        "schedule": "invalid_schedule",
        "lat": "lat_lon_pair",
        "only_agencies": "invalid_agency",
    }.get(field, "invalid_value")


def _clean_camera(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for key in ("masks", "schedule"):
        try:
            out[key] = (validate_masks_text if key == "masks" else validate_schedule_text)(
                str(data.get(key, ""))
            )
        except probatio.Invalid as err:
            raise probatio.Invalid(str(err), path=[key]) from err
    if ("lat" in out) != ("lon" in out):
        raise probatio.Invalid("latitude and longitude go together", path=["lat"])
    out["auto_incident_types"] = [
        str(t).strip() for t in out.get("auto_incident_types", []) if str(t).strip()
    ]
    agencies = _items(out.get("only_agencies", ""), upper=True)
    if any(not AGENCY_ID_RE.match(a) for a in agencies):
        raise probatio.Invalid("agency ids are ORI-style, e.g. NC0920100", path=["only_agencies"])
    out["only_agencies"] = ", ".join(agencies)
    out["denied_purposes"] = ", ".join(_items(out.get("denied_purposes", ""), upper=False))
    out["deny_offense_groups"] = [
        g for g in out.get("deny_offense_groups", []) if g in OFFENSE_GROUPS
    ]
    out["warrant_for_live"] = bool(out.get("warrant_for_live", False))
    out["max_session_s"] = int(out.get("max_session_s", 900))
    return out


def _items(text: Any, *, upper: bool) -> list[str]:
    """Comma-, semicolon- or space-separated items, de-duplicated, in the order given."""
    items = re.split(r"[\s,;]+", str(text or ""))
    return list(dict.fromkeys((i.upper() if upper else i.lower()) for i in items if i))
