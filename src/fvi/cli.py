"""The ``fvi`` command line: run, ingest, build, score, audit, uncertainty, what-if, sources, export, dbt."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fvi.cli_guard import NO_WAIT_HELP, exclusive, is_disk_full, run_cli
from fvi.exit_codes import DEGRADED_STATUSES, ExitCode
from fvi.progress import PlainProgress, is_terminal
from fvi.registry.vocabulary import DEFAULT_PERSONA

app = typer.Typer(
    help="FVI: the Future Viability Index for coal mines and coal countries.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
export_app = typer.Typer(help="Write warehouse tables or scores to files for your own tools.")
app.add_typer(export_app, name="export")
models_app = typer.Typer(help="Model versions: list them with their metrics and aliases, promote one.")
app.add_typer(models_app, name="models")
stack_app = typer.Typer(help="The server profile from local services (no Docker): up, down, status, plan.")
app.add_typer(stack_app, name="stack")


def _register_keys() -> None:
    from fvi.api.keys import keys_app

    app.add_typer(keys_app, name="keys")


_register_keys()


def _register_chat() -> None:
    from fvi.rag.cli import ask, docs_app

    app.add_typer(docs_app, name="docs")
    app.command("ask")(ask)


_register_chat()
console = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder laid out like shared/data (else FVI_DATA_DIR, live URLs, demo)."),
]


def _settings():  # noqa: ANN202 - typed in settings module
    from fvi.settings import get_settings

    return get_settings()


def _progress() -> Progress | PlainProgress:
    """A live bar on a terminal; plain timestamped lines when the output is a file or a pipe."""
    if not is_terminal(sys.stdout):
        return PlainProgress(sys.stdout)
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _print_outcomes(report) -> None:  # noqa: ANN001
    table = Table(title=f"run {report.run_id} — input: {report.plan.kind} {report.plan.data_dir}")
    for col in ("source", "status", "rows", "quarantined", "s", "message"):
        table.add_column(col)
    for o in report.outcomes:
        colour = {"loaded": "green", "carried_forward": "yellow"}.get(o.status, "red")
        table.add_row(
            o.source_id,
            f"[{colour}]{o.status}[/]",
            str(o.rows_loaded),
            str(o.rows_quarantined),
            f"{o.seconds:.1f}",
            (o.message or "")[:120],
        )
    console.print(table)
    if report.plan.synthetic:
        console.print("[bold yellow]SYNTHETIC demo data: nothing in this warehouse is real.[/]")


def _ingest_and_build(data_dir: Path | None, build: bool, tune: bool = False, documents: bool = False) -> bool:
    """Run the pipeline and print its outcomes; True when a source failed or was carried forward.

    ``documents``: the chat's documents are ingested into a staged store before the commit and swap
    in with the warehouse; the pgvector mirror (server profile) is synced after the commit.
    """
    from fvi.dbt import DbtFailed
    from fvi.pipeline import run_pipeline

    settings = _settings()
    try:
        with _progress() as progress:
            report = run_pipeline(
                settings, data_dir=data_dir, build=build, progress=progress, say=console.print, tune=tune,
                documents=_staged_documents(data_dir) if documents and build else None,
            )
    except DbtFailed as exc:
        if is_disk_full(exc):
            raise  # exit 5 with one line (fvi.cli_guard), not "build failed"
        console.print(f"[red]warehouse build failed; the previous warehouse is untouched.[/]\n{exc}")
        raise typer.Exit(1) from None
    except (FileNotFoundError, RuntimeError) as exc:
        if is_disk_full(exc):
            raise
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    _print_outcomes(report)
    console.print(f"timings (s): {report.seconds}")
    where = settings.warehouse_url if settings.is_postgres else settings.duckdb_path
    console.print(f"[green]warehouse ready:[/] {where}")
    degraded = sorted(o.source_id for o in report.outcomes if o.status in DEGRADED_STATUSES)
    if degraded:
        console.print(
            f"[yellow]degraded run (exit {int(ExitCode.DEGRADED)}): not loaded this time: {', '.join(degraded)}[/]"
        )
    return bool(degraded)


def _staged_documents(data_dir: Path | None) -> Callable[[Any], dict[str, Any]]:
    """The chat's corpus and fact sheets for ``fvi run``: into the run's staged store, facts from its build."""

    def documents(staging: Any) -> dict[str, Any]:
        from fvi.rag.jobs import ingest_documents, staged_facts

        report = ingest_documents(_settings(), data_dir=data_dir, say=console.print, store=staging.docs_store,
                                  facts=lambda: staged_facts(staging), sync=False)
        console.print(f"chat documents (staged): {report.to_json()}")
        return {"report": report.to_json()}

    return documents


@app.command()
def run(
    data_dir: DataDirOpt = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Do not start the API afterwards.")] = False,
    tune: Annotated[bool, typer.Option("--tune", help="Optuna search before training (slower).")] = False,
    host: Annotated[str, typer.Option(help="Address the API listens on afterwards.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the API listens on afterwards.")] = 8000,
    no_wait: Annotated[bool, typer.Option("--no-wait", help=NO_WAIT_HELP)] = False,
) -> None:
    """The main job: ingest, build, score, train, back-test (aside, then swap), then serve the API."""
    from fvi.lock import writer_lock_for

    with writer_lock_for(_settings(), "run", no_wait=no_wait, say=console.print):  # released before serving
        docs = _settings().chat.docs_in_run
        degraded = _ingest_and_build(data_dir, build=True, tune=tune, documents=docs)
        if docs:
            from fvi.rag.jobs import sync_vector_store

            sync_vector_store(_settings(), console.print)  # the mirror follows the live store
    if not no_serve:
        from fvi.api.server import serve as _serve

        console.print(f"[green]serving[/] http://{host}:{port}/ (dashboard; API at /v1, docs at /docs; Ctrl-C quits)")
        _serve(host, port)
    if degraded:
        raise typer.Exit(int(ExitCode.DEGRADED))


@app.command()
@exclusive("ingest", say=console.print)
def ingest(data_dir: DataDirOpt = None) -> None:
    """Ingest sources into bronze only (no dbt build)."""
    if _ingest_and_build(data_dir, build=False):
        raise typer.Exit(int(ExitCode.DEGRADED))


@app.command()
@exclusive("build", say=console.print)
def build() -> None:
    """Rebuild silver, gold and marts from the current bronze (aside, then swap)."""
    from fvi.dbt import DbtFailed
    from fvi.pipeline import build_only

    try:
        with _progress() as progress:
            run_id = build_only(_settings(), progress=progress, say=console.print)
    except (DbtFailed, FileNotFoundError) as exc:
        if is_disk_full(exc):
            raise  # exit 5 with one line (fvi.cli_guard)
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]built[/] run {run_id}")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@exclusive("dbt", say=console.print)
def dbt(ctx: typer.Context) -> None:
    """Run dbt against the live warehouse with FVI's profile, e.g. ``fvi dbt build -s dim_mine``."""
    from fvi.dbt import DbtFailed, run_dbt

    try:
        run_dbt(_settings(), list(ctx.args), quiet=False)
    except DbtFailed as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON lines.")] = False,
    all_runs: Annotated[bool, typer.Option("--all", help="Every run, not only the latest.")] = False,
) -> None:
    """The provenance manifest: what was ingested, from where, under which licence."""
    from fvi.pipeline import read_manifest

    frame = read_manifest(_settings())
    if frame.empty:
        console.print("no ingest recorded yet: run `fvi run`")
        raise typer.Exit(0)
    if not all_runs:
        frame = frame[frame["run_id"] == frame["run_id"].iloc[-1]]
    if as_json:
        sys.stdout.write(frame.to_json(orient="records", lines=True))
        return
    table = Table(title=f"sources — run {frame['run_id'].iloc[-1]}")
    for col in ("source", "dataset", "release", "status", "rows", "quar.", "licence", "sha256", "file or URL"):
        table.add_column(col, overflow="fold")
    for r in frame.itertuples():
        table.add_row(
            str(r.source_id),
            str(r.dataset or ""),
            str(r.release or ""),
            str(r.status),
            str(r.rows_loaded or 0),
            str(r.rows_quarantined or 0),
            str(r.licence_name or ""),
            str(r.sha256 or "")[:12],
            str(r.url or r.path or ""),
        )
    Console().print(table)


