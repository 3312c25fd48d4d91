"""Options-flow steps for cameras that are not HA entities: a go2rtc server and its streams,
and ONVIF cameras (``camera_sources.py`` describes the stored layout).

Mixed into ``ConnectShareOptionsFlow``. The init form gets two fields from here: the
go2rtc / ONVIF cameras shared so far (unticking one removes it) and "then": set up the
go2rtc server or add an ONVIF camera before the per-camera rules. Every camera picked or
added then gets the same ``camera`` step as an HA camera entity.

Each server or camera is checked before it is stored (``media.discovery``); errors are the
translated keys of ``discovery.flow_error``. Passwords are never put into a form's
defaults: an empty password field keeps the stored one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import probatio
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .camera_sources import (
    GO2RTC_STREAM_PREFIX,
    KIND_GO2RTC,
    KIND_ONVIF,
    OPT_GO2RTC,
    OPT_SOURCES,
    camera_name,
    go2rtc_camera_id,
    go2rtc_client,
    go2rtc_settings,
    onvif_camera_id,
    slug,
)
from .const import OPT_CAMERAS
from .media.discovery import check_go2rtc, flow_error, read_onvif
from .media.go2rtc import DEFAULT_PORT
from .media.sources import SourceError

if TYPE_CHECKING:
    # Type checkers see the options flow this is mixed into; at runtime the mixin stays a
    # plain class so the MRO of ``ConnectShareOptionsFlow`` is unchanged.
    from homeassistant.config_entries import OptionsFlow as _MixinBase
else:
    _MixinBase = object

_LOGGER = logging.getLogger(__name__)
FIELD_OTHER = "other_cameras"
FIELD_THEN = "add_source"
THEN_GO2RTC = "go2rtc"
THEN_ONVIF = "onvif"
CHECK_TIMEOUT = 10.0


def normalize_go2rtc_url(text: str) -> str:
    """``host`` -> ``http://host:1984``: plain http without a port gets go2rtc's default
    API port; https (go2rtc behind a TLS proxy) keeps the scheme's own port."""
    text = text.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise probatio.Invalid("not an http(s) URL")
    if parts.username or parts.password:
        raise probatio.Invalid("credentials go in the username and password fields")
    has_port = parts.port is not None or parts.scheme == "https"
    netloc = parts.netloc if has_port else f"{parts.netloc}:{DEFAULT_PORT}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def entity_cameras(options: dict[str, Any]) -> list[str]:
    """The shared cameras that are HA camera entities (the init form's entity picker)."""
    sources = options.get(OPT_SOURCES) or {}
    return [c for c in options.get(OPT_CAMERAS, {}) if c not in sources]


