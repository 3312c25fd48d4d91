"""Radius search against a brute-force scan, and the bounded viewer queue."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub_server.geo import bounding_box, haversine_m
from hub_server.relay import LiveRelay, RelaySession, Viewer
from tests.hub_harness import camera, running_hub

lat_st = st.floats(min_value=-89.0, max_value=89.0, allow_nan=False)
lon_st = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)


def in_box(lat: float, lon: float, box: tuple[float, float, float, float]) -> bool:
    min_lat, max_lat, min_lon, max_lon = box
    if not min_lat <= lat <= max_lat:
        return False
    if min_lon < -180:
        return lon >= min_lon + 360 or lon <= max_lon
    if max_lon > 180:
        return lon >= min_lon or lon <= max_lon - 360
    return min_lon <= lon <= max_lon


@settings(max_examples=300, deadline=None)
@given(
    lat=lat_st,
    lon=lon_st,
    radius=st.floats(min_value=1, max_value=5000),
    bearing=st.floats(min_value=0, max_value=2 * math.pi),
    fraction=st.floats(min_value=0, max_value=1),
)
def test_bounding_box_never_drops_a_point_inside_the_circle(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    # A point at distance fraction*radius in direction bearing (spherical destination).
    d = fraction * radius / 6_371_008.8
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    plat, plon = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
    if haversine_m(lat, lon, plat, plon) <= radius:
        assert in_box(plat, plon, bounding_box(lat, lon, radius))


async def test_radius_query_matches_a_full_scan(tmp_path: Path, database_url: str) -> None:
    import random

    rng = random.Random(7)
    center = (33.7490, -84.3880)
    cams = [
        camera(
            f"c{i}",
            center[0] + rng.uniform(-0.02, 0.02),
            center[1] + rng.uniform(-0.02, 0.02),
            mode=rng.choice(["registered", "on_request", "auto", "off"]),
        )
        for i in range(200)
    ]
    # And a pair across the antimeridian.
    async with running_hub(tmp_path, database_url=database_url) as hub:
        sim = await hub.simulated_installation(cams)
        edge = await hub.simulated_installation(
            [camera("east", 0.0, 179.9995), camera("west", 0.0, -179.9995)], name="edge"
        )
        api = hub.client(await hub.create_user(role="officer"))
        for radius in (50, 400, 1500, 5000):
            inc = await api.open_incident(*center, radius_m=radius)
            got = {c["camera_id"] for c in await api.cameras_in_incident(inc["incident_id"])}
            want = {
                c.camera_id
                for c in cams
                if c.mode != "off" and haversine_m(*center, c.lat, c.lon) <= radius
            }
            assert got == want, radius
        inc = await api.open_incident(0.0, 180.0, radius_m=200)
        found = await api.cameras_in_incident(inc["incident_id"])
        assert {c["camera_id"] for c in found} == {"east", "west"}
        assert {c["installation_id"] for c in found} == {edge.installation_id}
        assert sim.installation_id


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.integers(min_value=0, max_value=50), size=st.integers(min_value=1, max_value=4))
def test_viewer_queue_is_bounded_and_keeps_the_newest(frames: int, size: int) -> None:
    viewer = Viewer(size)
    for i in range(frames):
        viewer.offer(b"\xff\xd8" + bytes([i]))
    assert viewer.queue.qsize() == min(frames, size)
    assert viewer.dropped == max(0, frames - size)
    kept = [viewer.queue.get_nowait() for _ in range(viewer.queue.qsize())]
    assert kept == [b"\xff\xd8" + bytes([i]) for i in range(max(0, frames - size), frames)]


async def test_relay_only_accepts_frames_from_the_sessions_installation() -> None:
    relay = LiveRelay(2)
    session = RelaySession("s1", "inst-a", "cam", "g1", "inc", "user", expires_at=0)
    relay.add(session)
    viewer = relay.attach(session)
    assert not relay.deliver("inst-a", "s1", b"\xff\xd8x")  # not started yet
    session.state = "live"
    assert not relay.deliver("inst-b", "s1", b"\xff\xd8x")  # another installation
    assert not relay.deliver("inst-a", "s1", b"GIF89a")  # not a JPEG
    assert relay.deliver("inst-a", "s1", b"\xff\xd8x")
    relay.finish("s1", "revoked")
    assert not relay.deliver("inst-a", "s1", b"\xff\xd8y")
    assert await asyncio.wait_for(viewer.next_frame(), 1) == b"\xff\xd8x"
    assert await asyncio.wait_for(viewer.next_frame(), 1) is None