@app.command("demo-data")
def demo_data(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the synthetic world into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")] = 20240401,
) -> None:
    """Write a deterministic SYNTHETIC world in the published formats of every source."""
    from fvi.demo import write_demo_data

    summary = write_demo_data(out_dir, seed=seed)
    console.print(f"[yellow]SYNTHETIC[/] demo data written to {out_dir}: {summary}")


def _live_scorer():  # noqa: ANN202
    from fvi.scoring.run import scorer_from_warehouse
    from fvi.warehouse import WarehouseUnavailable, live

    try:
        with live(_settings()) as wh:
            return scorer_from_warehouse(wh)
    except WarehouseUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


def _rescore(uncertainty: bool, params=None) -> None:  # noqa: ANN001
    from fvi.pipeline import new_run_id, run_dir
    from fvi.scoring.learnt import score_learnt
    from fvi.scoring.run import score_warehouse
    from fvi.warehouse import WarehouseUnavailable, updating

    settings = _settings()
    run_id = new_run_id()
    try:
        with updating(settings, run_id) as wh:
            outcome = score_warehouse(wh, run_id=run_id, out_dir=run_dir(settings, run_id), params=params,
                                      uncertainty=uncertainty, say=console.print)
            # the learnt personas are scored again with the stored dynamic weights (else they would vanish)
            outcome.summary["learnt_personas"] = score_learnt(wh, run_id, say=console.print)
    except WarehouseUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print_json(data=outcome.summary)


