"""Retention per record kind (issue 14): exactly the expired records go (evidence files too),
open incidents hold everything, the audit chain still verifies, and /transparency's
"deleted by retention" equals what the audit chain says. Through HTTP and the CLI, on
SQLite and PostgreSQL. Clocks are moved by writing the time columns, never by sleeping."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from hub_server import audit
from hub_server.app import create_app
from hub_server.cli import main as cli_main
from hub_server.models import (
    AccessRequestRow,
    GrantRow,
    Incident,
    Installation,
    LiveSessionRow,
)
from hub_server.settings import Settings
from hub_server.transparency import raw_breakdown
from tests.hub_harness import HubClient, HubHarness, running_hub

DAY = 86400.0
HOME = (35.7796, -78.6382)
KINDS = ("evidence", "live_sessions", "grants", "access_requests", "incidents")
# Credentials have their own test (test_retention_credentials.py): no incident holds them.
ALL_KINDS = (*KINDS, "credentials")


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(cli_main, list(argv))


def shown(n: int) -> int | str:
    return "<5" if 0 < n < 5 else n


@dataclass
class Seeded:
    """Ids per kind; ``gone`` are those the default periods must delete."""

    gone: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    kept: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    named: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, ids: str | list[str], deleted: bool) -> None:
        target = self.gone if deleted else self.kept
        target[kind].update([ids] if isinstance(ids, str) else ids)


class World:
    """Seeds rows of every kind straight into the hub's database, at chosen ages."""

    def __init__(self, hub: HubHarness, evidence_root: Path, user_id: str) -> None:
        self.hub = hub
        self.db = hub.state.db
        self.root = evidence_root
        self.user_id = user_id
        self.now = time.time()
        self.installation_id = uuid.uuid4().hex

    async def installation(self) -> None:
        async with self.db.write() as s:
            s.add(
                Installation(
                    id=self.installation_id,
                    name="Home",
                    public_key=uuid.uuid4().hex,
                    client_version="test",
                    enrolled_at=self.now - 400 * DAY,
                )
            )

    async def close(self, incident_id: str, days_ago: float | None) -> None:
        closed = None if days_ago is None else self.now - days_ago * DAY
        async with self.db.write() as s:
            await s.execute(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(closed_at=closed, created_at=self.now - 400 * DAY)
            )

    async def legacy_incident(self) -> str:
        """An incident from before purposes existed: no offense type anywhere."""
        incident_id = uuid.uuid4().hex
        async with self.db.write() as s:
            s.add(
                Incident(
                    id=incident_id,
                    case_number="OLD-1",
                    incident_type="burglary",
                    reason="written before offense types existed",
                    lat=HOME[0],
                    lon=HOME[1],
                    radius_m=300,
                    created_by=self.user_id,
                    created_at=self.now - 400 * DAY,
                )
            )
            await audit.append(
                self.db,
                s,
                "incident.opened",
                actor=f"user:{self.user_id}",
                incident_id=incident_id,
                case_number="OLD-1",
            )
        return incident_id

    async def request(
        self, incident_id: str, days_ago: float, *, sessions: int = 0, basis: str = "consent"
    ) -> tuple[str, str | None, list[str]]:
        """A request (and, with sessions, its grant and that many sessions), all ended
        ``days_ago``."""
        end = self.now - days_ago * DAY
        request_id, grant_id = uuid.uuid4().hex, uuid.uuid4().hex
        session_ids = [uuid.uuid4().hex for _ in range(sessions)]
        async with self.db.write() as s:
            s.add(
                AccessRequestRow(
                    id=request_id,
                    incident_id=incident_id,
                    installation_id=self.installation_id,
                    scope="live",
                    camera_ids=["cam-1"],
                    created_by=self.user_id,
                    created_at=end - 600,
                    expires_at=end,
                    status="answered",
                    approved_camera_ids=["cam-1"],
                    legal_basis=basis,
                )
            )
            if sessions:
                await s.flush()
                s.add(
                    GrantRow(
                        id=grant_id,
                        request_id=request_id,
                        incident_id=incident_id,
                        installation_id=self.installation_id,
                        officer_id=self.user_id,
                        camera_ids=["cam-1"],
                        scope="live",
                        kid="k",
                        token_sha256="0" * 64,
                        token_header="{}",
                        claims="{}",
                        issued_at=end - 600,
                        expires_at=end,
                        legal_basis=basis,
                    )
                )
                await s.flush()
                for sid in session_ids:
                    s.add(
                        LiveSessionRow(
                            id=sid,
                            grant_id=grant_id,
                            incident_id=incident_id,
                            installation_id=self.installation_id,
                            camera_id="cam-1",
                            opened_by=self.user_id,
                            opened_at=end - 500,
                            started_at=end - 500,
                            ended_at=end - 100,
                        )
                    )
        return request_id, grant_id if sessions else None, session_ids

    def evidence(self, incident_id: str, request_id: str, days_ago: float) -> str:
        evidence_id = uuid.uuid4().hex
        directory = self.root / evidence_id
        directory.mkdir(parents=True)
        (directory / "content").write_bytes(b"footage")
        (directory / "manifest.json").write_text("{}")
        record = {
            "evidence_id": evidence_id,
            "incident_id": incident_id,
            "request_id": request_id,
            "installation_id": self.installation_id,
            "camera_id": "cam-1",
            "received_at": self.now - days_ago * DAY,
        }
        (directory / "record.json").write_text(json.dumps(record))
        return evidence_id

    async def present(self) -> dict[str, set[str]]:
        async with self.db.read() as s:
            found = {
                "live_sessions": set((await s.scalars(select(LiveSessionRow.id))).all()),
                "grants": set((await s.scalars(select(GrantRow.id))).all()),
                "access_requests": set((await s.scalars(select(AccessRequestRow.id))).all()),
                "incidents": set((await s.scalars(select(Incident.id))).all()),
            }
        found["evidence"] = {p.name for p in self.root.iterdir() if (p / "content").exists()}
        return found


