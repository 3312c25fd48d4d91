"""The OpenAPI 3.1 document of the hub's HTTP API, kept next to the routes.

A test checks that every registered route appears here (and nothing else), so the document
cannot silently fall behind the code.
"""

from __future__ import annotations

import copy
from typing import Any

from . import __version__

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
            "username": _text(64, 2),
            "password": _text(1024, 12),
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
            "reason": {**_text(2000), "description": "at least the hub's min_reason_chars (20)"},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "radius_m": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "capped by the hub's max_radius_m (default 5000)",
            },
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
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


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
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(ok): {"description": "OK", "content": {content_type: {"schema": ANY_OBJ}}}
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
LIVE = ("analyst", "supervisor", "admin")
SUP = ("supervisor", "admin")

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/hub": {"get": _op("Identify this server as a Connect Share hub")},
    "/.well-known/jwks.json": {"get": _op("The hub's current and previous signing keys")},
    "/healthz": {"get": _op("Liveness and database check", errors=(503,))},
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
        "get": _op("List users", roles=("admin",)),
        "post": _op("Create a user", roles=("admin",), body="NewUser", ok=201, errors=(409,)),
    },
    "/api/v1/users/{user_id}/disable": {
        "post": _op(
            "Disable a user: sessions, tokens, grants and streams end now",
            roles=("admin",),
            errors=(404, 409),
            params=[_path("user_id")],
        )
    },
    "/api/v1/users/{user_id}/enable": {
        "post": _op("Re-enable a user", roles=("admin",), errors=(404,), params=[_path("user_id")])
    },
    "/api/v1/users/{user_id}/password": {
        "post": _op(
            "Set a new password (ends the user's console sessions)",
            roles=("admin",),
            body="NewPassword",
            errors=(404,),
            params=[_path("user_id")],
        )
    },
    "/api/v1/users/{user_id}/tokens/revoke": {
        "post": _op(
            "Revoke every API token of a user",
            roles=("admin",),
            errors=(404,),
            params=[_path("user_id")],
        )
    },
    "/api/v1/enrollment-codes": {
        "post": _op(
            "Create a one-time enrollment code",
            roles=("officer", "supervisor", "admin"),
            body="NewEnrollmentCode",
            ok=201,
        )
    },
    "/api/v1/installations/enroll": {
        "post": _op(
            "Enroll an installation with a one-time code and its public key",
            body="Enroll",
            ok=201,
            errors=(403, 409),
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
    "/api/v1/installations": {"get": _op("Enrolled installations", roles=SUP)},
    "/api/v1/installations/{installation_id}": {
        "delete": _op(
            "Remove an installation (revokes its grants)",
            roles=("admin",),
            errors=(404, 409),
            params=[_path("installation_id")],
        )
    },
    "/api/v1/incidents": {
        "get": _op(
            "Recent incidents",
            roles=ALL,
            errors=(400,),
            params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})],
        ),
        "post": _op("Open an incident", roles=ALL, body="NewIncident", ok=201),
    },
    "/api/v1/incidents/{incident_id}": {
        "get": _op(
            "An incident with its requests, outcomes and grants (a camera not approved is "
            "pending until the request's deadline, then no_footage)",
            roles=ALL,
            errors=(404,),
            params=[_path("incident_id")],
        )
    },
    "/api/v1/incidents/{incident_id}/cameras": {
        "get": _op(
            "Cameras inside the incident's circle, nearest first",
            roles=ALL,
            errors=(404,),
            params=[_path("incident_id")],
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
        )
    },
    "/api/v1/incidents/{incident_id}/close": {
        "post": _op(
            "Close the incident and revoke its grants",
            roles=ALL,
            errors=(404, 409),
            params=[_path("incident_id")],
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
        )
    },
    "/api/v1/offense-types": {
        "get": _op("Offense types officers may name (code, label, group)", roles=ALL),
        "post": _op(
            "Add or change an offense type (active: false retires it)",
            roles=("admin",),
            body="OffenseType",
            ok=201,
        ),
    },
    "/api/v1/forbidden-purposes": {
        "get": _op("Purposes the city never allows", roles=ALL),
        "post": _op(
            "Add a forbidden purpose (there is no removal)",
            roles=("admin",),
            body="ForbiddenPurpose",
            ok=201,
        ),
    },
    "/api/v1/agency": {"get": _op("This hub's agency name and ORI-style id", roles=ALL)},
    "/api/v1/review": {
        "get": _op(
            "Supervisor review queue: accesses without a warrant not reviewed yet",
            roles=SUP,
            errors=(400,),
            params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})],
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
        "get": _op("A grant", roles=ALL, errors=(404,), params=[_path("grant_id")])
    },
    "/api/v1/grants/{grant_id}/revoke": {
        "post": _op(
            "Revoke a grant; the installation is told at once",
            roles=ALL,
            body="Reason",
            body_optional=True,
            errors=(404,),
            params=[_path("grant_id")],
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
        )
    },
    "/api/v1/sessions/{session_id}": {
        "get": _op(
            "A live session (an end by the installation reads installation:<neutral reason>)",
            roles=LIVE,
            errors=(404,),
            params=[_path("session_id")],
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
        "post": _op("Close a live session", roles=LIVE, errors=(404,), params=[_path("session_id")])
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


def openapi_document() -> dict[str, Any]:
    return copy.deepcopy(
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