@app.command()
@exclusive("score", say=console.print)
def score(
    no_uncertainty: Annotated[
        bool, typer.Option("--no-uncertainty", help="Skip the Monte Carlo and Sobol step.")
    ] = False,
) -> None:
    """Rescore the live warehouse (scores, audit, uncertainty) with the current registry and personas."""
    _rescore(not no_uncertainty)


@app.command()
@exclusive("audit", say=console.print)
def audit(
    out: Annotated[Path | None, typer.Option("--out", help="Folder for audit.json and audit.md.")] = None,
    persona: Annotated[str, typer.Option(help="Persona shown in the markdown influence table.")] = DEFAULT_PERSONA,
    horizon: Annotated[str, typer.Option(help="Horizon shown in the markdown influence table.")] = "H10",
) -> None:
    """Statistical audit: correlations, Cronbach's alpha, double counting, influence vs nominal weight."""
    from fvi.scoring.audit import audit_markdown, run_audit, write_audit
    from fvi.scoring.config import load_personas

    scorer = _live_scorer()
    report = run_audit(scorer, {p.id: p.weights for p in load_personas().values()})
    target = out or _settings().home_abs / "audit"
    js, md = write_audit(report, target)
    sys.stdout.write(audit_markdown(report, persona=persona, horizon=horizon))
    console.print(f"[green]audit written:[/] {md} and {js}")


@app.command()
@exclusive("uncertainty", say=console.print)
def uncertainty(
    draws: Annotated[int | None, typer.Option(help="Monte Carlo draws (default from the registry).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default from the registry).")] = None,
    params_file: Annotated[
        Path | None, typer.Option("--params", help="uncertainty_params.json of an earlier run, to reproduce it.")
    ] = None,
) -> None:
    """Monte Carlo bands and Sobol indices over weights, normalisation, imputation and aggregation."""
    from fvi.scoring.config import ScoringSpec, load_personas
    from fvi.scoring.uncertainty import UncertaintyParams

    if params_file is not None:
        params = UncertaintyParams.from_json(params_file.read_text())
    else:
        spec = ScoringSpec.from_registry()
        personas = {p.id: p.weights for p in load_personas().values()}
        params = UncertaintyParams.from_defaults(
            spec.defaults.uncertainty, spec.horizons, personas, draws=draws, seed=seed
        )
    _rescore(True, params)