async def seed(world: World, api: HubClient) -> Seeded:
    """Five incidents at various ages, each with records of every kind. Each incident is
    closed last, so a retention pass running meanwhile never sees half an incident."""
    seeded = Seeded()
    await world.installation()

    async def opened(offense: str) -> str:
        return str((await api.open_incident(*HOME, offense_code=offense))["incident_id"])

    # A: closed 100 days ago, everything 100 days old: all of it goes (5 sessions: >= 5).
    a = await opened("220")
    req, grant, sessions = await world.request(a, 100, sessions=5)
    seeded.add("access_requests", req, True)
    seeded.add("grants", str(grant), True)
    seeded.add("live_sessions", sessions, True)
    seeded.add("evidence", world.evidence(a, req, 100), True)
    seeded.add("incidents", a, True)
    await world.close(a, 100)
    # B: closed 40 days ago. Its 40-day-old live view goes (30 days); its 45-day-old
    # evidence stays (90 days) and holds its request and the incident.
    b = await opened("220")
    req, grant, sessions = await world.request(b, 40, sessions=1)
    seeded.add("access_requests", req, True)
    seeded.add("grants", str(grant), True)
    seeded.add("live_sessions", sessions, True)
    footage_req, _, _ = await world.request(b, 45)
    seeded.add("access_requests", footage_req, False)
    seeded.named["b_evidence"] = world.evidence(b, footage_req, 45)
    seeded.add("evidence", seeded.named["b_evidence"], False)
    seeded.add("incidents", b, False)
    seeded.named["b"] = b
    await world.close(b, 40)
    # C: still open: the legal hold keeps even 200-day-old records.
    c = await opened("13A")
    req, grant, sessions = await world.request(c, 200, sessions=1, basis="exigent")
    seeded.add("access_requests", req, False)
    seeded.add("grants", str(grant), False)
    seeded.add("live_sessions", sessions, False)
    seeded.add("evidence", world.evidence(c, req, 200), False)
    seeded.add("incidents", c, False)
    await world.close(c, None)
    # D: from before purposes existed (no offense type): counted as not stated, not dropped.
    d = await world.legacy_incident()
    req, _, _ = await world.request(d, 100)
    seeded.add("access_requests", req, True)
    seeded.add("evidence", world.evidence(d, req, 100), True)
    seeded.add("incidents", d, True)
    await world.close(d, 100)
    # E: closed 10 days ago: its 100-day-old records wait until the close is 30 days old.
    e = await opened("220")
    req, grant, sessions = await world.request(e, 100, sessions=1)
    seeded.add("access_requests", req, False)
    seeded.add("grants", str(grant), False)
    seeded.add("live_sessions", sessions, False)
    seeded.add("incidents", e, False)
    await world.close(e, 10)
    return seeded


