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

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

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


# A latitude no camera has: the second box of a search that does not cross the antimeridian.
_NOWHERE = (1000.0, 1000.0, 0.0, 0.0)
_SIDES = ("min_lat", "max_lat", "min_lon", "max_lon")


def box_params(lat: float, lon: float, radius_m: float) -> dict[str, float]:
    """The bind values of ``in_box``: the circle's bounding box as two lat/lon boxes (the
    second is empty unless the circle crosses the antimeridian)."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    boxes = [(min_lat, max_lat, lo, hi) for lo, hi in lon_ranges(min_lon, max_lon)]
    boxes.append(_NOWHERE)
    return {f"{side}{i}": v for i in (0, 1) for side, v in zip(_SIDES, boxes[i], strict=True)}


def _p(side: str, i: int) -> BindParameter[float]:
    return bindparam(f"{side}{i}", type_=Float)


def in_box(dialect: str) -> ColumnElement[bool]:
    """A condition on ``cameras`` that the dialect answers from its spatial index.

    Bind parameters only (values from ``box_params``), so the statement is built and
    compiled once, and PostgreSQL prepares it once per connection instead of per search.
    """
    if dialect == "sqlite":
        ids = union_all(
            *(
                select(rtree.c.id).where(
                    rtree.c.min_lat <= _p("max_lat", i),
                    rtree.c.max_lat >= _p("min_lat", i),
                    rtree.c.min_lon <= _p("max_lon", i),
                    rtree.c.max_lon >= _p("min_lon", i),
                )
                for i in (0, 1)
            )
        )
        return literal_column("cameras.rowid").in_(ids.scalar_subquery())
    camera = literal_column("cameras.lat"), literal_column("cameras.lon")
    if dialect == "postgresql":
        # The indexed expression, point(lon, lat), inside a box: answered by the GiST index.
        at = func.point(camera[1], camera[0])
        return or_(
            *(
                at.op("<@")(
                    func.box(
                        func.point(_p("min_lon", i), _p("min_lat", i)),
                        func.point(_p("max_lon", i), _p("max_lat", i)),
                    )
                )
                for i in (0, 1)
            )
        )
    # No spatial index: plain ranges on the columns.
    return or_(
        *(
            and_(
                camera[0].between(_p("min_lat", i), _p("max_lat", i)),
                camera[1].between(_p("min_lon", i), _p("max_lon", i)),
            )
            for i in (0, 1)
        )
    )