def _pairs(text: str | None, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (text or "").split(",")):
        key, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(f"{what}: expected key=number pairs separated by commas, got {part!r}") from None
    return out


@app.command("what-if")
def what_if(
    entity: Annotated[str, typer.Option(help="mine or country")],
    entity_id: Annotated[str, typer.Option("--id", help="GEM Mine ID or ISO3 code.")],
    persona: Annotated[str | None, typer.Option(help="Persona preset (default analyst).")] = None,
    weights: Annotated[str | None, typer.Option(help="Custom pillar weights, e.g. 01=0.5,04=0.5 (sum 1).")] = None,
    set_values: Annotated[str | None, typer.Option("--set", help="Metric values, e.g. mine_reserves_mt=500.")] = None,
    as_of: Annotated[int | None, typer.Option("--as-of", help="As-of year (default latest).")] = None,
) -> None:
    """Rescore one entity under custom weights or changed metric values; prints JSON."""
    from fvi.scoring.config import ScoringError
    from fvi.scoring.whatif import WhatIf

    scorer = _live_scorer()
    try:
        result = WhatIf(scorer).rescore(
            entity,
            entity_id,
            as_of_year=as_of,
            persona=persona,
            weights=_pairs(weights, "--weights") or None,
            metric_values=_pairs(set_values, "--set"),
        )
    except (ScoringError, KeyError) as exc:
        console.print(f"[red]{exc.args[0] if exc.args else exc}[/]")
        raise typer.Exit(2) from None
    console.print_json(data=result)
    for h, out in result["horizons"].items():
        if out.get("fvi_published") is not None and out.get("fvi") is not None:
            console.print(
                f"{h}: FVI {out['fvi_published']:.1f} ({result['published_persona']}, published) -> {out['fvi']:.1f} "
                f"({out['delta_vs_published']:+.1f})"
            )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API over an already-built FVI_HOME (``fvi run`` builds one)."""
    from fvi.api.server import serve as _serve

    _serve(host, port, workers)


PortBaseOpt = Annotated[
    int | None,
    typer.Option("--port-base", help="API, MLflow, Dagster, Prometheus on four ports from here "
                 "(default 8000, 5000, 3000, 9090)."),
]
SkipOpt = Annotated[list[str] | None, typer.Option("--skip", help="Leave out a service (mlflow, api, dagster, "
                                                         "prometheus); repeatable.")]


def _stack_plan(port_base: int | None, skip: list[str] | None, workers: int = 2):  # noqa: ANN202
    from fvi.stack import Ports, plan

    ports = Ports.from_base(port_base) if port_base else Ports()
    return plan(_settings(), ports=ports, workers=workers, skip=tuple(skip or ()))


@stack_app.command("up")
def stack_up(
    port_base: PortBaseOpt = None,
    skip: SkipOpt = None,
    workers: Annotated[int, typer.Option(help="API worker processes.")] = 2,
) -> None:
    """Start PostgreSQL, Redis, MLflow, the API, Dagster and Prometheus (those not running yet)."""
    from fvi.stack import up

    up(_stack_plan(port_base, skip, workers), say=console.print)


@stack_app.command("down")
def stack_down(port_base: PortBaseOpt = None) -> None:
    """Stop what `fvi stack up` started (PostgreSQL only if it started it)."""
    from fvi.stack import down

    down(_stack_plan(port_base, None), say=console.print)


@stack_app.command("status")
def stack_status(port_base: PortBaseOpt = None, skip: SkipOpt = None) -> None:
    """Each service: up, running but not answering, or stopped."""
    from fvi.stack import status

    for name, state in status(_stack_plan(port_base, skip)).items():
        print(f"{name}: {state}")


@stack_app.command("plan")
def stack_plan(port_base: PortBaseOpt = None, skip: SkipOpt = None) -> None:
    """Print what `fvi stack up` would start and the settings it gives every process."""
    stack = _stack_plan(port_base, skip)
    for key, value in stack.env.items():
        print(f"{key}={value}")
    for service in stack.services:
        print(f"{service.name}: {' '.join(service.argv)}")


@app.command()
def orchestrate(
    host: Annotated[str, typer.Option(help="Address of the Dagster UI.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Start the Dagster webserver and daemon (nightly schedule, source-change sensor) until Ctrl-C."""
    from fvi.orchestration.serve import orchestrate as _orchestrate

    raise typer.Exit(_orchestrate(_settings(), host, port, say=console.print))


