"""The main job: ingest every source into a staging warehouse, build it with dbt, swap it in.

Input, in order of preference: ``--data-dir`` / ``FVI_DATA_DIR``; the publishers' live URLs when
reachable; otherwise a synthetic demo world (said loudly, and carried as ``is_synthetic``).
One source failing (unknown layout, missing file) does not stop the others: its bronze tables
are carried forward from the previous good warehouse when there is one, else created empty, and
the manifest says which. Any build or test failure leaves the live warehouse untouched.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from fvi import held_back
from fvi.errors import BadInput
from fvi.ingest.base import (
    QUARANTINE_COLUMNS,
    LayoutError,
    LoadResult,
    SourceNotFound,
    empty_frame,
    encoding_note,
    load_column_maps,
)
from fvi.ingest.duplicates import dedupe_tables, drop_duplicate_files
from fvi.ingest.plausibility import check_release
from fvi.lock import locked
from fvi.obs.telemetry import span
from fvi.registry import load_sources, registry_hash
from fvi.settings import Settings

# Order matters only for display; every connector is independent.
CONNECTORS = (
    "gem_mines",
    "gem_plants",
    "climate_trace",
    "eia_mines",
    "owid",
    "gcp",
    "wdi",
    "subsidies",
    "carbon_pricing",
    "coal_policy",
    "mining_land",
)
MANIFEST_COLUMNS = [
    "run_id",
    "source_id",
    "dataset",
    "url",
    "path",
    "release",
    "retrieved_at",
    "sha256",
    "bytes",
    "rows_loaded",
    "rows_quarantined",
    "licence_name",
    "licence_url",
    "status",
    "message",
    "is_synthetic",
]

Say = Callable[[str], None]


def connector(source_id: str) -> ModuleType:
    return importlib.import_module(f"fvi.ingest.{source_id}")


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "_" + secrets.token_hex(3)


@dataclass
class InputPlan:
    """Where this run reads from."""

    kind: str  # local | live | demo
    data_dir: Path
    synthetic: bool = False


@dataclass
class SourceOutcome:
    source_id: str
    status: str  # loaded | failed | missing | carried_forward
    message: str = ""
    rows_loaded: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    manifest: list[dict[str, Any]] = field(default_factory=list)
    quarantine: pd.DataFrame | None = None


def is_synthetic_dir(data_dir: Path) -> bool:
    from fvi.demo import MARKER_FILE

    return (data_dir / MARKER_FILE).exists()


def plan_input(settings: Settings, data_dir: Path | None, say: Say) -> InputPlan:
    """Decide where the data comes from, preferring real data."""
    chosen = data_dir or settings.data_dir
    if chosen is not None:
        chosen = chosen.expanduser().resolve()
        if not chosen.is_dir():
            raise BadInput(f"data directory {chosen} does not exist (--data-dir / FVI_DATA_DIR)")
        return InputPlan("local", chosen, synthetic=is_synthetic_dir(chosen))
    if not settings.offline:
        from fvi.ingest.fetching import reachable

        probe = load_sources()["owid"].files[0].url
        if reachable(probe):
            return InputPlan("live", settings.home_abs / "downloads")
    demo_dir = settings.home_abs / "demo-data"
    say(
        "[bold yellow]No data directory given and the publishers' URLs are unreachable: "
        f"using SYNTHETIC demo data in {demo_dir}. Nothing built from it is real.[/]"
    )
    if not is_synthetic_dir(demo_dir):
        from fvi.demo import write_demo_data

        write_demo_data(demo_dir)
    return InputPlan("demo", demo_dir, synthetic=True)


def _locate_or_fetch(mod: ModuleType, plan: InputPlan) -> list[Any]:
    if plan.kind == "live":
        return list(mod.fetch(plan.data_dir))
    return list(mod.locate(plan.data_dir))


def _manifest_rows(
    run_id: str, source_id: str, result: LoadResult | None, plan: InputPlan, status: str, message: str
) -> list[dict[str, Any]]:
    source = load_sources().get(source_id)
    rows: list[dict[str, Any]] = []
    files = result.files if result is not None else []
    for rec in files:
        lic = source.licence_for(rec.dataset) if source else None
        rows.append(
            {
                "run_id": run_id,
                "source_id": source_id,
                "dataset": rec.dataset,
                "url": rec.url,
                "path": str(rec.path),
                "release": rec.release or (result.release if result else None),
                "retrieved_at": rec.retrieved_at
                or dt.datetime.fromtimestamp(rec.path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds"),
                "sha256": rec.sha256,
                "bytes": rec.bytes,
                "rows_loaded": rec.rows_loaded,
                "rows_quarantined": rec.rows_quarantined,
                "licence_name": lic.name if lic else None,
                "licence_url": lic.url if lic else None,
                "status": status,
                "message": message,
                "is_synthetic": plan.synthetic,
            }
        )
    if not rows:
        lic = source.licence if source else None
        rows.append(
            {
                **{c: None for c in MANIFEST_COLUMNS},
                "run_id": run_id,
                "source_id": source_id,
                "path": str(plan.data_dir),
                "licence_name": lic.name if lic else None,
                "licence_url": lic.url if lic else None,
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "status": status,
                "message": message,
                "is_synthetic": plan.synthetic,
            }
        )
    return rows


def ingest_source(
    source_id: str, plan: InputPlan, wh: Any, staging: Any, run_id: str, refused: str | None = None
) -> SourceOutcome:
    """Load one source into staging bronze; never raises for a bad file, reports instead.

    ``refused``: why the door check (:mod:`fvi.ingest.preflight`) refused this source's file; it is
    then not loaded and handled like any other failed source.
    """
    t0 = time.perf_counter()
    mod = connector(source_id)
    maps = load_column_maps(source_id)
    result: LoadResult | None = None
    try:
        files, duplicate_notes = drop_duplicate_files(_locate_or_fetch(mod, plan))
        if refused:
            raise LayoutError(f"{source_id}: {refused}")
        result = mod.load(files)
        result.notes.extend(duplicate_notes + dedupe_tables(result))
        result.notes.extend(n for rec in result.files if (n := encoding_note(Path(rec.path))))
        result.notes.extend(check_release(staging.settings, source_id, result))  # Implausible: keep previous
    except (LayoutError, SourceNotFound, OSError, ValueError) as exc:
        status = "missing" if isinstance(exc, SourceNotFound) else "failed"
        carried = [t for t in maps if staging.carry_forward(wh, "bronze", f"raw_{source_id}__{t}")]
        for t, tmap in maps.items():
            if t not in carried:
                wh.write_table("bronze", f"raw_{source_id}__{t}", empty_frame(tmap))
        if carried:
            status = "carried_forward"
            exc_msg = f"{exc} — previous bronze kept for: {', '.join(carried)}"
        else:
            exc_msg = str(exc)
        return SourceOutcome(
            source_id,
            status,
            exc_msg,
            seconds=time.perf_counter() - t0,
            manifest=_manifest_rows(run_id, source_id, result, plan, status, exc_msg),
        )
    for t, tmap in maps.items():
        frame = result.tables.get(t)
        wh.write_table("bronze", f"raw_{source_id}__{t}", frame if frame is not None else empty_frame(tmap))
    msg = "; ".join(result.notes)
    return SourceOutcome(
        source_id,
        "loaded",
        msg,
        result.rows_loaded,
        len(result.quarantine),
        time.perf_counter() - t0,
        manifest=_manifest_rows(run_id, source_id, result, plan, "loaded", msg),
        quarantine=result.quarantine.frame(),
    )


SILVER = "models/silver"


def _silver_source(node: Any) -> str | None:
    """The source token of a silver model or test (``models/silver/<source>/...``), else None."""
    parts = Path(str(getattr(node, "original_file_path", "") or "")).parts
    if len(parts) > 3 and "/".join(parts[:2]) == SILVER:
        return parts[2]
    deps = getattr(getattr(node, "depends_on", None), "nodes", None) or []  # a singular test: what it reads
    found = {m.group(1) for d in deps if (m := re.match(r"model\.\w+\.stg_(\w+?)__", str(d)))}
    return found.pop() if len(found) == 1 else None


def _failing_by_source(results: Any) -> dict[str, list[str]]:
    """Which silver tests (or models) failed, per source, with the count of failing rows."""
    bad: dict[str, list[str]] = {}
    for r in getattr(results, "results", []) or []:
        if str(getattr(r, "status", "")) not in ("error", "fail", "runtime error"):
            continue
        node = getattr(r, "node", None)
        source = _silver_source(node)
        if source is None:
            return {}  # a failure outside one source's silver: nothing to isolate
        rows = getattr(r, "failures", None)
        bad.setdefault(source, []).append(held_back.silver_test(getattr(node, "name", "?"), rows, str(r.status)))
    return bad


def build_isolating(
    settings: Settings,
    staging: Any,
    run_id: str,
    plan: InputPlan,
    outcomes: list[SourceOutcome],
    *,
    on_node: Callable[[str, str], None] | None = None,
    say: Say = print,
    after_isolation: Callable[[Any], None] | None = None,
) -> list[str]:
    """Build with dbt, isolating sources: a source whose silver tests fail is held back, the rest builds.

    First silver (and what it reads) is built and tested. A source with failing silver tests gets
    its previous good bronze back (or empty tables on a first build), its outcome says which test
    and how many rows, and its silver is rebuilt; then the rest of the project builds. A failure
    outside one source's silver, or one that the previous good data fails as well, still fails the
    build (the live warehouse stays as it was). Returns the held-back sources.
    """
    from fvi.dbt import DbtFailed, run_dbt

    kw: dict[str, Any] = {"env": staging.dbt_env(), "dbt_vars": dbt_vars(run_id, plan), "on_node": on_node}
    isolated: list[str] = []
    try:
        run_dbt(settings, ["build", "--select", f"+path:{SILVER}"], **kw)
    except DbtFailed as exc:
        bad = _failing_by_source(exc.results)
        by_id = {o.source_id: o for o in outcomes}
        if not bad or any(src not in by_id for src in bad):
            raise
        wh = staging.open()
        try:
            for source_id, tests in sorted(bad.items()):
                outcome = by_id[source_id]
                maps = load_column_maps(source_id)
                carried = [t for t in maps if staging.carry_forward(wh, "bronze", f"raw_{source_id}__{t}")]
                for t, tmap in maps.items():
                    if t not in carried:
                        wh.write_table("bronze", f"raw_{source_id}__{t}", empty_frame(tmap))
                outcome.status = "carried_forward" if carried else "failed"
                outcome.message = held_back.silver_message(tests, bool(carried))
                for row in outcome.manifest:
                    row.update(status=outcome.status, message=outcome.message)
                say(f"[yellow]{source_id}: {outcome.message}[/]")
                isolated.append(source_id)
            if after_isolation is not None:
                after_isolation(wh)
        finally:
            wh.close()
        try:
            run_dbt(settings, ["build", "--select", *[f"+path:{SILVER}/{s}" for s in isolated]], **kw)
        except DbtFailed as again:
            # a source left empty (first build) fails its own row floors; nothing else may fail
            still = _failing_by_source(again.results)
            if not still or any(s not in isolated or by_id[s].status != "failed" for s in still):
                raise
    run_dbt(settings, ["build", "--exclude", f"+path:{SILVER}"], **kw)
    return isolated


def manifest_path(settings: Settings) -> Path:
    return settings.home_abs / "manifest.jsonl"


def read_manifest(settings: Settings) -> pd.DataFrame:
    path = manifest_path(settings)
    if not path.exists():
        return pd.DataFrame(columns=MANIFEST_COLUMNS)
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS)


def append_manifest(settings: Settings, rows: list[dict[str, Any]]) -> None:
    path = manifest_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")


@dataclass
class RunReport:
    run_id: str
    plan: InputPlan
    outcomes: list[SourceOutcome]
    built: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "input": {"kind": self.plan.kind, "data_dir": str(self.plan.data_dir), "synthetic": self.plan.synthetic},
            "built": self.built,
            "error": self.error,
            "seconds": self.seconds,
            "steps": self.steps,
            "registry_hash": registry_hash(),
            "sources": [
                {k: v for k, v in asdict(o).items() if k not in ("manifest", "quarantine")} for o in self.outcomes
            ],
        }


def write_reference_tables(
    wh: Any, run_id: str, settings: Settings, manifest_rows: list[dict[str, Any]], quarantine: pd.DataFrame
) -> None:
    """Bronze tables the pipeline itself owns: countries, the manifest history, quarantine."""
    from fvi.countries import countries_frame

    wh.write_table("bronze", "ref_countries", countries_frame())
    history = read_manifest(settings)
    current = pd.DataFrame(manifest_rows, columns=MANIFEST_COLUMNS)
    manifest = pd.concat([history, current], ignore_index=True) if len(history) else current
    for col in ("bytes", "rows_loaded", "rows_quarantined"):
        manifest[col] = pd.to_numeric(manifest[col], errors="coerce").astype("Int64")
    manifest["is_synthetic"] = manifest["is_synthetic"].astype("boolean")
    for col in MANIFEST_COLUMNS:
        if col not in ("bytes", "rows_loaded", "rows_quarantined", "is_synthetic"):
            manifest[col] = manifest[col].astype("string")
    wh.write_table("bronze", "ingest_manifest", manifest)
    q = quarantine.copy()
    q.insert(0, "run_id", run_id)
    q["row_number"] = pd.to_numeric(q["row_number"], errors="coerce").astype("Int64")
    for col in ["run_id", *[c for c in QUARANTINE_COLUMNS if c != "row_number"]]:
        q[col] = q[col].astype("string")
    wh.write_table("bronze", "quarantine", q)


@locked("run")
def run_pipeline(
    settings: Settings,
    *,
    data_dir: Path | None = None,
    build: bool = True,
    sources: tuple[str, ...] = CONNECTORS,
    progress: Any | None = None,
    say: Say = print,
    score: bool = True,
    ml: bool = True,
    tune: bool = False,
    documents: Callable[[Any], dict[str, Any]] | None = None,
) -> RunReport:
    """Ingest → dbt build → score → (documents) → swap. Returns the report; nothing live changes unless it succeeds.

    ``documents(staging)``: the chat's document step, run on the staged document store and the
    staging warehouse before the commit, so documents, embeddings and fact sheets swap in with the
    build they describe (see :func:`step_documents`).
    """
    from fvi.ingest.preflight import preflight
    from fvi.warehouse import Staging

    run_id = new_run_id()
    plan = plan_input(settings, data_dir, say)
    door = preflight(plan.data_dir, sources) if plan.kind != "live" else None  # BadInput in seconds
    staging = Staging(settings, run_id)
    report = RunReport(run_id, plan, [])
    t_all = time.perf_counter()
    task = progress.add_task("ingest", total=len(sources)) if progress is not None else None
    wh = staging.open()
    try:
        for source_id in sources:
            if progress is not None:
                progress.update(task, description=f"ingest {source_id}")
            outcome = ingest_source(
                source_id, plan, wh, staging, run_id, refused=door.problems.get(source_id) if door else None
            )
            report.outcomes.append(outcome)
            if progress is not None:
                progress.advance(task)
        report.seconds["ingest"] = round(time.perf_counter() - t_all, 2)
        manifest_rows = [r for o in report.outcomes for r in o.manifest]
        frames = [o.quarantine for o in report.outcomes if o.quarantine is not None and len(o.quarantine)]
        quarantine = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=QUARANTINE_COLUMNS)
        write_reference_tables(wh, run_id, settings, manifest_rows, quarantine)
    except BaseException as exc:
        wh.close()
        staging.discard()
        report.error = f"{type(exc).__name__}: {exc}"
        raise
    wh.close()
    try:
        if build:
            t0 = time.perf_counter()
            btask = progress.add_task("dbt build", total=None) if progress is not None else None

            def _tick(node: str, status: str) -> None:
                if progress is not None:
                    progress.update(btask, description=f"dbt {node.split('.')[-1]} {status}", advance=1)

            def _manifest_again(swh: Any) -> None:  # the warehouse's manifest says which source was held back
                write_reference_tables(swh, run_id, settings, [r for o in report.outcomes for r in o.manifest],
                                       quarantine)

            build_isolating(settings, staging, run_id, plan, report.outcomes, on_node=_tick, say=say,
                            after_isolation=_manifest_again)
            report.seconds["build"] = round(time.perf_counter() - t0, 2)
            report.built = True
            if score:
                report.steps.update(post_build_steps(settings, staging, run_id, progress, say, ml=ml, tune=tune))
                report.seconds.update({k: v["seconds"] for k, v in report.steps.items() if "seconds" in v})
            if documents is not None:
                report.steps["documents"] = step_documents(staging, documents, say)
                report.seconds["documents"] = report.steps["documents"]["seconds"]
        staging.commit()
    except BaseException as exc:
        staging.discard()
        report.error = f"{type(exc).__name__}: {exc}"
        _save_report(settings, report)
        raise
    append_manifest(settings, [r for o in report.outcomes for r in o.manifest])
    report.seconds["total"] = round(time.perf_counter() - t_all, 2)
    _save_report(settings, report)
    return report


def step_documents(staging: Any, documents: Callable[[Any], dict[str, Any]], say: Say) -> dict[str, Any]:
    """The chat's documents and embeddings, written into the run's staged store (swapped in at commit).

    A failure here does not hold the warehouse back: the staged store is dropped, the live one stays
    as it was (its fact sheets are then the previous build's), and the report says so.
    """
    from fvi import staged

    t0 = time.perf_counter()
    try:
        out = {"status": "staged", **documents(staging)}
    except Exception as exc:  # noqa: BLE001 - reported; the previous document store is kept
        staged.drop_docs(staging.settings.home_abs, staging.run_id)
        out = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "kept": "the previous document store"}
        say(f"[yellow]chat documents failed ({out['error']}); the previous document store is kept[/]")
    return {**out, "seconds": round(time.perf_counter() - t0, 2)}


@dataclass
class StepContext:
    """What a post-build step gets: the run, its staging warehouse (open) and how to talk."""

    settings: Settings
    staging: Any
    wh: Any
    run_id: str
    say: Say = print
    tune: bool = False


class StepInputError(RuntimeError):
    """A step failed and its declared input tables were missing: the message names both."""


def _rows(wh: Any, table: str) -> int | None:
    """Rows of ``gold.table``, None when it does not exist."""
    if not wh.has_table("gold", table):
        return None
    return int(wh.query(f"select count(*) as n from {wh.schema('gold')}.{table}").iloc[0, 0])


def step(
    *, reads: tuple[str, ...] = (), writes: tuple[str, ...] = ()
) -> Callable[[Callable[[StepContext], dict[str, Any]]], Callable[[StepContext], dict[str, Any]]]:
    """Every post-build step has one shape (OWID's load -> process -> save, with checks around it).

    ``run(context) -> report``: the declared gold inputs are counted first (a step that fails while
    one is missing says so beside its error; missing or empty inputs are named in ``checks``), then
    the step runs, then the report gets its seconds,
    ``rows_in`` and ``rows_out`` per declared table, and ``checks`` naming any declared output
    that is missing or empty afterwards. ``fvi run``, ``fvi build`` and the Dagster assets call the
    same wrapped functions.
    """

    def wrap(fn: Callable[[StepContext], dict[str, Any]]) -> Callable[[StepContext], dict[str, Any]]:
        def run(ctx: StepContext) -> dict[str, Any]:
            name = fn.__name__.removeprefix("step_")
            rows_in = {t: _rows(ctx.wh, t) for t in reads}
            missing = [t for t, n in rows_in.items() if n is None]
            t0 = time.perf_counter()
            try:
                # a span per step (exported when OTEL_EXPORTER_OTLP_ENDPOINT is set; a no-op otherwise)
                with span(f"pipeline.{name}", run_id=ctx.run_id):
                    out = fn(ctx)
            except Exception as exc:
                if missing:  # say what was missing, not only the error it led to
                    raise StepInputError(
                        f"step {name} failed: {exc} (its input gold tables were missing: {', '.join(missing)})"
                    ) from exc
                raise
            seconds = round(time.perf_counter() - t0, 2)
            rows_out = {t: _rows(ctx.wh, t) for t in writes}
            checks = [f"input {t}: {'missing' if n is None else 'empty'}" for t, n in rows_in.items() if not n]
            checks += [f"{t}: {'not written' if n is None else 'empty'}" for t, n in rows_out.items() if not n]
            return {**out, "seconds": seconds, "rows_in": rows_in, "rows_out": rows_out, "checks": checks}

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        run.reads, run.writes = reads, writes  # type: ignore[attr-defined]
        return run

    return wrap


@step(
    reads=("fct_country__yearly", "dim_country"),
    writes=("fvi_scores", "fvi_metric_scores", "fvi_personas", "fvi_audit_influence", "fvi_score_contributions"),
)
def step_score(ctx: StepContext) -> dict[str, Any]:
    """Scores, uncertainty and the audit (``fvi.scoring.run.score_warehouse``)."""
    from fvi.scoring.run import score_warehouse

    outcome = score_warehouse(ctx.wh, run_id=ctx.run_id, out_dir=_out_dir(ctx), say=ctx.say)
    return dict(outcome.summary)


@step(
    reads=("fct_country__yearly",),
    writes=("fvi_outcome_country", "fvi_outcome_us_mine", "fvi_outcome_gem_survival", "fvi_outcome_gem_hazard"),
)
def step_outcomes(ctx: StepContext) -> dict[str, Any]:
    """Outcome labels (closures, transitions) the models learn from."""
    from fvi.outcomes import write_outcomes

    return {"rows": write_outcomes(ctx.wh)}


@step(
    reads=("fvi_metric_scores",),
    writes=("fvi_weights_history",),
)
def step_weights(ctx: StepContext) -> dict[str, Any]:
    """Dynamic pillar weights (Spark when ``FVI_SPARK_MASTER`` is set); the history outlives each build."""
    from fvi.cache import make_cache
    from fvi.weights import HISTORY_TABLE
    from fvi.weights.job import run_weight_job

    settings = ctx.settings
    ctx.staging.carry_forward(ctx.wh, "gold", HISTORY_TABLE)
    cache = make_cache(settings.cache_url, "fvi")
    try:
        return dict(
            run_weight_job(
                ctx.wh,
                ctx.run_id,
                engine="spark" if settings.spark_master else "local",
                master=settings.spark_master,
                cache=cache,
            )
        )
    finally:
        cache.close()


@step(
    reads=("fvi_scores", "fvi_metric_scores"),
    writes=("fvi_predictions", "fvi_backtest_oof", "fvi_explanations", "fvi_model_features"),
)
def step_train(ctx: StepContext) -> dict[str, Any]:
    """Train, calibrate and export the models (ONNX, registry, MLflow), all staged: live only at the swap."""
    from fvi.ml.train import train_all, write_ml_tables

    staged = {} if ctx.staging is None else {"models_dir": ctx.staging.models_dir,
                                             "tracking_uri": ctx.staging.tracking_uri}
    result = train_all(ctx.settings, ctx.wh, tune=ctx.tune, say=ctx.say, **staged)
    rows = write_ml_tables(ctx.wh, result)
    return {"models": result.get("models"), "warehouse_models": result.get("warehouse_models"), "rows": rows}


@step(
    reads=("fvi_metric_scores",),
    writes=("fvi_predictions_bayes", "fvi_bayes_diagnostics"),
)
def step_bayes(ctx: StepContext) -> dict[str, Any]:
    """The Bayesian intervals."""
    from fvi.ml.bayes import run_bayes

    return {"summary": run_bayes(ctx.wh, _out_dir(ctx) / "bayes", run_id=ctx.run_id)}


@step(
    reads=("fvi_scores",),
    writes=("fvi_backtest", "fvi_probabilities", "fvi_viability"),
)
def step_backtest(ctx: StepContext) -> dict[str, Any]:
    """The strict back-test."""
    from fvi.ml.backtest import run_backtest

    return {"summary": run_backtest(ctx.wh, _out_dir(ctx) / "backtest", run_id=ctx.run_id)}


@step(
    reads=("fvi_model_features",),
    writes=(),
)
def step_features(ctx: StepContext) -> dict[str, Any]:
    """The feature store (offline tables, online store)."""
    from fvi.feature_store import build_feature_store

    repo = None if ctx.staging is None else ctx.staging.feast_dir  # swapped in with the warehouse
    summary = build_feature_store(ctx.settings, ctx.wh, online_store_url=ctx.settings.online_store_url, repo_dir=repo)
    ctx.say(f"models trained, back-test and feature store written under {run_dir(ctx.settings, ctx.run_id)}")
    return {"summary": summary}


@step(
    reads=("fvi_scores",),
    writes=("fvi_scores",),
)
def step_learnt_personas(ctx: StepContext) -> dict[str, Any]:
    """Scores under the learnt personas (``fvi.scoring.learnt.score_learnt``)."""
    from fvi.scoring.learnt import score_learnt

    return dict(score_learnt(ctx.wh, ctx.run_id, say=ctx.say))


# The steps after the dbt build, in order; `fvi run` and the Dagster assets both run these.
SCORE_STEPS: dict[str, Callable[[StepContext], dict[str, Any]]] = {
    "score": step_score,
    "outcomes": step_outcomes,
    "weights": step_weights,
    "learnt_personas": step_learnt_personas,
}
ML_STEPS: dict[str, Callable[[StepContext], dict[str, Any]]] = {
    "train": step_train,
    "bayes": step_bayes,
    "backtest": step_backtest,
}


def _say_step(say: Say, name: str, report: dict[str, Any]) -> None:
    rows = sum(n or 0 for n in report.get("rows_out", {}).values())
    say(f"step {name}: done in {report['seconds']} s, {rows:,} rows written")
    for check in report.get("checks", []):
        say(f"step {name}: check: {check}")


def post_build_steps(
    settings: Settings,
    staging: Any,
    run_id: str,
    progress: Any | None,
    say: Say,
    *,
    ml: bool = True,
    tune: bool = False,
) -> dict[str, dict[str, Any]]:
    """Steps that read gold and write gold-level results into the staging warehouse (before the swap)."""
    steps: dict[str, dict[str, Any]] = {}
    task = progress.add_task("score, uncertainty, audit", total=None) if progress is not None else None
    wh = staging.open()
    try:
        ctx = StepContext(settings, staging, wh, run_id, say, tune)
        for name, run_step in SCORE_STEPS.items():
            steps[name] = run_step(ctx)
            _say_step(say, name, steps[name])
        if ml:
            steps.update(ml_steps(settings, wh, run_id, tune=tune, say=say, staging=staging))
    finally:
        wh.close()
        if progress is not None:
            progress.update(task, completed=1, total=1)
    return steps


def ml_steps(
    settings: Settings, wh: Any, run_id: str, *, tune: bool = False, say: Say = print, staging: Any = None
) -> dict[str, dict[str, Any]]:
    """Train and export the models, the Bayesian intervals and the back-test (the feature store: on request)."""
    ctx = StepContext(settings, staging, wh, run_id, say, tune)
    steps: dict[str, dict[str, Any]] = {}
    for name, run_step in ML_STEPS.items():
        steps[name] = run_step(ctx)
        _say_step(say, name, steps[name])
    return steps


def _out_dir(ctx: StepContext) -> Path:
    """A step's output folder: the run's staged folder (renamed at commit), or ``runs/<run_id>`` outside a run."""
    return ctx.staging.run_dir if ctx.staging is not None else run_dir(ctx.settings, ctx.run_id)


def run_dir(settings: Settings, run_id: str) -> Path:
    """Files a run writes besides the warehouse (audit, uncertainty parameters, reports)."""
    return settings.home_abs / "runs" / run_id


def dbt_vars(run_id: str, plan: InputPlan) -> dict[str, Any]:
    return {
        "fvi_run_id": run_id,
        "fvi_synthetic": plan.synthetic,
        "fvi_real_data_floors": not plan.synthetic,
    }


@locked("build")
def build_only(
    settings: Settings, *, progress: Any | None = None, score: bool = True, ml: bool = True, say: Say = print
) -> str:
    """Rebuild silver/gold/marts from the live bronze, aside, then swap."""
    from fvi.dbt import run_dbt
    from fvi.warehouse import PostgresWarehouse, Staging, copy_file, live

    run_id = new_run_id()
    staging = Staging(settings, run_id)
    if not staging.live_exists():
        raise FileNotFoundError("no warehouse yet: run `fvi run` or `fvi ingest` first")
    with live(settings) as wh:
        synthetic = (
            bool(len(wh.query("select 1 from bronze.ingest_manifest where is_synthetic limit 1")))
            if wh.has_table("bronze", "ingest_manifest")
            else False
        )
    try:
        if staging.path is not None:
            copy_file(settings.duckdb_path, staging.path)
        else:
            url = str(settings.warehouse_url)
            with PostgresWarehouse(url) as src, PostgresWarehouse(url, suffix=staging.suffix) as dst:
                for t in src.tables("bronze"):
                    dst.copy_table_from_schema("bronze", "bronze", t)
        plan = InputPlan("rebuild", Path("."), synthetic=synthetic)
        run_dbt(settings, ["build"], env=staging.dbt_env(), dbt_vars=dbt_vars(run_id, plan))
        if score:
            post_build_steps(settings, staging, run_id, progress, say, ml=ml)
        staging.commit()
    except BaseException:
        staging.discard()
        raise
    return run_id


def _save_report(settings: Settings, report: RunReport) -> None:
    """The run report, with absolute paths cut to file names (``/v1/runs`` serves it as written)."""
    from fvi.errors import scrub_tree

    runs = settings.home_abs / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    doc = scrub_tree(report.to_json(), settings.home_abs)
    (runs / f"{report.run_id}.json").write_text(json.dumps(doc, indent=1, default=str))
