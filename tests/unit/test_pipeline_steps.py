"""Every post-build step has one shape: inputs checked before, rows and checks reported after."""

from __future__ import annotations

import pandas as pd
import pytest

from fvi import pipeline
from fvi.pipeline import StepContext, StepInputError, step
from fvi.settings import Settings
from fvi.warehouse import DuckDBWarehouse


def test_a_step_counts_its_inputs_first_and_reports_rows_and_missing_outputs(tmp_path) -> None:
    calls = []

    @step(reads=("fct_in",), writes=("fvi_out", "fvi_never"))
    def step_demo(ctx: StepContext) -> dict:
        calls.append(1)
        if not ctx.wh.has_table("gold", "fct_in"):
            raise RuntimeError("Catalog Error: table fct_in does not exist")
        ctx.wh.write_table("gold", "fvi_out", pd.DataFrame({"x": [1, 2, 3]}))
        return {"note": "done"}

    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        ctx = StepContext(Settings(home=tmp_path), None, wh, "r1", say=lambda _m: None)
        with pytest.raises(StepInputError, match=r"demo failed: Catalog Error.*input gold tables were missing: fct_in"):
            step_demo(ctx)
        wh.write_table("gold", "fct_in", pd.DataFrame({"y": []}))
        assert step_demo(ctx)["checks"] == ["input fct_in: empty", "fvi_never: not written"]  # said, not hidden
        wh.write_table("gold", "fct_in", pd.DataFrame({"y": [1, 2]}))
        report = step_demo(ctx)
    assert calls == [1, 1, 1] and report["note"] == "done" and report["seconds"] >= 0
    assert report["rows_in"] == {"fct_in": 2} and report["rows_out"] == {"fvi_out": 3, "fvi_never": None}
    assert report["checks"] == ["fvi_never: not written"]


def test_every_pipeline_step_declares_what_it_reads_and_writes() -> None:
    for name, fn in {**pipeline.SCORE_STEPS, **pipeline.ML_STEPS}.items():
        assert fn.reads and isinstance(fn.writes, tuple), name  # type: ignore[attr-defined]
        assert fn.__doc__, name


def test_each_step_is_a_span_named_after_it(tmp_path) -> None:
    """Pipeline steps emit spans too (issue 14): one per step, named pipeline.<step>, with the run id."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @step(writes=("fvi_out",))
    def step_spanned(ctx: StepContext) -> dict:
        return {}

    from opentelemetry import trace

    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh, pytest.MonkeyPatch.context() as mp:
        mp.setattr(trace, "get_tracer_provider", lambda: provider)
        step_spanned(StepContext(Settings(home=tmp_path), None, wh, "r9", say=lambda _m: None))
    (span,) = exporter.get_finished_spans()
    assert span.name == "pipeline.spanned" and span.attributes["run_id"] == "r9"
