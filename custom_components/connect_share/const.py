"""Constants of the Connect Share integration."""

from __future__ import annotations

from typing import Final

from .protocol.policy import CAMERA_MODES

DOMAIN: Final = "connect_share"
CLIENT_VERSION: Final = "0.1.0"

CONF_URL: Final = "url"
CONF_CODE: Final = "code"
CONF_HUB_ID: Final = "hub_id"
CONF_HUB_NAME: Final = "hub_name"
CONF_INSTALLATION_ID: Final = "installation_id"
CONF_PRIVATE_KEY: Final = "private_key"
CONF_ISSUER: Final = "issuer"
CONF_JWKS: Final = "jwks"
CONF_WS_PATH: Final = "ws_path"
CONF_FINGERPRINTS: Final = "fingerprints"

OPT_CAMERAS: Final = "cameras"
OPT_NOTIFY: Final = "notify_target"
OPT_DETECTION: Final = "detection"  # entry-level detection options (model, retention, ...)

MODES: Final = CAMERA_MODES
INCIDENT_TYPES: Final = (
    "emergency",
    "burglary",
    "robbery",
    "assault",
    "missing_person",
    "vehicle_theft",
    "hit_and_run",
    "vandalism",
    "fire",
)

# Events on the HA bus (automations, blueprints, logbook).
EVENT_REQUEST: Final = "connect_share_request"
EVENT_ACCESS: Final = "connect_share_access"
EVENT_DETECTION: Final = "connect_share_detection"
EVENT_NOTIFY_ACTION: Final = "mobile_app_notification_action"
ACTION_APPROVE: Final = "CONNECT_SHARE_APPROVE_"
ACTION_DECLINE: Final = "CONNECT_SHARE_DECLINE_"

SERVICE_APPROVE: Final = "approve_request"
SERVICE_DECLINE: Final = "decline_request"
SERVICE_REVOKE: Final = "revoke_grant"
SERVICE_REVOKE_ALL: Final = "revoke_all"
SERVICE_PAUSE: Final = "pause_sharing"
SERVICE_RESUME: Final = "resume_sharing"
SERVICE_SHARE_FOOTAGE: Final = "share_footage"

ISSUE_UNREACHABLE: Final = "hub_unreachable"
ISSUE_REMOVED: Final = "installation_removed"
ISSUE_AUDIT: Final = "audit_mismatch"
ISSUE_AUDIT_LOCAL: Final = "audit_log_damaged"
ISSUE_AUDIT_LOCKED: Final = "audit_log_locked"
ISSUE_AUDIT_WRITE: Final = "audit_log_unwritable"
ISSUE_KEYS: Final = "hub_keys_changed"
ISSUE_DETECTION: Final = "detection_unavailable"
# Consecutive failed connection attempts before the resident is told (a blip is not news).
UNREACHABLE_AFTER: Final = 3
# A request the resident never answers is "no footage" after this long.
REQUEST_TTL_S: Final = 1800
