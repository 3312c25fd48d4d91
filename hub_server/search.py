"""Cameras within a radius: bounding box on the database's spatial index, then exact distance."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import spatial
from .geo import bounding_box, haversine_m
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


def bbox_condition(lat: float, lon: float, radius_m: float):  # type: ignore[no-untyped-def]
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    lat_ok = Camera.lat.between(min_lat, max_lat)
    if min_lon < -180:  # the box crosses the antimeridian: two longitude ranges
        lon_ok = or_(Camera.lon >= min_lon + 360, Camera.lon <= max_lon)
    elif max_lon > 180:
        lon_ok = or_(Camera.lon >= min_lon, Camera.lon <= max_lon - 360)
    else:
        lon_ok = Camera.lon.between(min_lon, max_lon)
    return and_(lat_ok, lon_ok)


def box_condition(session: AsyncSession, lat: float, lon: float, radius_m: float):  # type: ignore[no-untyped-def]
    """The spatial index's box on SQLite and PostgreSQL; the plain (lat, lon) range elsewhere."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect in ("sqlite", "postgresql"):
        return spatial.in_box(dialect, lat, lon, radius_m)
    return bbox_condition(lat, lon, radius_m)


def radius_statement(session: AsyncSession, lat: float, lon: float, radius_m: float):  # type: ignore[no-untyped-def]
    """Shared cameras of present installations in the circle's bounding box, answered from
    the spatial index, in one round trip.

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
        box_condition(session, lat, lon, radius_m),
        Camera.mode.in_(SHARED_MODES),
        removed_at.is_(None),
    )


async def cameras_in_radius(
    session: AsyncSession, lat: float, lon: float, radius_m: float
) -> list[Found]:
    rows = (await session.scalars(radius_statement(session, lat, lon, radius_m))).all()
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
