"""Schemathesis over the prediction routes (models loaded): no 5xx at all, every answer matches the schema.

Driven through Hypothesis directly, like ``test_api_fuzz`` (which covers the other routers).
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
from tests.unit.api.serving_world import make_home

from fvi.api.app import create_app
from fvi.api.routers import explain, jobs, model_versions, predict
from fvi.settings import Settings

EXAMPLES = 20
ROUTERS = [predict, jobs, explain, model_versions]


def no_server_error(ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Models and features are loaded, so not even a 503 is acceptable here."""
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code} on {case.method} {case.path}: {response.text[:300]}")


CHECKS = [no_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_prediction_routes_never_fail_on_generated_requests(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    app = create_app(Settings(home=home), api_settings=api_settings(), routers=[m.router for m in ROUTERS])
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/v1/predict", "/v1/predict/batch", "/v1/jobs/{job_id}", "/v1/models/ab"} <= paths
    assert "/v1/explain/{entity_type}/{entity_id}/stream" in paths
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
