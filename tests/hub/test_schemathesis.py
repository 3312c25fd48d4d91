"""Schemathesis over the hub's own OpenAPI document: no operation answers with a 5xx.

The real hub runs on 127.0.0.1 with a few real rows (an incident, an online installation
with cameras). Schemathesis loads ``/api/openapi.json`` from it and sends, for every
operation, schema-valid (positive) and schema-breaking (negative) requests, once as an
admin with a bearer token and once without credentials. Every response must be < 500.
Generation is derandomized (same cases every run) and bounded (``MAX_EXAMPLES`` per
operation and mode) so the file stays well under two minutes.

Schemathesis and requests are synchronous: the whole run happens on one worker thread that
the test joins, while the hub serves on the event loop.
"""

from __future__ import annotations

import asyncio
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.hub_harness import camera, running_hub

MAX_EXAMPLES = 10
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    report_multiple_bugs=False,
)


def modes_for(operation: schemathesis.APIOperation) -> tuple[GenerationMode, ...]:
    """Negative cases only where there is a body or a query to break.

    Path parameters are plain strings (any string is schema-valid), so a negative case for
    an operation with only those cannot exist; Hypothesis would spend seconds proving it.
    """
    if len(operation.body) or len(operation.query):
        return MODES
    return (GenerationMode.POSITIVE,)


def fuzz(openapi_url: str, base_url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Run every operation in both modes; (cases sent, one report per failing operation)."""
    schema = schemathesis.openapi.from_url(openapi_url, timeout=10)
    sent = 0
    failures: list[str] = []
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in modes_for(operation):

                @HYPOTHESIS
                @given(case=operation.as_strategy(generation_mode=mode))
                def check(case: schemathesis.Case) -> None:
                    nonlocal sent
                    sent += 1
                    response = case.call(
                        base_url=base_url, session=http, headers=headers, timeout=15
                    )
                    case.validate_response(response, checks=[not_a_server_error])

                try:
                    check()
                except Unsatisfiable:
                    # Negative mode on an operation without parameters or body: there is
                    # nothing to break, so no case exists.
                    assert mode is GenerationMode.NEGATIVE, operation.label
                except (Exception, BaseExceptionGroup) as err:  # FailureGroup is the latter
                    failures.append(
                        f"{operation.label} [{mode.value}]:\n"
                        + "".join(traceback.format_exception_only(err)).strip()
                        + "".join(f"\n{note}" for note in getattr(err, "__notes__", []))
                    )
    return sent, failures


@pytest.mark.parametrize("credentials", ["admin_bearer", "anonymous"])
async def test_no_server_errors(tmp_path: Path, credentials: str) -> None:
    async with running_hub(tmp_path) as hub:
        admin = await hub.create_user(role="admin")
        api = hub.client(admin)
        sim = await hub.simulated_installation(
            [camera("cam-1", 33.75, -84.39), camera("cam-2", 33.751, -84.39, mode="registered")]
        )
        incident = await api.open_incident(33.75, -84.39, 500)
        await api.request_access(incident["incident_id"], [(sim.installation_id, "cam-1")])
        headers = (
            {"Authorization": f"Bearer {admin.token}"} if credentials == "admin_bearer" else {}
        )

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="schemathesis")
        try:
            sent, failures = await asyncio.get_running_loop().run_in_executor(
                pool, fuzz, hub.url + "/api/openapi.json", hub.url, headers
            )
        finally:
            pool.shutdown(wait=True)

    assert not failures, f"{len(failures)} operation(s) answered 5xx:\n\n" + "\n\n".join(failures)
    assert sent >= 30 * len(MODES), f"only {sent} cases were sent: did the schema load?"