@app.command()
@exclusive("train", say=console.print)
def train(
    tune: Annotated[bool, typer.Option("--tune", help="Optuna search (seeded, bounded) before training.")] = False,
    n_trials: Annotated[int, typer.Option(help="Optuna trials with --tune.")] = 20,
    bayes: Annotated[bool, typer.Option("--bayes", help="Also fit the PyMC hierarchical model.")] = False,
    as_of_max: Annotated[
        int | None, typer.Option("--as-of-max", help="Train as if in this year (labels with outcome year <= it).")
    ] = None,
) -> None:
    """Train the LightGBM models (MLflow, ONNX, SHAP) on the live warehouse; optionally the Bayesian model."""
    from fvi.ml.train import train_all, write_ml_tables
    from fvi.pipeline import new_run_id, run_dir
    from fvi.warehouse import WarehouseUnavailable, updating

    settings = _settings()
    run_id = new_run_id()
    try:
        with updating(settings, run_id) as wh:
            files = wh.staging  # model versions and MLflow staged, swapped in with the warehouse
            result = train_all(settings, wh, tune=tune, n_trials=n_trials, as_of_max=as_of_max, say=console.print,
                               models_dir=files.models_dir if files else None,
                               tracking_uri=files.tracking_uri if files else None)
            rows = write_ml_tables(wh, result)
            summary: dict = {
                "models": result.get("models"),
                "warehouse_models": result.get("warehouse_models"),
                "rows": rows,
                "seconds": result.get("seconds"),
            }
            if bayes:
                from fvi.ml.bayes import run_bayes

                summary["bayes"] = run_bayes(wh, run_dir(settings, run_id) / "bayes", run_id=run_id)
    except WarehouseUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print_json(data=summary, default=str)


@models_app.command("list")
def models_list(name: Annotated[str | None, typer.Option(help="Only this model.")] = None) -> None:
    """Every registered version with CV metrics, aliases and ONNX file."""
    from fvi.ml.model_registry import ModelRegistry

    console.print_json(data=ModelRegistry(_settings().home_abs / "models").list_versions(name), default=str)


@models_app.command("promote")
@exclusive("models promote", say=console.print)
def models_promote(
    name: Annotated[str, typer.Argument(help="Model name, e.g. fvi_mine_h5.")],
    version: Annotated[str, typer.Argument(help="Version number to make champion.")],
) -> None:
    """Make a version the champion (refused if its ONNX file is missing or corrupt; the old one keeps serving)."""
    from fvi.ml.model_registry import ModelRegistryError, promote
    from fvi.ml.train import default_tracking_uri

    settings = _settings()
    try:
        result = promote(settings.home_abs / "models", name, version, tracking_uri=default_tracking_uri(settings))
    except ModelRegistryError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print_json(data=result, default=str)


@app.command()
@exclusive("features", say=console.print)
def features() -> None:
    """Regenerate the Feast feature repository from the registry, apply it and materialise the online store."""
    from fvi.feature_store import build_feature_store
    from fvi.pipeline import new_run_id
    from fvi.warehouse import WarehouseUnavailable, live, staged_files

    settings = _settings()
    try:
        with live(settings) as wh, staged_files(settings, new_run_id()) as files:  # built aside, then swapped in
            summary = build_feature_store(settings, wh, online_store_url=settings.online_store_url,
                                          repo_dir=files.feast_dir)
    except WarehouseUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print_json(data=summary, default=str)


