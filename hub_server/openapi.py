"""The OpenAPI 3.1 document of the hub's HTTP API, kept next to the routes.

A test checks that every registered route appears here (and nothing else), so the document
cannot silently fall behind the code.
"""

from __future__ import annotations

import copy
from typing import Any

from . import __version__
from .settings import Settings
from .users import MIN_PASSWORD, USERNAME_RE

ROLE_NOTE = "Roles: "


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required or [],
        "additionalProperties": False,
    }


STR = {"type": "string"}
NUM = {"type": "number"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
ANY_OBJ = {"type": "object"}


def _text(max_len: int, min_len: int = 1) -> dict[str, Any]:
    return {"type": "string", "minLength": min_len, "maxLength": max_len}


def _out(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A response object: the named fields are promised, more may be added later."""
    return {"type": "object", "properties": props, "required": required or list(props)}


def _list_of(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return _out({key: {"type": "array", "items": item}})


OPT_STR = {"type": ["string", "null"]}
OPT_NUM = {"type": ["number", "null"]}
STRS = {"type": "array", "items": STR}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR = _obj(
    {"error": STR, "message": STR, "allowed": {"type": "array"}, "retry_after": INT},
    ["error", "message"],
)
ERROR["additionalProperties"] = True

WINDOW = {
    "window_start": {"type": "number", "minimum": 0, "description": "epoch seconds"},
    "window_end": {"type": "number", "minimum": 0, "description": "epoch seconds"},
}

SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
    "Login": _obj({"username": _text(64), "password": _text(1024)}, ["username", "password"]),
    "NewToken": _obj(
        {"name": _text(128), "ttl_days": {"type": "integer", "minimum": 1, "maximum": 365}},
        ["name"],
    ),
    "NewUser": _obj(
        {
            "username": {"type": "string", "pattern": USERNAME_RE.pattern},
            "password": _text(1024, MIN_PASSWORD),
            "role": {"enum": ["admin", "supervisor", "analyst", "officer"]},
            "display_name": {"type": "string", "maxLength": 128},
            "badge": {"type": "string", "maxLength": 32},
        },
        ["username", "password", "role"],
    ),
    "NewPassword": _obj({"password": _text(1024, 12)}, ["password"]),
    "AssignOfficer": _obj({"user_id": _text(32)}, ["user_id"]),
    "NewEnrollmentCode": _obj(
        {
            "ttl_s": {"type": "integer", "minimum": 60, "maximum": 30 * 86400},
            "note": {"type": "string", "maxLength": 200},
        }
    ),
    "SignedManifest": _obj(
        {
            "manifest": {**ANY_OBJ, "description": "connect_share_protocol EvidenceManifest"},
            "signature": {**STR, "description": "base64url Ed25519 signature"},
        },
        ["manifest", "signature"],
    ),
    "Enroll": _obj(
        {
            "code": _text(64),
            "public_key": {**_text(64), "description": "base64url raw Ed25519 public key"},
            "name": _text(128),
            "client_version": _text(64),
        },
        ["code", "public_key", "name", "client_version"],
    ),
    "NewIncident": _obj(
        {
            "case_number": _text(64),
            "incident_type": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"},
            "offense_code": {
                **_text(32),
                "description": "an active code of GET /api/v1/offense-types",
            },
            # minLength: the hub's min_reason_chars, filled in by openapi_document()
            "reason": _text(2000),
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            # maximum: the hub's max_radius_m, filled in by openapi_document()
            "radius_m": {"type": "number", "exclusiveMinimum": 0},
            **WINDOW,
        },
        ["case_number", "incident_type", "offense_code", "reason", "lat", "lon", "radius_m"],
    ),
    "NewRequests": _obj(
        {
            "scope": {"enum": ["clip", "live", "snapshot"]},
            "cameras": {
                "type": "array",
                "minItems": 1,
                "maxItems": 500,
                "items": _obj(
                    {"installation_id": STR, "camera_id": STR}, ["installation_id", "camera_id"]
                ),
            },
            "legal_basis": {"enum": ["consent", "exigent", "warrant"], "default": "consent"},
            "warrant_ref": {"type": "string", "maxLength": 128, "description": "warrant only"},
            "warrant_court": {"type": "string", "maxLength": 128, "description": "warrant only"},
            **WINDOW,
        },
        ["scope", "cameras"],
    ),
    "Reason": _obj({"reason": {"type": "string", "maxLength": 200}}),
    "NewSession": _obj(
        {
            "grant_id": _text(64),
            "camera_id": _text(128),
            "fps": {"type": "number", "minimum": 0.1, "maximum": 30},
        },
        ["grant_id", "camera_id"],
    ),
    "OffenseType": _obj(
        {
            "code": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,32}$"},
            "label": _text(128),
            "group": {"enum": ["person", "property", "society", "other"]},
            "active": BOOL,
        },
        ["code", "label", "group"],
    ),
    "ForbiddenPurpose": _obj(
        {"code": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"}, "label": _text(200)},
        ["code", "label"],
    ),
    "Review": _obj({"note": _text(2000)}, ["note"]),
    # Responses. The ids here are what the links below hand to the next operation.
    "User": _out(
        {
            "id": STR,
            "username": STR,
            "display_name": STR,
            "badge": STR,
            "role": STR,
            "active": BOOL,
            "created_at": NUM,
        }
    ),
    "Incident": _out(
        {
            "incident_id": STR,
            "case_number": STR,
            "incident_type": STR,
            "reason": STR,
            "lat": NUM,
            "lon": NUM,
            "radius_m": NUM,
            "window_start": OPT_NUM,
            "window_end": OPT_NUM,
            "created_by": STR,
            "created_at": NUM,
            "closed_at": OPT_NUM,
            "status": {"enum": ["open", "closed"]},
            "offense_code": OPT_STR,
            "offense_group": OPT_STR,
        }
    ),
    "Grant": _out(
        {
            "grant_id": STR,
            "request_id": STR,
            "incident_id": STR,
            "installation_id": STR,
            "officer_id": STR,
            "camera_ids": STRS,
            "scope": STR,
            "window_start": OPT_NUM,
            "window_end": OPT_NUM,
            "kid": STR,
            "issued_at": NUM,
            "expires_at": NUM,
            "max_fps": OPT_NUM,
            "revoked_at": OPT_NUM,
            "legal_basis": OPT_STR,
            "reviewed_at": OPT_NUM,
            "state": {"enum": ["active", "expired", "revoked"]},
            "token": {**STR, "description": "only for the officer the grant names"},
        },
        ["grant_id", "request_id", "incident_id", "installation_id", "camera_ids", "state"],
    ),
    "AccessRequest": _out(
        {
            "request_id": STR,
            "installation_id": STR,
            "scope": STR,
            "status": {"enum": ["pending", "closed"]},
            "created_at": NUM,
            "expires_at": NUM,
            "cameras": {
                "type": "array",
                "items": _out({"camera_id": STR, "outcome": STR}),
            },
            "grants": {"type": "array", "items": _ref("Grant")},
        }
    ),
    "Camera": _out(
        {
            "installation_id": STR,
            "camera_id": STR,
            "name": STR,
            "mode": STR,
            "lat": OPT_NUM,
            "lon": OPT_NUM,
            "online": BOOL,
        }
    ),
}


def _op(
    summary: str,
    *,
    roles: tuple[str, ...] | None = None,
    body: str | None = None,
    body_optional: bool = False,
    ok: int = 200,
    errors: tuple[int, ...] = (),
    content_type: str = "application/json",
    params: list[dict[str, Any]] | None = None,
    returns: dict[str, Any] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(ok): {"description": "OK", "content": {content_type: {"schema": returns or ANY_OBJ}}}
    }
    if content_type != "application/json":
        responses[str(ok)]["content"] = {content_type: {"schema": {"type": "string"}}}
    codes = set(errors)
    if body:
        codes |= {400, 413, 415}
    if roles is not None:
        codes |= {401, 403}
    for code in sorted(codes):
        responses[str(code)] = {
            "description": "refused",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if roles is None:
        op["security"] = []
    else:
        op["description"] = ROLE_NOTE + ", ".join(roles)
        op["security"] = [{"bearer": []}, {"cookie": [], "csrf": []}]
    if body:
        op["requestBody"] = {
            "required": not body_optional,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    if params:
        op["parameters"] = params
    return op


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


ALL = ("admin", "supervisor", "analyst", "officer")
OFFENSE_OUT = _out({"code": STR, "label": STR, "group": STR, "active": BOOL})
PURPOSE_OUT = _out({"code": STR, "label": STR})
LIVE = ("analyst", "supervisor", "admin")
SUP = ("supervisor", "admin")

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/hub": {"get": _op("Identify this server as a Connect Share hub")},
    "/.well-known/jwks.json": {"get": _op("The hub's current and previous signing keys")},
    "/healthz": {"get": _op("Liveness and database check", errors=(503,))},
    "/readyz": {"get": _op("Readiness: database and bus reachable, not draining", errors=(503,))},
    "/api/v1/transparency": {"get": _op("Public monthly counts, no personal data")},
    "/transparency": {
        "get": _op(
            "Public page: monthly counts by offense type, legal basis and agency",
            content_type="text/html",
        )
    },
    "/transparency.json": {
        "get": _op("The same counts as JSON (1..4 shown as <5), from the audit log")
    },
    "/transparency.csv": {"get": _op("The same counts as CSV", content_type="text/csv")},
    "/api/openapi.json": {"get": _op("This document")},
    "/api/v1/auth/login": {
        "post": _op(
            "Log in; sets the session cookie and returns the CSRF token",
            body="Login",
            errors=(401, 429),
        )
    },
    "/api/v1/auth/logout": {"post": _op("Log out", roles=ALL)},
    "/api/v1/auth/me": {"get": _op("The current user and CSRF token", roles=ALL)},
    "/api/v1/auth/tokens": {
        "post": _op("Create a bearer API token (shown once)", roles=ALL, body="NewToken", ok=201)
    },
    "/api/v1/users": {
        "get": _op("List users", roles=("admin",), returns=_list_of("users", _ref("User"))),
        "post": _op(
            "Create a user",
            roles=("admin",),
            body="NewUser",
            ok=201,
            errors=(409,),
            returns=_out({"user": _ref("User")}),
        ),
    },
    "/api/v1/users/{user_id}/disable": {
        "post": _op(
            "Disable a user: sessions, tokens, grants and streams end now",
            roles=("admin",),
            errors=(404, 409),
            params=[_path("user_id")],
            returns=_out({"user": _ref("User"), "revoked": STRS}),
        )
    },
    "/api/v1/users/{user_id}/enable": {
        "post": _op(
            "Re-enable a user",
            roles=("admin",),
            errors=(404,),
            params=[_path("user_id")],
            returns=_out({"user": _ref("User")}),
        )
    },
    "/api/v1/users/{user_id}/password": {
        "post": _op(
            "Set a new password (ends the user's console sessions)",
            roles=("admin",),
            body="NewPassword",
            errors=(404,),
            params=[_path("user_id")],
            returns=_out({"user": _ref("User")}),
        )
    },
    "/api/v1/users/{user_id}/tokens/revoke": {
        "post": _op(
            "Revoke every API token of a user",
            roles=("admin",),
            errors=(404,),
            params=[_path("user_id")],
            returns=_out({"user_id": STR, "revoked_tokens": INT}),
        )
    },
    "/api/v1/enrollment-codes": {
        "post": _op(
            "Create a one-time enrollment code",
            roles=("officer", "supervisor", "admin"),
            body="NewEnrollmentCode",
            ok=201,
            returns=_out({"code": STR, "expires_at": NUM}),
        )
    },
    "/api/v1/installations/enroll": {
        "post": _op(
            "Enroll an installation with a one-time code and its public key",
            body="Enroll",
            ok=201,
            errors=(403, 409),
            returns=_out({"installation_id": STR, "issuer": STR, "jwks": ANY_OBJ}),
        )
    },
    "/api/v1/installations/ws": {
        "get": _op(
            "Installation WebSocket (hello, challenge, auth, then control messages and "
            "binary frames; see docs/architecture.md)",
            ok=101,
            errors=(400,),
        )
    },
    "/api/v1/installations": {
        "get": _op(
            "Enrolled installations",
            roles=SUP,
            returns=_list_of(
                "installations",
                _out({"installation_id": STR, "name": STR, "online": BOOL, "cameras": INT}),
            ),
        )
    },
    "/api/v1/installations/{installation_id}": {
        "delete": _op(
            "Remove an installation (revokes its grants)",
            roles=("admin",),
            errors=(404, 409),
            params=[_path("installation_id")],
            returns=_out({"removed": STR}),
        )
    },
    "/api/v1/incidents": {
        "get": _op(
            "Recent incidents",
            roles=ALL,
            errors=(400,),
            params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})],
            returns=_list_of("incidents", _ref("Incident")),
        ),
        "post": _op(
            "Open an incident",
            roles=ALL,
            body="NewIncident",
            ok=201,
            returns=_out({"incident": _ref("Incident")}),
        ),
    },
    "/api/v1/incidents/{incident_id}": {
        "get": _op(
            "An incident with its requests, outcomes and grants (a camera not approved is "
            "pending until the request's deadline, then no_footage)",
            roles=ALL,
            errors=(404,),
            params=[_path("incident_id")],
            returns=_out(
                {
                    "incident": _ref("Incident"),
                    "requests": {"type": "array", "items": _ref("AccessRequest")},
                }
            ),
        )
    },
    "/api/v1/incidents/{incident_id}/cameras": {
        "get": _op(
            "Cameras inside the incident's circle, nearest first",
            roles=ALL,
            errors=(404,),
            params=[_path("incident_id")],
            returns=_out(
                {"incident_id": STR, "cameras": {"type": "array", "items": _ref("Camera")}}
            ),
        )
    },
    "/api/v1/incidents/{incident_id}/requests": {
        "post": _op(
            "Ask the installations concerned for live view, snapshots or footage",
            roles=ALL,
            body="NewRequests",
            ok=201,
            errors=(404, 409),
            params=[_path("incident_id")],
            returns=_out(
                {
                    "requests": {"type": "array", "items": _ref("AccessRequest")},
                    "delivered_now": INT,
                }
            ),
        )
    },
    "/api/v1/incidents/{incident_id}/close": {
        "post": _op(
            "Close the incident and revoke its grants",
            roles=ALL,
            errors=(404, 409),
            params=[_path("incident_id")],
            returns=_out({"incident": _ref("Incident"), "revoked": STRS}),
        )
    },
    "/api/v1/incidents/{incident_id}/revoke": {
        "post": _op(
            "Revoke every grant of the incident",
            roles=ALL,
            body="Reason",
            body_optional=True,
            errors=(404,),
            params=[_path("incident_id")],
            returns=_out({"revoked": STRS}),
        )
    },
    "/api/v1/incidents/{incident_id}/officers": {
        "post": _op(
            "Assign an officer to the incident (its owner, a supervisor or an admin)",
            roles=ALL,
            body="AssignOfficer",
            ok=201,
            errors=(404,),
            params=[_path("incident_id")],
            returns=_out({"incident_id": STR, "user_id": STR}),
        )
    },
    "/api/v1/offense-types": {
        "get": _op(
            "Offense types officers may name (code, label, group)",
            roles=ALL,
            returns=_list_of("offense_types", OFFENSE_OUT),
        ),
        "post": _op(
            "Add or change an offense type (active: false retires it)",
            roles=("admin",),
            body="OffenseType",
            ok=201,
            returns=_out({"offense_type": OFFENSE_OUT}),
        ),
    },
    "/api/v1/forbidden-purposes": {
        "get": _op(
            "Purposes the city never allows",
            roles=ALL,
            returns=_list_of("forbidden_purposes", PURPOSE_OUT),
        ),
        "post": _op(
            "Add a forbidden purpose (there is no removal)",
            roles=("admin",),
            body="ForbiddenPurpose",
            ok=201,
            returns=_out({"forbidden_purpose": PURPOSE_OUT}),
        ),
    },
    "/api/v1/agency": {"get": _op("This hub's agency name and ORI-style id", roles=ALL)},
    "/api/v1/review": {
        "get": _op(
            "Supervisor review queue: accesses without a warrant not reviewed yet",
            roles=SUP,
            errors=(400,),
            params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})],
            returns=_list_of("queue", _out({"grant_id": STR, "incident_id": STR})),
        )
    },
    "/api/v1/review/{grant_id}": {
        "post": _op(
            "Mark an access reviewed, with a note",
            roles=SUP,
            body="Review",
            errors=(404, 409),
            params=[_path("grant_id")],
        )
    },
    "/api/v1/cameras": {
        "get": _op(
            "Shared cameras with a location (for the map)",
            roles=ALL,
            errors=(400,),
            params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 100000})],
        )
    },
    "/api/v1/grants/{grant_id}": {
        "get": _op(
            "A grant",
            roles=ALL,
            errors=(404,),
            params=[_path("grant_id")],
            returns=_out({"grant": _ref("Grant")}),
        )
    },
    "/api/v1/grants/{grant_id}/revoke": {
        "post": _op(
            "Revoke a grant; the installation is told at once",
            roles=ALL,
            body="Reason",
            body_optional=True,
            errors=(404,),
            params=[_path("grant_id")],
            returns=_out({"revoked": STRS}),
        )
    },
    "/api/v1/grants/{grant_id}/snapshot": {
        "post": _op(
            "Take one snapshot under a snapshot grant: the installation sends one masked "
            "JPEG, which is returned (image/jpeg, Cache-Control: no-store) and never stored",
            roles=LIVE,
            errors=(404, 409, 429, 504),
            content_type="image/jpeg",
            params=[_path("grant_id")],
        )
    },
    "/api/v1/sessions": {
        "post": _op(
            "Open a live session on an approved camera",
            roles=LIVE,
            body="NewSession",
            ok=201,
            errors=(404, 409, 504),
            returns=_out({"session_id": STR, "state": STR, "expires_at": NUM, "stream_path": STR}),
        )
    },
    "/api/v1/sessions/{session_id}": {
        "get": _op(
            "A live session (an end by the installation reads installation:<neutral reason>)",
            roles=LIVE,
            errors=(404,),
            params=[_path("session_id")],
            returns=_out({"session": _out({"session_id": STR}, ["session_id"])}),
        )
    },
    "/api/v1/sessions/{session_id}/stream": {
        "get": _op(
            "MJPEG stream of the relayed frames; a session with no stream attached for "
            "no_viewer_grace_s ends (no_viewer)",
            roles=LIVE,
            errors=(404, 410, 429),
            content_type="multipart/x-mixed-replace",
            params=[_path("session_id")],
        )
    },
    "/api/v1/sessions/{session_id}/close": {
        "post": _op(
            "Close a live session",
            roles=LIVE,
            errors=(404,),
            params=[_path("session_id")],
            returns=_out({"session_id": STR, "ended": STR}),
        )
    },
    "/api/v1/audit": {
        "get": _op(
            "Audit entries",
            roles=SUP,
            errors=(400,),
            params=[
                _query("since_seq", {"type": "integer", "minimum": 0}),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 5000}),
                _query("incident_id", STR),
                _query("installation_id", STR),
                _query("action", STR),
            ],
        )
    },
    "/api/v1/audit/verify": {"get": _op("Recompute the audit hash chain", roles=SUP)},
}


# -- links: which response field feeds which next operation (stateful clients, schemathesis)


def _link(
    target: str, method: str, params: dict[str, str] | None = None, **body: Any
) -> dict[str, Any]:
    link: dict[str, Any] = {
        # A JSON pointer into this document ("/" escaped as "~1"), as in the OpenAPI spec.
        "operationRef": "#/paths/" + target.replace("~", "~0").replace("/", "~1") + "/" + method
    }
    if params:
        link["parameters"] = params
    if body:
        link["requestBody"] = body
    return link


INCIDENT = "/api/v1/incidents/{incident_id}"
GRANT = "/api/v1/grants/{grant_id}"
SESSION = "/api/v1/sessions/{session_id}"
USER = "/api/v1/users/{user_id}"
EVIDENCE = "/api/v1/evidence/{evidence_id}"


def _incident_links(expr: str, *, changing: bool = True) -> dict[str, Any]:
    p = {"incident_id": expr}
    links = {
        "GetIncident": _link(INCIDENT, "get", p),
        "IncidentCameras": _link(INCIDENT + "/cameras", "get", p),
        "RequestAccess": _link(INCIDENT + "/requests", "post", p),
        "AssignOfficer": _link(INCIDENT + "/officers", "post", p),
        "IncidentEvidence": _link(INCIDENT + "/evidence", "get", p),
        "IncidentSummaries": _link(INCIDENT + "/summaries", "get", p),
    }
    if changing:
        links["CloseIncident"] = _link(INCIDENT + "/close", "post", p)
        links["RevokeIncident"] = _link(INCIDENT + "/revoke", "post", p)
    return links


def _grant_links(grant: str, camera: str) -> dict[str, Any]:
    p = {"grant_id": grant}
    return {
        "GetGrant": _link(GRANT, "get", p),
        "RevokeGrant": _link(GRANT + "/revoke", "post", p),
        "TakeSnapshot": _link(GRANT + "/snapshot", "post", p),
        "ReviewAccess": _link("/api/v1/review/{grant_id}", "post", p),
        "OpenSession": _link("/api/v1/sessions", "post", grant_id=grant, camera_id=camera),
    }


def _user_links(expr: str) -> dict[str, Any]:
    p = {"user_id": expr}
    return {
        "DisableUser": _link(USER + "/disable", "post", p),
        "EnableUser": _link(USER + "/enable", "post", p),
        "SetPassword": _link(USER + "/password", "post", p),
        "RevokeUserTokens": _link(USER + "/tokens/revoke", "post", p),
    }


def _evidence_links(expr: str) -> dict[str, Any]:
    p = {"evidence_id": expr}
    return {
        "GetEvidence": _link(EVIDENCE, "get", p),
        "EvidenceManifest": _link(EVIDENCE + "/manifest", "get", p),
        "EvidenceFile": _link(EVIDENCE + "/file", "get", p),
    }


FIRST_GRANT = "$response.body#/requests/0/grants/0"
# (path, method, status) -> links of that response. The list operations link their first
# item; the user list is left out on purpose (its first user may be the caller).
LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("/api/v1/incidents", "post", "201"): _incident_links("$response.body#/incident/incident_id"),
    ("/api/v1/incidents", "get", "200"): _incident_links(
        "$response.body#/incidents/0/incident_id", changing=False
    ),
    (INCIDENT, "get", "200"): {
        **_incident_links("$response.body#/incident/incident_id"),
        **_grant_links(FIRST_GRANT + "/grant_id", FIRST_GRANT + "/camera_ids/0"),
    },
    (INCIDENT + "/cameras", "get", "200"): {
        "RequestAccess": _link(
            INCIDENT + "/requests",
            "post",
            {"incident_id": "$response.body#/incident_id"},
            cameras=[
                {
                    "installation_id": "$response.body#/cameras/0/installation_id",
                    "camera_id": "$response.body#/cameras/0/camera_id",
                }
            ],
        )
    },
    (INCIDENT + "/requests", "post", "201"): {
        "GetIncident": _link(INCIDENT, "get", {"incident_id": "$request.path.incident_id"})
    },
    (INCIDENT + "/close", "post", "200"): {
        "GetIncident": _link(
            INCIDENT, "get", {"incident_id": "$response.body#/incident/incident_id"}
        )
    },
    (INCIDENT + "/officers", "post", "201"): {
        "GetIncident": _link(INCIDENT, "get", {"incident_id": "$response.body#/incident_id"})
    },
    (GRANT, "get", "200"): {
        **_grant_links("$response.body#/grant/grant_id", "$response.body#/grant/camera_ids/0"),
        "GetIncident": _link(INCIDENT, "get", {"incident_id": "$response.body#/grant/incident_id"}),
    },
    ("/api/v1/review", "get", "200"): {
        "ReviewAccess": _link(
            "/api/v1/review/{grant_id}", "post", {"grant_id": "$response.body#/queue/0/grant_id"}
        ),
        "GetGrant": _link(GRANT, "get", {"grant_id": "$response.body#/queue/0/grant_id"}),
    },
    ("/api/v1/sessions", "post", "201"): {
        "GetSession": _link(SESSION, "get", {"session_id": "$response.body#/session_id"}),
        "WatchSession": _link(
            SESSION + "/stream", "get", {"session_id": "$response.body#/session_id"}
        ),
        "CloseSession": _link(
            SESSION + "/close", "post", {"session_id": "$response.body#/session_id"}
        ),
    },
    ("/api/v1/users", "post", "201"): _user_links("$response.body#/user/id"),
    (USER + "/disable", "post", "200"): {
        "EnableUser": _link(USER + "/enable", "post", {"user_id": "$response.body#/user/id"})
    },
    ("/api/v1/enrollment-codes", "post", "201"): {
        "Enroll": _link("/api/v1/installations/enroll", "post", code="$response.body#/code")
    },
    ("/api/v1/installations/enroll", "post", "201"): {
        "RemoveInstallation": _link(
            "/api/v1/installations/{installation_id}",
            "delete",
            {"installation_id": "$response.body#/installation_id"},
        )
    },
    ("/api/v1/installations", "get", "200"): {
        "RemoveInstallation": _link(
            "/api/v1/installations/{installation_id}",
            "delete",
            {"installation_id": "$response.body#/installations/0/installation_id"},
        )
    },
    ("/api/v1/offense-types", "get", "200"): {
        "OpenIncident": _link(
            "/api/v1/incidents", "post", offense_code="$response.body#/offense_types/0/code"
        )
    },
    ("/api/v1/offense-types", "post", "201"): {
        "OpenIncident": _link(
            "/api/v1/incidents", "post", offense_code="$response.body#/offense_type/code"
        )
    },
    ("/api/v1/evidence/uploads", "post", "201"): {
        "SendEvidence": _link(
            "/api/v1/evidence/uploads/{upload_id}",
            "put",
            {"upload_id": "$response.body#/upload_id"},
        )
    },
    (INCIDENT + "/evidence", "get", "200"): _evidence_links(
        "$response.body#/evidence/0/evidence_id"
    ),
}

# Response bodies of operations documented in other modules that links read from.
RETURNS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/evidence/uploads", "post"): _out(
        {"upload_id": STR, "upload_path": STR, "expires_at": NUM}
    ),
    (INCIDENT + "/evidence", "get"): _list_of(
        "evidence", _out({"evidence_id": STR, "incident_id": STR}, ["evidence_id"])
    ),
}


def _link_target(doc: dict[str, Any], link: dict[str, Any]) -> dict[str, Any] | None:
    path, method = link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
    path = path.replace("~1", "/").replace("~0", "~")
    op: dict[str, Any] | None = doc["paths"].get(path, {}).get(method)
    return op


def _add_links(doc: dict[str, Any]) -> None:
    """Response schemas and links, only between operations this hub serves."""
    for (path, method), schema in RETURNS.items():
        op = doc["paths"].get(path, {}).get(method)
        if op is not None:
            (ok,) = [code for code in op["responses"] if code.startswith("2")]
            op["responses"][ok]["content"]["application/json"]["schema"] = copy.deepcopy(schema)
    for (path, method, status), links in LINKS.items():
        op = doc["paths"].get(path, {}).get(method)
        if op is None:
            continue
        served = {name: link for name, link in links.items() if _link_target(doc, link)}
        if served:
            op["responses"][status]["links"] = copy.deepcopy(served)


def openapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """The document, with the limits this hub's settings put on incidents."""
    settings = settings or Settings()
    doc = copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Connect Share hub",
                "version": __version__,
                "description": "Police-side hub of Connect Share. Errors are JSON "
                '{"error": code, "message": reason}.',
            },
            "paths": PATHS,
            "components": {
                "schemas": SCHEMAS,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "cs_session"},
                    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
                },
            },
        }
    )
    incident = doc["components"]["schemas"]["NewIncident"]["properties"]
    incident["reason"]["minLength"] = max(1, settings.min_reason_chars)
    incident["radius_m"]["maximum"] = settings.max_radius_m
    _add_links(doc)
    return doc
