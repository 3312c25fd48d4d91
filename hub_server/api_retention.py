"""Admin API of the retention periods (hub_server/retention.py): show, change, run now."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import openapi, retention
from .auth import current_user, policy
from .errors import bad_request
from .evidence import EVIDENCE
from .state import get_hub
from .validation import Fields, read_json

routes = web.RouteTableDef()
PATH = "/api/v1/admin/retention"
VIEW_ROLES = ("supervisor", "admin")


async def _shown(request: web.Request) -> dict[str, Any]:
    hub = get_hub(request)
    return {"periods": await retention.describe(hub.db, hub.settings), "rule": RULE}


RULE = (
    "A record is deleted once both its own end and its incident's close are more than its "
    "period ago; open incidents hold everything under them; 0 days keeps forever. Audit "
    "entries are never deleted."
)


@routes.get(PATH)
@policy(*VIEW_ROLES)
async def show_periods(request: web.Request) -> web.Response:
    return web.json_response(await _shown(request))


@routes.put(PATH)
@policy("admin")
async def change_periods(request: web.Request) -> web.Response:
    """``{"periods": {"grants": 60, ...}}``: override some periods (0 = keep forever)."""
    hub = get_hub(request)
    f = Fields(await read_json(request))
    periods = f._get("periods", True)
    f.done()
    if not isinstance(periods, dict) or not periods:
        raise bad_request("bad_field", "periods must be an object of kind: days")
    changes: dict[str, int] = {}
    for kind, days in periods.items():
        if kind not in retention.KIND_NAMES:
            kinds = ", ".join(retention.KIND_NAMES)
            raise bad_request("bad_field", f"unknown record kind {kind!r} (one of {kinds})")
        try:
            changes[kind] = retention.check_days(kind, days, "periods")
        except ValueError as err:
            raise bad_request("bad_field", str(err)) from err
    await retention.set_periods(hub.db, changes, actor=f"user:{current_user(request).id}")
    return web.json_response(await _shown(request))


@routes.post(PATH + "/run")
@policy("admin")
async def run_now(request: web.Request) -> web.Response:
    """A retention pass now (the hub also runs one every ``retention_sweep_s``)."""
    hub = get_hub(request)
    deleted = await retention.enforce(
        hub.db,
        hub.settings,
        request.app[EVIDENCE].root,
        actor=f"user:{current_user(request).id}",
    )
    return web.json_response({"deleted": deleted})


_DAYS = {"type": "integer", "minimum": 0, "maximum": retention.MAX_DAYS}
openapi.SCHEMAS["RetentionPeriods"] = openapi._obj(
    {
        "periods": {
            "type": "object",
            "minProperties": 1,
            "properties": dict.fromkeys(retention.KIND_NAMES, _DAYS),
            "additionalProperties": False,
        }
    },
    ["periods"],
)
openapi.PATHS[PATH] = {
    "get": openapi._op("Retention period of each record kind, in force", roles=VIEW_ROLES),
    "put": openapi._op(
        "Override retention periods in days (0 keeps forever); audited",
        roles=("admin",),
        body="RetentionPeriods",
    ),
}
openapi.PATHS[PATH + "/run"] = {
    "post": openapi._op("Run a retention pass now; audited per batch", roles=("admin",))
}
