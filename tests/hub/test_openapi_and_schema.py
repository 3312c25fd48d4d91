"""The OpenAPI document matches the routes; the migrations match the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub_server.database import make_engine, migrate
from hub_server.models import Base
from hub_server.spatial import include_name
from tests.hub_harness import running_hub


async def test_openapi_lists_exactly_the_routes(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        doc = await hub.client().expect(200, "GET", "/api/openapi.json")
        assert doc["openapi"].startswith("3.")
        documented = {
            (method.upper(), path) for path, ops in doc["paths"].items() for method in ops
        }
        served = {
            (route.method, route.resource.canonical)
            for route in hub.app.router.routes()
            if route.method != "HEAD"
        }
        assert documented == served
        for path, ops in doc["paths"].items():
            for op in ops.values():
                assert op["responses"], path
                for ref in _refs(op):
                    name = ref.rsplit("/", 1)[-1]
                    assert name in doc["components"]["schemas"], (path, ref)


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_migrations_create_exactly_the_models(database_url: str) -> None:
    await migrate(database_url)
    await migrate(database_url)  # idempotent
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"include_name": include_name}),
                    Base.metadata,
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_incident_evidence_of_an_unknown_incident_is_a_documented_404(tmp_path: Path) -> None:
    # Found by the stateful schemathesis run: the hub answered 404, the document had no 404.
    async with running_hub(tmp_path) as hub:
        api = hub.client(await hub.create_user(role="supervisor"))
        doc = await api.expect(200, "GET", "/api/openapi.json")
        status, body = await api.call("GET", "/api/v1/incidents/no-such-incident/evidence")
        assert (status, body["error"]) == (404, "not_found")
        documented = doc["paths"]["/api/v1/incidents/{incident_id}/evidence"]["get"]["responses"]
        assert "404" in documented
