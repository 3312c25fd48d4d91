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


async def test_links_read_documented_fields_into_real_parameters(tmp_path: Path) -> None:
    """Every link names a served operation, fills only parameters (or body fields) that the
    operation has, from fields the source response documents (the stateful schemathesis
    run follows them)."""
    async with running_hub(tmp_path, min_reason_chars=30, max_radius_m=1234.5) as hub:
        doc = await hub.client().expect(200, "GET", "/api/openapi.json")
    schemas = doc["components"]["schemas"]
    # The incident limits are this hub's settings (schema-valid incidents were refused).
    assert schemas["NewIncident"]["properties"]["reason"]["minLength"] == 30
    assert schemas["NewIncident"]["properties"]["radius_m"]["maximum"] == 1234.5
    count = 0
    for path, ops in doc["paths"].items():
        for op in ops.values():
            for status, response in op["responses"].items():
                for name, link in response.get("links", {}).items():
                    count += 1
                    where = f"{path} [{status}] {name}"
                    target_path, method = (
                        link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
                    )
                    target = doc["paths"][target_path.replace("~1", "/").replace("~0", "~")][method]
                    names = {p["name"] for p in target.get("parameters", [])}
                    source_params = {p["name"] for p in op.get("parameters", [])}
                    body = response["content"]["application/json"]["schema"]
                    for param, expr in link.get("parameters", {}).items():
                        assert param in names, where
                        _check_expression(expr, body, source_params, schemas, where)
                    if "requestBody" in link:
                        ref = target["requestBody"]["content"]["application/json"]["schema"]
                        fields = _resolve(ref, schemas)["properties"]
                        assert set(link["requestBody"]) <= set(fields), where
                        for expr in _strings(link["requestBody"]):
                            _check_expression(expr, body, source_params, schemas, where)
    assert count >= 40


def _check_expression(
    expr: str, body: dict, source_params: set[str], schemas: dict, where: str
) -> None:
    if expr.startswith("$request.path."):
        assert expr.removeprefix("$request.path.") in source_params, where
        return
    assert expr.startswith("$response.body#/"), (where, expr)
    node = _resolve(body, schemas)
    for part in expr.removeprefix("$response.body#/").split("/"):
        if part.isdigit():
            node = _resolve(node["items"], schemas)
        else:
            assert part in node.get("properties", {}), (where, expr, part)
            node = _resolve(node["properties"][part], schemas)
    assert node.get("type") == "string", (where, expr)  # ids are strings


def _resolve(node: dict, schemas: dict) -> dict:
    while "$ref" in node:
        node = schemas[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


async def test_summary_query_bounds_are_the_documented_ones(tmp_path: Path) -> None:
    # Found by the stateful schemathesis run: schema-valid start/end (any number) got 400.
    async with running_hub(tmp_path) as hub:
        api = hub.client(await hub.create_user(role="supervisor"))
        doc = await api.expect(200, "GET", "/api/openapi.json")
        op = doc["paths"]["/api/v1/incidents/{incident_id}/summaries"]["get"]
        start = next(p["schema"] for p in op["parameters"] if p["name"] == "start")
        assert start["minimum"] == 0
        incident = (await api.open_incident(33.75, -84.39, 300))["incident_id"]
        path = f"/api/v1/incidents/{incident}/summaries"
        top = start["exclusiveMaximum"]
        status, body = await api.call("GET", f"{path}?start={top}&end={top}")
        assert (status, body["message"]) == (400, "start is out of range")
        status, body = await api.call("GET", f"{path}?start={top - 10}&end={top - 1}")
        assert status == 200, body
