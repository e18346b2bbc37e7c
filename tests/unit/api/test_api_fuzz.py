"""Schemathesis over the OpenAPI schema: no generated request gets a 500, every answer matches the schema.

Driven through Hypothesis directly (schemathesis' pytest plugin does not load under this pytest). The
"valid data is accepted" check is left out: weights must sum to 1 and entities must exist, which a
schema cannot say. 503 is an answer here, not a crash (documented on every /v1 route). Only the
routers of this part of the service are mounted; the prediction routers carry their own tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.unit.api.conftest import api_settings
from tests.unit.api.test_api_whatif import tiny_whatif
from tests.unit.api.tiny_warehouse import write_runs, write_warehouse

from fvi.api import app as app_module
from fvi.api.app import create_app
from fvi.api.routers import (
    admin,
    countries,
    data_quality,
    metrics,
    mines,
    personas,
    pillars,
    rankings,
    runs,
    sources,
    weights,
    whatif,
)
from fvi.settings import Settings

EXAMPLES = 15
ROUTERS = [mines, countries, rankings, metrics, pillars, personas, sources, data_quality, runs, weights, whatif, admin]


def no_internal_error(ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> None:
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{response.status_code} on {case.method} {case.path}: {response.text[:300]}")


CHECKS = [no_internal_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_generated_requests_never_get_a_server_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(home=tmp_path / "home")
    write_warehouse(s.duckdb_path)
    write_runs(s.home_abs)
    monkeypatch.setattr(app_module, "STARTUP_HOOKS", [])
    routers = [m.router for m in ROUTERS]
    app = create_app(s, api_settings=api_settings(), whatif_factory=tiny_whatif, routers=routers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    for op in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=op.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then fail once
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    app.state.fvi.close()
    if failures:
        pytest.fail("\n\n".join(failures)[:20000])