@app.command()
@exclusive("weights", say=console.print)
def weights(
    engine: Annotated[str, typer.Option(help="local (pandas) or spark (FVI_SPARK_MASTER, else local[2]).")] = "local",
) -> None:
    """Learn pillar weights from observed outcomes (information gain), append to the history, publish."""
    from fvi.cache import make_cache
    from fvi.pipeline import new_run_id
    from fvi.warehouse import WarehouseUnavailable, updating
    from fvi.weights.job import run_weight_job

    if engine not in ("local", "spark"):
        raise typer.BadParameter("--engine must be local or spark")
    settings = _settings()
    cache = make_cache(settings.cache_url, "fvi")
    run_id = new_run_id()
    try:
        with updating(settings, run_id) as wh:
            summary = run_weight_job(wh, run_id, engine=engine, master=settings.spark_master, cache=cache)
    except WarehouseUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        cache.close()
    console.print_json(data=summary)


@export_app.command("scores")
def export_scores(
    entity: Annotated[str, typer.Option(help="mine or country")] = "mine",
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    out: Annotated[Path, typer.Option("--out", help="Output file.")] = Path("fvi_scores.csv"),
    as_of: Annotated[int | None, typer.Option("--as-of", help="Only rows with features as of this year.")] = None,
    persona: Annotated[str, typer.Option(help="Persona whose FVI is exported.")] = DEFAULT_PERSONA,
    raw: Annotated[bool, typer.Option("--raw", help="Every fvi_scores row (all years, personas).")] = False,
) -> None:
    """One row per mine (or country) and horizon at its latest as-of year: FVI, band, P(operating) and interval."""
    from fvi.ml.export_mines import export_country_scores, export_mine_scores
    from fvi.scoring.export import export_scores as export_raw
    from fvi.warehouse import WarehouseUnavailable

    if entity not in ("mine", "country"):
        raise typer.BadParameter("--entity must be mine or country")
    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("--format must be csv or parquet")
    settings = _settings()
    try:
        if raw:
            n = export_raw(settings, entity, fmt, out, as_of=as_of)
        elif entity == "mine":
            n = export_mine_scores(settings, out, fmt, as_of=as_of, persona=persona)
        else:
            n = export_country_scores(settings, out, fmt, as_of=as_of, persona=persona)
    except (WarehouseUnavailable, LookupError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"{n} rows -> {out}")


@app.command()
@exclusive("backtest", say=console.print)
def backtest(
    out: Annotated[Path | None, typer.Option("--out", help="Folder for backtest.md/json and calibration.png.")] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap draws for the AUC-difference interval.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 20240501,
) -> None:
    """Back-test the model, the FVI and two baselines against observed outcomes (AUC, Brier, calibration)."""
    from fvi.ml.backtest import BacktestConfig, run_backtest
    from fvi.pipeline import new_run_id
    from fvi.warehouse import WarehouseUnavailable, updating

    settings = _settings()
    target = out or settings.home_abs / "backtest"
    try:
        with updating(settings, new_run_id()) as wh:
            summary = run_backtest(wh, target, config=BacktestConfig(n_boot=n_boot, seed=seed))
    except WarehouseUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    sys.stdout.write((target / "backtest.md").read_text())
    console.print(f"[green]back-test written to[/] {target} ({len(summary)} keys)")


@export_app.command("warehouse")
def export_warehouse(
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "parquet",
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("export"),
    layer: Annotated[str, typer.Option(help="Warehouse layer to export.")] = "gold",
) -> None:
    """Write every gold table to OUT/<table>.<format>."""
    from fvi.warehouse import WarehouseUnavailable, export_tables

    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("--format must be csv or parquet")
    try:
        written = export_tables(_settings(), layer, out, fmt)
    except WarehouseUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    for p in written:
        console.print(str(p))


def main() -> None:
    """Console entry point: errors as one line, exit codes as in :mod:`fvi.exit_codes`."""
    sys.exit(run_cli(app))


if __name__ == "__main__":  # pragma: no cover
    main()
