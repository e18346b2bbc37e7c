"""The ``fvi`` command line: ingest, build, run, sources, demo-data, export, dbt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="FVI: the Future Viability Index for coal mines and coal countries.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
export_app = typer.Typer(help="Write warehouse tables or scores to files for your own tools.")
app.add_typer(export_app, name="export")
console = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder laid out like shared/data (else FVI_DATA_DIR, live URLs, demo)."),
]


def _settings():  # noqa: ANN202 - typed in settings module
    from fvi.settings import get_settings

    return get_settings()


def _progress() -> Progress:
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


def _ingest_and_build(data_dir: Path | None, build: bool) -> None:
    from fvi.dbt import DbtFailed
    from fvi.pipeline import run_pipeline

    settings = _settings()
    try:
        with _progress() as progress:
            report = run_pipeline(settings, data_dir=data_dir, build=build, progress=progress, say=console.print)
    except DbtFailed as exc:
        console.print(f"[red]warehouse build failed; the previous warehouse is untouched.[/]\n{exc}")
        raise typer.Exit(1) from None
    except (FileNotFoundError, RuntimeError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    _print_outcomes(report)
    console.print(f"timings (s): {report.seconds}")
    where = settings.warehouse_url if settings.is_postgres else settings.duckdb_path
    console.print(f"[green]warehouse ready:[/] {where}")


@app.command()
def run(
    data_dir: DataDirOpt = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Do not start the API afterwards.")] = False,
) -> None:
    """The main job: ingest every source, build the warehouse (aside, then swap)."""
    _ingest_and_build(data_dir, build=True)
    if not no_serve:
        console.print("[dim]The API service is not part of this release yet; nothing to serve.[/]")


@app.command()
def ingest(data_dir: DataDirOpt = None) -> None:
    """Ingest sources into bronze only (no dbt build)."""
    _ingest_and_build(data_dir, build=False)


@app.command()
def build() -> None:
    """Rebuild silver, gold and marts from the current bronze (aside, then swap)."""
    from fvi.dbt import DbtFailed
    from fvi.pipeline import build_only

    try:
        with _progress() as progress:
            run_id = build_only(_settings(), progress=progress)
    except (DbtFailed, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]built[/] run {run_id}")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
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


if __name__ == "__main__":  # pragma: no cover
    app()