def month(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


async def derived_from_chain(sup: HubClient) -> Counter[tuple[str, str, str, str]]:
    """Deleted-by-retention counts worked out here from the audit entries alone."""
    entries = await sup.audit(limit=5000)
    purpose = {
        e["incident_id"]: (
            e["detail"].get("offense_code") or "not_stated",
            e["detail"].get("agency_id") or "not_stated",
        )
        for e in entries
        if e["action"] == "incident.opened"
    }
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for e in entries:
        if e["action"] != "retention.deleted":
            continue
        assert sum(g["count"] for g in e["detail"]["groups"]) == e["detail"]["count"]
        for g in e["detail"]["groups"]:
            offense, agency = purpose[g["incident_id"]]
            counts[(month(e["ts"]), offense, g["legal_basis"] or "none", agency)] += g["count"]
    return counts


async def assert_transparency_matches(hub: HubHarness, sup: HubClient) -> Counter[Any]:
    expected = await derived_from_chain(sup)
    async with hub.http.get(hub.url + "/transparency.json") as resp:
        assert resp.status == 200
        body = await resp.json()
    published = {
        (r["month"], r["offense_code"], r["legal_basis"], r["agency"]): r["deleted_by_retention"]
        for r in body["rows"]
    }
    for key, n in expected.items():
        assert published[key] == shown(n), key
    assert all(v == 0 for k, v in published.items() if k not in expected)
    async with hub.http.get(hub.url + "/transparency.csv") as resp:
        assert "deleted_by_retention" in (await resp.text()).splitlines()[0]
    return expected


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hub and CLI share the KEK and the evidence directory (also on PostgreSQL)."""
    monkeypatch.setenv("CONNECT_SHARE_HUB_KEK_FILE", str(tmp_path / "hub.kek"))
    monkeypatch.delenv("CONNECT_SHARE_HUB_KEK", raising=False)
    monkeypatch.setenv("CONNECT_SHARE_HUB_EVIDENCE_DIR", str(tmp_path / "evidence"))
    (tmp_path / "evidence").mkdir()
    return tmp_path / "evidence"


async def test_retention_deletes_exactly_the_expired_records(
    tmp_path: Path, database_url: str, hub_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_hub(tmp_path, database_url=database_url, agency_id="NC0920100") as hub:
        admin_user = await hub.create_user(role="admin")
        admin = hub.client(admin_user)
        sup = hub.client(await hub.create_user(role="supervisor"))
        api = hub.client(await hub.create_user(role="analyst"))
        world = World(hub, hub_env, admin_user.id)
        seeded = await seed(world, api)

        # The periods in force, shown to supervisors and admins.
        shown_periods = await sup.expect(200, "GET", "/api/v1/admin/retention")
        days = {p["kind"]: p["days"] for p in shown_periods["periods"]}
        assert days == {
            "evidence": 90,
            "live_sessions": 30,
            "grants": 30,
            "access_requests": 30,
            "incidents": 30,
            "credentials": 30,
        }

        # A pass through the admin API: exactly the expired records go, files too.
        result = await admin.expect(200, "POST", "/api/v1/admin/retention/run")
        assert {k: result["deleted"][k] for k in KINDS} == {k: len(seeded.gone[k]) for k in KINDS}
        present = await world.present()
        for kind in KINDS:
            assert not present[kind] & seeded.gone[kind], kind
            assert seeded.kept[kind] <= present[kind], kind
        for evidence_id in seeded.gone["evidence"]:
            assert not (hub_env / evidence_id).exists()
        # A second pass finds nothing more.
        again = await admin.expect(200, "POST", "/api/v1/admin/retention/run")
        assert again["deleted"] == dict.fromkeys(ALL_KINDS, 0)

        # The chain verifies; /transparency equals what the chain says, legacy included.
        assert (await hub.verify_audit()).ok
        expected = await assert_transparency_matches(hub, sup)
        assert sum(expected.values()) == sum(len(ids) for ids in seeded.gone.values())
        this_month = month(time.time())
        # A: 5 sessions + grant + request + evidence under consent: exact, not "<5".
        assert expected[(this_month, "220", "consent", "NC0920100")] == 8 + 3  # + B's view
        assert expected[(this_month, "220", "none", "NC0920100")] == 1  # incident A
        assert expected[(this_month, "not_stated", "consent", "not_stated")] == 2  # D
        assert expected[(this_month, "not_stated", "none", "not_stated")] == 1

        # An admin shortens the evidence period; city IT runs the CLI; B's footage goes,
        # and with it the request it held and then the incident.
        status, body = await admin.call(
            "PUT", "/api/v1/admin/retention", {"periods": {"evidence": 30}}
        )
        assert status == 200, body
        assert {p["kind"]: (p["days"], p["set_by"]) for p in body["periods"]}["evidence"] == (
            30,
            "admin",
        )
        capsys.readouterr()
        assert await cli("--database-url", database_url, "retention") == 0
        report = json.loads(capsys.readouterr().out)
        assert report["periods"]["evidence"] == 30
        assert report["deleted"] == {
            "evidence": 1,
            "live_sessions": 0,
            "grants": 0,
            "access_requests": 1,
            "incidents": 1,
            "credentials": 0,
        }
        present = await world.present()
        assert present["evidence"] == seeded.kept["evidence"] - {seeded.named["b_evidence"]}
        assert present["incidents"] == seeded.kept["incidents"] - {seeded.named["b"]}
        assert not (hub_env / seeded.named["b_evidence"]).exists()
        assert await cli("--database-url", database_url, "verify-audit") == 0
        await assert_transparency_matches(hub, sup)
        assert await admin.audit(action="retention.changed")

        # The public page shows the periods in force.
        async with hub.http.get(hub.url + "/transparency.json") as resp:
            public = {p["kind"]: p["days"] for p in (await resp.json())["retention"]}
        assert public["evidence"] == 30 and public["grants"] == 30
        async with hub.http.get(hub.url + "/transparency") as resp:
            page = await resp.text()
        assert "Retention periods in force" in page and "30 days" in page


async def test_zero_keeps_and_bad_periods_are_refused(
    tmp_path: Path, database_url: str, hub_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = {f"{k}_retention_days": 0 for k in ALL_KINDS}
    async with running_hub(tmp_path, database_url=database_url, **keep) as hub:
        admin_user = await hub.create_user(role="admin")
        admin = hub.client(admin_user)
        world = World(hub, hub_env, admin_user.id)
        seeded = await seed(world, hub.client(await hub.create_user(role="analyst")))
        result = await admin.expect(200, "POST", "/api/v1/admin/retention/run")
        assert result["deleted"] == dict.fromkeys(ALL_KINDS, 0)
        present = await world.present()
        for kind in KINDS:
            assert seeded.gone[kind] | seeded.kept[kind] <= present[kind], kind
        assert await admin.audit(action="retention.deleted") == []
        periods = (await admin.expect(200, "GET", "/api/v1/admin/retention"))["periods"]
        assert all(p["keep_forever"] for p in periods)

        # Bad periods through the API: a clear 400, nothing changed.
        for bad in ({"grants": -1}, {"grants": 1.5}, {"grants": True}, {"photos": 3}, {}):
            status, body = await admin.call("PUT", "/api/v1/admin/retention", {"periods": bad})
            assert (status, body["error"]) == (400, "bad_field"), bad
        status, body = await admin.call(
            "PUT", "/api/v1/admin/retention", {"periods": {"grants": -1}}
        )
        assert "0 (keep forever)" in body["message"]
        officer = hub.client(await hub.create_user(role="officer"))
        status, _ = await officer.call("PUT", "/api/v1/admin/retention", {"periods": {"grants": 1}})
        assert status == 403
        assert await admin.audit(action="retention.changed") == []

    # A negative period in the configuration stops the hub and the CLI with a clear error.
    with pytest.raises(ValueError, match="CONNECT_SHARE_HUB_GRANTS_RETENTION_DAYS"):
        create_app(Settings(database_url=database_url, grants_retention_days=-1))
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CONNECT_SHARE_HUB_GRANTS_RETENTION_DAYS", "-5")
        assert await cli("--database-url", database_url, "retention") == 2
        assert "CONNECT_SHARE_HUB_GRANTS_RETENTION_DAYS" in capsys.readouterr().err
        env.setenv("CONNECT_SHARE_HUB_GRANTS_RETENTION_DAYS", "thirty")
        assert await cli("--database-url", database_url, "retention") == 2
        assert "cannot parse" in capsys.readouterr().err


async def test_the_hub_enforces_retention_by_itself(tmp_path: Path, hub_env: Path) -> None:
    # Seeded with every period at 0 (keep): the seeding writes evidence and then closes its
    # incident far in the past, a jump no real upload can make, so no pass may see it half
    # done. Then an admin sets the usual periods and the hub's own passes do the rest.
    keep = {f"{k}_retention_days": 0 for k in ALL_KINDS}
    async with running_hub(tmp_path, retention_sweep_s=0.2, **keep) as hub:
        admin_user = await hub.create_user(role="admin")
        world = World(hub, hub_env, admin_user.id)
        seeded = await seed(world, hub.client(await hub.create_user(role="analyst")))
        usual = {"evidence": 90, "live_sessions": 30, "grants": 30}
        usual |= {"access_requests": 30, "incidents": 30}
        await hub.client(admin_user).expect(
            200, "PUT", "/api/v1/admin/retention", {"periods": usual}
        )
        deadline = time.monotonic() + 15
        while True:
            present = await world.present()
            if not any(present[k] & seeded.gone[k] for k in KINDS):
                break
            assert time.monotonic() < deadline, "the hub never deleted the expired records"
            await asyncio.sleep(0.1)
        for kind in KINDS:
            assert seeded.kept[kind] <= present[kind], kind
        assert await hub.wait_for_audit("retention.deleted", count=5)
        assert (await hub.verify_audit()).ok


def test_breakdown_counts_legacy_and_batched_deletions() -> None:
    """Old per-file ``evidence.expired`` entries and ``retention.deleted`` batches are both
    counted; an incident opened before offense types existed counts as ``not_stated``."""
    ts = datetime(2026, 3, 15, tzinfo=UTC).timestamp()
    entries = [
        (ts, "incident.opened", "old", {"case_number": "1"}),
        (ts, "incident.opened", "new", {"offense_code": "220", "agency_id": "NC0920100"}),
        (ts, "evidence.expired", "old", {"evidence_id": "e1"}),
        (
            ts,
            "retention.deleted",
            None,
            {
                "kind": "grants",
                "count": 7,
                "groups": [
                    {"incident_id": "new", "legal_basis": "consent", "count": 6},
                    {"incident_id": "old", "legal_basis": "exigent", "count": 1},
                ],
            },
        ),
        (
            ts,
            "retention.deleted",
            None,
            {
                "kind": "incidents",
                "count": 1,
                "groups": [{"incident_id": "old", "legal_basis": None, "count": 1}],
            },
        ),
    ]
    counts = {k: v["deleted_by_retention"] for k, v in raw_breakdown(entries).items()}
    assert counts == {
        ("2026-03", "not_stated", "none", "not_stated"): 2,
        ("2026-03", "220", "consent", "NC0920100"): 6,
        ("2026-03", "not_stated", "exigent", "not_stated"): 1,
    }
