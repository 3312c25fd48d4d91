"""Event summaries: "which cameras saw a person between 14:00 and 15:00", before footage.

Installations whose residents allow it send signed hourly counts (camera, hour, label,
count; no ids, boxes or images) to ``POST /api/v1/summaries``; the signature is checked
against the enrolled key and an upload replaces the counts for the hours it covers.
Officers ask ``GET /api/v1/incidents/<id>/summaries?label=person&start=..&end=..`` and get
the cameras in the incident's circle that saw it; each query is audited. Counts are kept
for ``CONNECT_SHARE_HUB_SUMMARY_RETENTION_DAYS`` (31) days, in one JSON file per
installation under the evidence directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiohttp import web

from connect_share_protocol.evidence import HOUR_MS, EventSummary, verify_summary

from . import audit, openapi
from .auth import ALL_ROLES, current_user, policy
from .errors import ApiError, bad_request
from .incident_access import load_for
from .installation_signatures import claimed_installation_id, verified_by_installation
from .search import cameras_in_radius
from .state import get_hub
from .validation import parse_json, path_id, query_text

MAX_SUMMARY_BODY = 2 * 1024 * 1024
MAX_QUERY_SPAN_S = 31 * 86400
SUMMARIES_DIR = ".summaries"
_LOCK = web.AppKey("connect_share_summary_lock", asyncio.Lock)


def retention_ms() -> int:
    days = float(os.environ.get("CONNECT_SHARE_HUB_SUMMARY_RETENTION_DAYS", "31"))
    return int(days * 86400 * 1000)


def _path(root: Path, installation_id: str) -> Path:
    return root / SUMMARIES_DIR / f"{installation_id}.json"


def _load(path: Path) -> dict[str, int]:
    try:
        return json.loads(path.read_text())["counts"]
    except (OSError, ValueError, KeyError):
        return {}


def _key(camera_id: str, hour_ms: int, label: str) -> str:
    return f"{camera_id}\t{hour_ms}\t{label}"


def merge(root: Path, summary: EventSummary, now_ms: int) -> int:
    """Replace the installation's counts for the summary's hours; returns rows kept."""
    path = _path(root, summary.installation_id)
    counts = _load(path)
    cutoff = now_ms - retention_ms()
    kept = {}
    for key, count in counts.items():
        hour = int(key.split("\t")[1])
        if hour >= cutoff and not summary.start_ms <= hour < summary.end_ms:
            kept[key] = count
    for row in summary.rows:
        if row.hour_ms >= cutoff:
            kept[_key(row.camera_id, row.hour_ms, row.label)] = row.count
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"counts": kept}, sort_keys=True))
    os.replace(tmp, path)
    return len(kept)


async def _read_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")
    raw = b""
    # Read the stream ourselves: summaries may exceed the hub's small JSON body limit.
    while chunk := await request.content.read(64 * 1024):
        raw += chunk
        if len(raw) > MAX_SUMMARY_BODY:
            raise ApiError(413, "body_too_large", f"a summary is at most {MAX_SUMMARY_BODY} bytes")
    return parse_json(raw)


@policy(public=True)  # authenticated by the installation's signature
async def upload_summary(request: web.Request) -> web.Response:
    from .evidence import EVIDENCE  # the evidence directory holds the summaries too

    hub = get_hub(request)
    signed = await _read_body(request)
    data = signed.get("summary") if isinstance(signed, dict) else None
    inst_id = claimed_installation_id(data, "bad_summary", "summary")
    async with hub.db.read() as session:
        summary, inst = await verified_by_installation(session, inst_id, verify_summary, signed)
    now_ms = int(time.time() * 1000)
    if summary.end_ms > now_ms + 2 * HOUR_MS:
        raise bad_request("bad_summary", "the summary reaches into the future")
    async with request.app[_LOCK]:
        kept = await asyncio.get_running_loop().run_in_executor(
            None, merge, request.app[EVIDENCE].root, summary, now_ms
        )
    return web.json_response({"rows": len(summary.rows), "stored": kept})


MAX_EPOCH = 1e11
EPOCH = {"type": "number", "minimum": 0, "exclusiveMaximum": MAX_EPOCH, "description": "epoch s"}


def _number(request: web.Request, name: str, default: float | None) -> float:
    raw = request.query.get(name)
    if raw is None:
        if default is None:
            raise bad_request("missing_field", f"{name} is required (epoch seconds)")
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise bad_request("bad_field", f"{name} must be epoch seconds") from err
    if not 0 <= value < MAX_EPOCH:
        raise bad_request("bad_field", f"{name} is out of range")
    return value


@policy(*ALL_ROLES)
async def incident_summaries(request: web.Request) -> web.Response:
    from .evidence import EVIDENCE

    hub = get_hub(request)
    user = current_user(request)
    inc = await load_for(hub, user, path_id(request, "incident_id", "incident"))
    async with hub.db.read() as session:
        found = await cameras_in_radius(session, inc.lat, inc.lon, inc.radius_m)
    start = _number(request, "start", inc.window_start)
    end = _number(request, "end", inc.window_end)
    if end <= start or end - start > MAX_QUERY_SPAN_S:
        raise bad_request("bad_window", "end must be after start, at most 31 days later")
    label = query_text(request, "label", max_len=40)
    start_ms, end_ms = int(start * 1000), int(end * 1000)
    root = request.app[EVIDENCE].root
    in_circle = {(f.camera.installation_id, f.camera.camera_id): f for f in found}
    installations = sorted({inst for inst, _ in in_circle})

    def collect() -> dict[tuple[str, str], list[dict[str, Any]]]:
        hits: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for inst in installations:
            for key, count in _load(_path(root, inst)).items():
                camera_id, hour_text, row_label = key.split("\t")
                hour = int(hour_text)
                # An hour counts when it overlaps [start, end).
                if (
                    (inst, camera_id) in in_circle
                    and (label is None or row_label == label)
                    and hour < end_ms
                    and hour + HOUR_MS > start_ms
                ):
                    hits[(inst, camera_id)].append(
                        {"hour_ms": hour, "label": row_label, "count": count}
                    )
        return hits

    hits = await asyncio.get_running_loop().run_in_executor(None, collect)
    cameras = [
        {
            "installation_id": inst,
            "camera_id": camera_id,
            "name": in_circle[(inst, camera_id)].camera.name,
            "distance_m": round(in_circle[(inst, camera_id)].distance_m, 1),
            "hours": sorted(rows, key=lambda r: (r["hour_ms"], r["label"])),
        }
        for (inst, camera_id), rows in sorted(
            hits.items(), key=lambda item: in_circle[item[0]].distance_m
        )
    ]
    async with hub.db.write() as session:
        await audit.append(
            hub.db,
            session,
            "summaries.queried",
            actor=f"user:{user.id}",
            incident_id=inc.id,
            label=label,
            window=[start, end],
            cameras_found=len(cameras),
        )
    return web.json_response(
        {"incident_id": inc.id, "start": start, "end": end, "label": label, "cameras": cameras}
    )


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/summaries": {
        "post": openapi._op(
            "An installation's signed hourly event counts (camera, hour, label, count)",
            errors=(400, 403, 413, 415),
        )
    },
    "/api/v1/incidents/{incident_id}/summaries": {
        "get": openapi._op(
            "Cameras in the incident's circle whose event counts match (audited)",
            roles=tuple(ALL_ROLES),
            errors=(400, 404),
            params=[
                openapi._path("incident_id"),
                openapi._query("label", openapi.STR),
                openapi._query("start", EPOCH),
                openapi._query("end", EPOCH),
            ],
        )
    },
}


def setup_summary_routes(app: web.Application) -> None:
    app[_LOCK] = asyncio.Lock()
    app.router.add_post("/api/v1/summaries", upload_summary)
    app.router.add_get("/api/v1/incidents/{incident_id}/summaries", incident_summaries)
    openapi.PATHS.update(OPENAPI_PATHS)