class SourceOptionsMixin(_MixinBase):
    """go2rtc and ONVIF steps; expects ``_options``, ``_todo`` and ``_next_camera``."""

    _options: dict[str, Any]
    _todo: list[str]
    _streams: list[str]

    if TYPE_CHECKING:

        async def _next_camera(self) -> ConfigFlowResult: ...

    # --- hooks used by the init step ------------------------------------------------------

    def _source_fields(self, current: dict[str, Any]) -> dict[Any, Any]:
        """Extra init-form fields: the shared go2rtc/ONVIF cameras, and what to add next."""
        sources = current.get(OPT_SOURCES) or {}
        fields: dict[Any, Any] = {}
        if sources:
            shared = [c for c in current.get(OPT_CAMERAS, {}) if c in sources]
            fields[probatio.Optional(FIELD_OTHER, default=shared)] = selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[
                        selector.SelectOptionDict(
                            value=cid, label=camera_name(self.hass, current, cid)
                        )
                        for cid in sources
                    ],
                    multiple=True,
                )
            )
        fields[probatio.Optional(FIELD_THEN)] = selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[THEN_GO2RTC, THEN_ONVIF],
                translation_key=FIELD_THEN,
                mode=selector.SelectSelectorMode.LIST,
            )
        )
        return fields

    def _apply_sources(self, current: dict[str, Any], user_input: dict[str, Any]) -> None:
        """Carry the go2rtc server over and keep the go2rtc/ONVIF cameras still ticked."""
        sources = current.get(OPT_SOURCES) or {}
        old_cams = current.get(OPT_CAMERAS, {})
        keep = [c for c in user_input.get(FIELD_OTHER, []) if c in sources]
        if (server := go2rtc_settings(current)) is not None:
            self._options[OPT_GO2RTC] = server
        self._options[OPT_SOURCES] = {c: dict(sources[c]) for c in keep}
        for cid in keep:
            self._options[OPT_CAMERAS][cid] = dict(old_cams.get(cid, {}))

    async def _after_init(self, user_input: dict[str, Any]) -> ConfigFlowResult:
        then = user_input.get(FIELD_THEN)
        if then == THEN_GO2RTC:
            return await self.async_step_go2rtc()
        if then == THEN_ONVIF:
            return await self.async_step_onvif()
        return await self._next_camera()

    def _camera_label(self, camera_id: str) -> str:
        return camera_name(self.hass, self._options, camera_id)

    def _add_camera(self, camera_id: str, spec: dict[str, Any]) -> None:
        self._options.setdefault(OPT_SOURCES, {})[camera_id] = spec
        cams = self._options[OPT_CAMERAS]
        cams[camera_id] = dict(
            cams.get(camera_id) or self.config_entry.options.get(OPT_CAMERAS, {}).get(camera_id, {})
        )
        if camera_id not in self._todo:
            self._todo.append(camera_id)

    def _drop_camera(self, camera_id: str) -> None:
        self._options.get(OPT_SOURCES, {}).pop(camera_id, None)
        self._options[OPT_CAMERAS].pop(camera_id, None)
        if camera_id in self._todo:
            self._todo.remove(camera_id)

    # --- go2rtc server ----------------------------------------------------------------------

    async def async_step_go2rtc(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        stored = self._options.get(OPT_GO2RTC) or {}
        errors: dict[str, str] = {}
        if user_input is not None:
            username = str(user_input.get("username") or "").strip()
            password = str(user_input.get("password") or "")
            if not password and username and username == stored.get("username"):
                password = str(stored.get("password") or "")  # empty field: keep it
            try:
                url = normalize_go2rtc_url(str(user_input.get("url", "")))
            except probatio.Invalid:
                errors["url"] = "invalid_url"
            else:
                try:
                    server = await check_go2rtc(
                        url,
                        session=async_get_clientsession(self.hass),
                        username=username or None,
                        password=password or None,
                        timeout=CHECK_TIMEOUT,
                    )
                except SourceError as err:
                    # A web server without go2rtc's /api answers 404: not go2rtc.
                    errors["base"] = "not_go2rtc" if err.code == "not_found" else flow_error(err)
                else:
                    self._options[OPT_GO2RTC] = {
                        "url": server.url,
                        "username": username,
                        "password": password,
                    }
                    self._streams = [
                        s for s in server.streams if not s.startswith(GO2RTC_STREAM_PREFIX)
                    ]
                    await self._register_onvif_cameras()
                    return await self.async_step_go2rtc_streams()
        suggested = {"url": stored.get("url", ""), "username": stored.get("username", "")}
        if user_input:
            suggested.update(url=user_input.get("url", ""), username=user_input.get("username"))
        schema = probatio.Schema(
            {
                probatio.Required("url"): selector.TextSelector(
                    selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
                ),
                probatio.Optional("username"): str,
                probatio.Optional("password"): selector.TextSelector(
                    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
                ),
            }
        )
        return self.async_show_form(
            step_id="go2rtc",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            description_placeholders={"port": str(DEFAULT_PORT)},
            errors=errors,
        )

    async def _register_onvif_cameras(self) -> None:
        """(Re-)register the ONVIF cameras' streams in the go2rtc server just set up; a
        camera that cannot be reached now keeps live view by snapshots."""
        server = go2rtc_settings(self._options)
        if server is None:
            return
        client = go2rtc_client(self.hass, server, timeout=CHECK_TIMEOUT)
        for spec in self._options.get(OPT_SOURCES, {}).values():
            if spec.get("type") != KIND_ONVIF:
                continue
            name = GO2RTC_STREAM_PREFIX + slug(str(spec.get("name") or spec["host"]))
            try:
                await read_onvif(
                    str(spec["host"]),
                    int(spec.get("port") or 80),
                    spec.get("username") or None,
                    spec.get("password") or None,
                    profile_token=spec.get("profile") or None,
                    register_as=name,
                    go2rtc=client,
                    timeout=CHECK_TIMEOUT,
                )
            except SourceError as err:
                _LOGGER.info("ONVIF camera %s not registered in go2rtc: %s", spec["host"], err.code)
                spec["go2rtc_stream"] = None
            else:
                spec["go2rtc_stream"] = name

    async def async_step_go2rtc_streams(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which of the server's streams are shared (each becomes a camera)."""
        streams: list[str] = getattr(self, "_streams", [])
        sources = self._options.get(OPT_SOURCES, {})
        shared = {
            spec["stream"]: cid for cid, spec in sources.items() if spec.get("type") == KIND_GO2RTC
        }
        if user_input is not None:
            picked = [s for s in user_input.get("streams", []) if s in streams]
            for stream, cid in shared.items():
                if stream not in picked:
                    self._drop_camera(cid)
            for stream in picked:
                cid = shared.get(stream) or go2rtc_camera_id(stream)
                existing = sources.get(cid)
                if existing is not None and existing.get("stream") != stream:
                    cid = go2rtc_camera_id(f"{stream}_{len(sources)}")
                self._add_camera(cid, {"type": KIND_GO2RTC, "stream": stream, "name": stream})
            return await self._next_camera()
        schema = probatio.Schema(
            {
                probatio.Optional("streams", default=[s for s in shared if s in streams]): (
                    selector.SelectSelector(
                        selector.SelectSelectorConfig(options=list(streams), multiple=True)
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="go2rtc_streams",
            data_schema=schema,
            description_placeholders={"count": str(len(streams))},
        )

    # --- ONVIF camera --------------------------------------------------------------------

    async def async_step_onvif(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input.get("name") or "").strip() or str(user_input["host"])
            cid = onvif_camera_id(name)
            stored = self._options.get(OPT_SOURCES, {}).get(cid) or {}
            host = str(user_input["host"]).strip()
            port = int(user_input.get("port") or 80)
            username = str(user_input.get("username") or "").strip()
            password = str(user_input.get("password") or "")
            if not password and stored.get("host") == host and stored.get("username") == username:
                password = str(stored.get("password") or "")  # editing: keep it
            profile = str(user_input.get("profile") or "").strip() or None
            server = go2rtc_settings(self._options)
            register_as = GO2RTC_STREAM_PREFIX + slug(name) if server else None
            client = go2rtc_client(self.hass, server, timeout=CHECK_TIMEOUT) if server else None
            try:
                device = await read_onvif(
                    host,
                    port,
                    username or None,
                    password or None,
                    profile_token=profile,
                    register_as=register_as,
                    go2rtc=client,
                    timeout=CHECK_TIMEOUT,
                )
            except SourceError as err:
                errors["base"] = flow_error(err)
            else:
                self._add_camera(
                    cid,
                    {
                        "type": KIND_ONVIF,
                        "name": name,
                        "host": host,
                        "port": port,
                        "username": username,
                        "password": password,
                        "profile": profile or device.profiles[0].token,
                        "model": f"{device.info.manufacturer} {device.info.model}".strip(),
                        "go2rtc_stream": register_as,
                    },
                )
                return await self._next_camera()
        schema = probatio.Schema(
            {
                probatio.Optional("name"): str,
                probatio.Required("host"): str,
                probatio.Required("port", default=80): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=65535, step=1, mode=selector.NumberSelectorMode.BOX
                    )
                ),
                probatio.Optional("username"): str,
                probatio.Optional("password"): selector.TextSelector(
                    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
                ),
                probatio.Optional("profile"): str,
            }
        )
        suggested = {k: v for k, v in (user_input or {}).items() if k != "password"}
        return self.async_show_form(
            step_id="onvif",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )
