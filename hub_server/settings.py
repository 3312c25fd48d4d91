"""Hub configuration: one frozen dataclass, filled from flags and ``CONNECT_SHARE_HUB_*``."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connect_share_protocol.messages import NO_VIEWER_GRACE_S

ENV_PREFIX = "CONNECT_SHARE_HUB_"
DEFAULT_DB_FILE = "connect-share-hub.sqlite3"


def default_database_url(directory: Path | None = None) -> str:
    path = (directory or Path.cwd()) / DEFAULT_DB_FILE
    return f"sqlite+aiosqlite:///{path}"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = dataclasses.field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = 8765
    hub_name: str = "Connect Share hub"
    # The agency this hub serves: carried in every token and request (issue 14).
    agency_name: str = "Connect Share police department"
    # ORI-style id: two letters and seven letters or digits; empty = not stated.
    agency_id: str = ""
    # Every incident states why, in at least this many characters.
    min_reason_chars: int = 20
    # ``iss`` of every token; empty means "connect-share-hub:<hub_id>".
    issuer: str = ""
    # Cookies get the Secure flag unless the hub is served over plain HTTP (tests, demo).
    secure_cookies: bool = False
    max_body_bytes: int = 64 * 1024
    max_radius_m: float = 5_000.0
    session_ttl_s: int = 12 * 3600
    api_token_ttl_days: int = 90
    # Failed logins: per username (only from addresses that failed) and per address; the
    # wait starts at login_base_delay_s and doubles with each further failure.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_base_delay_s: float = 1.0
    login_window_s: int = 15 * 60
    # How long an installation has to answer: live/snapshot are urgent, footage is not.
    live_request_ttl_s: int = 15 * 60
    footage_request_ttl_s: int = 24 * 3600
    default_token_lifetime_s: int = 15 * 60
    # Floor for live/snapshot token lifetimes (whatever the resident's session limit says).
    min_token_lifetime_s: int = 60
    challenge_ttl_s: int = 30
    # Installation sockets before auth_ok: deadline, byte budget, per-address and total caps.
    auth_timeout_s: float = 10.0
    pre_auth_budget_bytes: int = 16 * 1024
    max_unauthenticated_per_address: int = 8
    max_unauthenticated_sockets: int = 256
    heartbeat_s: float = 20.0
    # An installation silent for this long is dropped (it pings every 20 s).
    stale_after_s: float = 75.0
    session_open_timeout_s: float = 10.0
    # How long a snapshot may take: session start plus the first frame.
    snapshot_timeout_s: float = 10.0
    viewer_queue_frames: int = 2
    # A live session whose viewers all left ends after this long without one (both sides).
    no_viewer_grace_s: float = NO_VIEWER_GRACE_S
    # A live session that never gets its first viewer ends after this long.
    first_viewer_grace_s: float = 15.0
    # Instances serving a session's players renew their viewer count every third of this;
    # the instance holding the installation's socket drops a count not renewed within it
    # (an instance killed with its players stops counting).
    viewer_lease_s: float = 15.0
    # How often lapsed requests are closed (audited ``request.expired``) and old processed
    # message ids pruned.
    request_sweep_s: float = 5.0
    # How long the hub remembers processed installation ``msg_id``s (replays are only acked).
    processed_message_retention_days: int = 30
    # Retention in days per record kind (hub_server/retention.py; 0 = keep). Counted from
    # the later of the record's own end and its incident's close: open incidents hold all.
    # Admins may override them at run time (PUT /api/v1/admin/retention).
    live_sessions_retention_days: int = 30
    grants_retention_days: int = 30
    access_requests_retention_days: int = 30
    incidents_retention_days: int = 30
    evidence_retention_days: int = 90
    # Sign-in sessions, API tokens and enrollment codes, counted from their expiry,
    # revocation or use (no incident holds them).
    credentials_retention_days: int = 30
    retention_sweep_s: float = 3600.0
    # Group commit: decisions arriving within this many milliseconds share one transaction.
    decision_batch_ms: float = 2.0
    # Empty: one instance, in-process bus. nats://host:port: several instances (routing.py).
    bus_url: str = ""
    # Prometheus /metrics on its own listener (keep it off the public network); 0 = off.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    enrollment_code_ttl_s: int = 7 * 24 * 3600
    # The key-encryption key's file; empty: connect-share-hub.kek beside a SQLite database.
    kek_file: str = ""
    # The officer console (hub_server/console_config.py): the city's XYZ tile server and
    # its credit, a Nominatim-compatible geocoder (both off when empty), the time zone
    # every console time is shown in (empty: the host's zone).
    map_tile_url: str = ""
    map_attribution: str = ""
    geocoder_url: str = ""
    time_zone: str = ""
    # Run Alembic's upgrade on start so ``serve`` works on a fresh machine.
    migrate_on_start: bool = True

    def kek_path(self) -> Path:
        from .kek import default_kek_path

        return Path(self.kek_file) if self.kek_file else default_kek_path(self.database_url)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``CONNECT_SHARE_HUB_<FIELD>`` variables, then explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(type_name: Any, raw: str, name: str) -> Any:
    kind = str(type_name)
    try:
        if kind == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as err:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}: cannot parse {raw!r} as {kind}") from err
    return raw
