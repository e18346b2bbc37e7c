"""Schemathesis over the OpenAPI schema: no generated request gets a 5xx, every answer matches the schema.

Driven through Hypothesis directly (schemathesis' pytest plugin does not load under this pytest). The
"valid data is accepted" check is left out: weights must sum to 1 and entities must exist, which a
schema cannot say.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.unit.api.conftest import api_settings
from tests.unit.api.test_api_whatif import tiny_whatif
from tests.unit.api.tiny_warehouse import write_runs, write_warehouse

from fvi.api.app import create_app
from fvi.settings import Settings

EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_generated_requests_never_get_a_server_error(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "home")
    write_warehouse(s.duckdb_path)
    write_runs(s.home_abs)
    app = create_app(s, api_settings=api_settings(), whatif_factory=tiny_whatif)
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
