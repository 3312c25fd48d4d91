"""The cameras' spatial index, in each database's own engine.

SQLite: an R*Tree virtual table ``cameras_rtree`` (one degenerate box per located camera,
keyed by the camera row's ``rowid``), kept in step by triggers on ``cameras``.
PostgreSQL: a GiST index on the expression ``point(lon, lat)``, queried with ``<@ box``.

Both answer "which cameras lie in this lat/lon box"; ``search.cameras_in_radius`` then
checks the exact distance. Migration 0002 creates them; ``include_name`` keeps them out of
the models-versus-migrations comparison (they are not SQLAlchemy models).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, Table, and_, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from .geo import bounding_box

RTREE = "cameras_rtree"
GIST_INDEX = "ix_cameras_geo_gist"
# The R*Tree module's own shadow tables.
RTREE_TABLES = frozenset({RTREE, f"{RTREE}_node", f"{RTREE}_parent", f"{RTREE}_rowid"})

_rtree_meta = MetaData()
rtree = Table(
    RTREE,
    _rtree_meta,
    Column("id", Integer, primary_key=True),
    Column("min_lat", Float),
    Column("max_lat", Float),
    Column("min_lon", Float),
    Column("max_lon", Float),
)

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {RTREE} "
    "USING rtree(id, min_lat, max_lat, min_lon, max_lon)",
    f"CREATE TRIGGER IF NOT EXISTS cameras_rtree_insert AFTER INSERT ON cameras "
    f"WHEN NEW.lat IS NOT NULL AND NEW.lon IS NOT NULL BEGIN "
    f"INSERT OR REPLACE INTO {RTREE} VALUES (NEW.rowid, NEW.lat, NEW.lat, NEW.lon, NEW.lon); END",
    f"CREATE TRIGGER IF NOT EXISTS cameras_rtree_delete AFTER DELETE ON cameras BEGIN "
    f"DELETE FROM {RTREE} WHERE id = OLD.rowid; END",
    f"CREATE TRIGGER IF NOT EXISTS cameras_rtree_update AFTER UPDATE OF lat, lon ON cameras BEGIN "
    f"DELETE FROM {RTREE} WHERE id = OLD.rowid; "
    f"INSERT INTO {RTREE} SELECT NEW.rowid, NEW.lat, NEW.lat, NEW.lon, NEW.lon "
    f"WHERE NEW.lat IS NOT NULL AND NEW.lon IS NOT NULL; END",
)
# Fills (or refills) the tree from the table, e.g. after a VACUUM renumbered the rowids.
SQLITE_REBUILD = (
    f"DELETE FROM {RTREE}",
    f"INSERT INTO {RTREE} SELECT rowid, lat, lat, lon, lon FROM cameras "
    "WHERE lat IS NOT NULL AND lon IS NOT NULL",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS cameras_rtree_insert",
    "DROP TRIGGER IF EXISTS cameras_rtree_delete",
    "DROP TRIGGER IF EXISTS cameras_rtree_update",
    f"DROP TABLE IF EXISTS {RTREE}",
)
POSTGRES_DDL = (f"CREATE INDEX IF NOT EXISTS {GIST_INDEX} ON cameras USING gist (point(lon, lat))",)
POSTGRES_DROP = (f"DROP INDEX IF EXISTS {GIST_INDEX}",)


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Alembic filter: the spatial objects are managed by migration 0002, not the models."""
    if type_ == "table" and name in RTREE_TABLES:
        return False
    return not (type_ == "index" and name == GIST_INDEX)


def lon_ranges(min_lon: float, max_lon: float) -> list[tuple[float, float]]:
    """One longitude range, or two when the box crosses the antimeridian."""
    if min_lon < -180:
        return [(min_lon + 360, 180.0), (-180.0, max_lon)]
    if max_lon > 180:
        return [(min_lon, 180.0), (-180.0, max_lon - 360)]
    return [(min_lon, max_lon)]


def in_box(dialect: str, lat: float, lon: float, radius_m: float) -> ColumnElement[bool]:
    """A condition on ``cameras`` that the dialect answers from its spatial index."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    ranges = lon_ranges(min_lon, max_lon)
    if dialect == "sqlite":
        boxes = [
            and_(
                rtree.c.min_lat <= max_lat,
                rtree.c.max_lat >= min_lat,
                rtree.c.min_lon <= hi,
                rtree.c.max_lon >= lo,
            )
            for lo, hi in ranges
        ]
        ids = select(rtree.c.id).where(or_(*boxes))
        return literal_column("cameras.rowid").in_(ids)
    if dialect == "postgresql":
        # Literal floats (no user text reaches here): the planner sees constants and picks GiST.
        boxes = [
            literal_column(
                f"point(cameras.lon, cameras.lat) <@ box(point({lo!r}, {min_lat!r}), "
                f"point({hi!r}, {max_lat!r}))"
            )
            for lo, hi in ranges
        ]
        return or_(*boxes)
    raise ValueError(f"no spatial index for {dialect}")
