"""The radius search runs on the databases' own spatial indexes and agrees with a full scan.

Cameras are written straight to the table (insert, move, un-locate, delete, across the
antimeridian) so the index maintenance (SQLite triggers, PostgreSQL's GiST) is exercised
on every path a camera row can take.
"""

from __future__ import annotations

import random
import time
import uuid

from sqlalchemy import delete, insert, text, update

from hub_server.database import Database, migrate
from hub_server.geo import haversine_m
from hub_server.models import Camera, Installation
from hub_server.search import cameras_in_radius, radius_statement
from hub_server.spatial import GIST_INDEX, RTREE, box_params


def _cam(inst: str, n: int, lat: float | None, lon: float | None) -> dict[str, object]:
    return {
        "installation_id": inst,
        "camera_id": f"cam-{n}",
        "name": f"cam {n}",
        "mode": "on_request",
        "lat": lat,
        "lon": lon,
        "masked": False,
        "scopes": [],
        "updated_at": time.time(),
    }


async def _brute(db: Database, lat: float, lon: float, radius_m: float) -> set[str]:
    async with db.read() as s:
        rows = (await s.execute(text("SELECT camera_id, lat, lon FROM cameras"))).all()
    return {
        r.camera_id
        for r in rows
        if r.lat is not None
        and r.lon is not None
        and haversine_m(lat, lon, r.lat, r.lon) <= radius_m
    }


async def _indexed(db: Database, lat: float, lon: float, radius_m: float) -> set[str]:
    async with db.read() as s:
        return {f.camera.camera_id for f in await cameras_in_radius(s, lat, lon, radius_m)}


async def test_spatial_index_matches_a_full_scan_through_every_change(database_url: str) -> None:
    await migrate(database_url)
    db = Database(database_url)
    rng = random.Random(11)
    inst = uuid.uuid4().hex
    centers = [(33.749, -84.388), (0.0, 179.999), (-12.0, -179.9995)]
    try:
        async with db.write() as s:
            await s.execute(
                insert(Installation),
                [
                    {
                        "id": inst,
                        "name": "t",
                        "public_key": uuid.uuid4().hex,
                        "client_version": "t",
                        "enrolled_at": time.time(),
                        "online": False,
                    }
                ],
            )
            rows = []
            for n in range(600):
                clat, clon = centers[n % len(centers)]
                lon = clon + rng.uniform(-0.02, 0.02)
                lon = (lon + 540) % 360 - 180
                rows.append(_cam(inst, n, clat + rng.uniform(-0.02, 0.02), lon))
            rows.append(_cam(inst, 600, None, None))
            await s.execute(insert(Camera), rows)

        async def check() -> None:
            for clat, clon in centers:
                for radius in (50.0, 400.0, 2000.0):
                    expected = await _brute(db, clat, clon, radius)
                    assert await _indexed(db, clat, clon, radius) == expected

        await check()
        async with db.write() as s:  # move some cameras, un-locate one, locate another
            for n in range(0, 60, 3):
                await s.execute(
                    update(Camera)
                    .where(Camera.camera_id == f"cam-{n}")
                    .values(lat=centers[(n + 1) % 3][0], lon=centers[(n + 1) % 3][1])
                )
            await s.execute(
                update(Camera).where(Camera.camera_id == "cam-1").values(lat=None, lon=None)
            )
            await s.execute(
                update(Camera)
                .where(Camera.camera_id == "cam-600")
                .values(lat=centers[0][0], lon=centers[0][1])
            )
            await s.execute(delete(Camera).where(Camera.camera_id.in_(["cam-4", "cam-5"])))
        assert {"cam-600"} <= await _indexed(db, *centers[0], 1.0)
        assert "cam-1" not in await _indexed(db, *centers[1], 5000.0)
        await check()
    finally:
        await db.close()


async def test_radius_query_uses_the_spatial_index(database_url: str) -> None:
    """The plan names the R*Tree / GiST index: a silent fall-back to a scan fails here."""
    await migrate(database_url)
    db = Database(database_url)
    try:
        async with db.read() as s:
            # The statement that cameras_in_radius runs, with the values it binds.
            stmt = radius_statement(db.dialect)
            values = box_params(33.749, -84.388, 500.0)
            if db.dialect == "sqlite":
                sql = str(
                    stmt.params(values).compile(s.bind, compile_kwargs={"literal_binds": True})
                )
                plan = (await s.execute(text("EXPLAIN QUERY PLAN " + sql))).all()
                assert sum(RTREE in str(row) for row in plan) == 2, plan  # both boxes
            else:
                compiled = stmt.params(values).compile(
                    s.bind, compile_kwargs={"render_postcompile": True}
                )
                bound = compiled.construct_params()
                args = [bound[name] for name in compiled.positiontup or ()]
                driver = (await (await s.connection()).get_raw_connection()).driver_connection
                assert driver is not None
                await driver.execute("SET enable_seqscan = off")
                # The generic plan: what a prepared statement reuses after five executions.
                await driver.execute("SET plan_cache_mode = force_generic_plan")
                plan = await driver.fetch("EXPLAIN " + str(compiled), *args)
                assert any(GIST_INDEX in str(row) for row in plan), plan
    finally:
        await db.close()
