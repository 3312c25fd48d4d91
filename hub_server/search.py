"""Cameras within a radius: bounding box on the database's spatial index, then exact distance."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import spatial
from .geo import haversine_m
from .models import Camera, Installation

# Modes in which a camera takes part at all; "off" cameras are never listed.
SHARED_MODES = ("registered", "on_request", "auto")
LIVE_MODES = ("on_request", "auto")


def participation(mode: str) -> str:
    return "integrated" if mode in LIVE_MODES else "registered"


@dataclass(frozen=True, slots=True)
class Found:
    camera: Camera
    distance_m: float


@cache
def radius_statement(dialect: str) -> Select[tuple[Camera]]:
    """Shared cameras of present installations in the circle's bounding box (bind values
    from ``spatial.box_params``), answered from the spatial index, in one round trip.

    Built once per dialect: SQLAlchemy's cache key is then computed once, not per search.
    The installation check is a correlated lookup by primary key per camera found, not a
    join: PostgreSQL cannot estimate a spatial match and would hash-join every installation
    of the city.
    """
    removed_at = (
        select(Installation.removed_at)
        .where(Installation.id == Camera.installation_id)
        .scalar_subquery()
    )
    return select(Camera).where(
        spatial.in_box(dialect),
        Camera.mode.in_(SHARED_MODES),
        removed_at.is_(None),
    )


async def cameras_in_radius(
    session: AsyncSession, lat: float, lon: float, radius_m: float
) -> list[Found]:
    dialect = session.bind.dialect.name if session.bind is not None else ""
    rows = (
        await session.scalars(radius_statement(dialect), spatial.box_params(lat, lon, radius_m))
    ).all()
    found = []
    for cam in rows:
        assert cam.lat is not None and cam.lon is not None  # the box excludes NULLs
        distance = haversine_m(lat, lon, cam.lat, cam.lon)
        if distance <= radius_m:
            found.append(Found(cam, distance))
    found.sort(key=lambda f: f.distance_m)
    return found


def camera_json(cam: Camera, *, online: bool, distance_m: float | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "installation_id": cam.installation_id,
        "camera_id": cam.camera_id,
        "name": cam.name,
        "mode": cam.mode,
        "participation": participation(cam.mode),
        "lat": cam.lat,
        "lon": cam.lon,
        "heading_deg": cam.heading_deg,
        "fov_deg": cam.fov_deg,
        "masked": cam.masked,
        "scopes": list(cam.scopes or []),
        "online": online,
    }
    if distance_m is not None:
        data["distance_m"] = round(distance_m, 1)
    return data
