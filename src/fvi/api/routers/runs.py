"""Runs: the pipeline's run reports (``FVI_HOME/runs/<run_id>.json``) and ingest manifests."""

from __future__ import annotations

import json
import logging
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path

from fvi.api import queries
from fvi.api.deps import OptionalReaderDep, PageDep, StateDep
from fvi.api.errors import NotFound
from fvi.api.schemas import Page, error_responses

router = APIRouter(prefix="/runs", tags=["runs"], responses=error_responses(404))
log = logging.getLogger(__name__)

RUN_ID = r"^[0-9A-Za-z_\-]{1,80}$"


def _read_report(path: FsPath) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("runs: unreadable report %s: %s", path.name, exc)
        return None
    return _redact(report) if isinstance(report, dict) else None


def _redact(report: dict[str, Any]) -> dict[str, Any]:
    """Server paths reduced to file names (the report is for people, the paths are the server's)."""
    from fvi.errors import scrub_tree

    inp = report.get("input")
    if isinstance(inp, dict) and inp.get("data_dir"):
        report["input"] = {**inp, "data_dir": FsPath(str(inp["data_dir"])).name}
    return scrub_tree(report)  # paths inside messages too (reports written before they were scrubbed)


def _manifest_public(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "path": FsPath(str(r["path"])).name if r.get("path") else None} for r in rows]


def _summary(run_id: str, report: dict[str, Any] | None, manifest: dict[str, Any] | None) -> dict[str, Any]:
    report = report or {}
    inp = report.get("input") if isinstance(report.get("input"), dict) else {}
    seconds = report.get("seconds") if isinstance(report.get("seconds"), dict) else {}
    return {
        "run_id": run_id,
        "has_report": bool(report),
        "built": report.get("built"),
        "error": report.get("error"),
        "input_kind": inp.get("kind") if inp else None,
        "synthetic": inp.get("synthetic") if inp else None,
        "seconds_total": seconds.get("total") if seconds else None,
        "registry_hash": report.get("registry_hash"),
        "manifest": manifest,
    }


@router.get("", response_model=Page[dict[str, Any]], summary="Pipeline runs, newest first")
def list_runs(state: StateDep, page: PageDep, reader: OptionalReaderDep) -> dict:
    """Runs with a report file or ingest-manifest rows (file, source and row counts)."""
    runs_dir = state.settings.home_abs / "runs"
    reports = {p.stem: p for p in runs_dir.glob("*.json")} if runs_dir.is_dir() else {}
    manifest = {r["run_id"]: r for r in queries.manifest_runs(reader)} if reader is not None else {}
    ids = sorted(set(reports) | set(manifest), reverse=True)
    chosen = ids[page.offset : page.offset + page.limit]
    items = []
    for run_id in chosen:
        m = manifest.get(run_id)
        report = _read_report(reports[run_id]) if run_id in reports else None
        items.append(_summary(run_id, report, {k: v for k, v in m.items() if k != "run_id"} if m else None))
    note = None if reader is not None else "warehouse unavailable: manifests omitted"
    return {"items": items, "total": len(ids), **page.meta, "note": note}


@router.get("/{run_id}", summary="One run: its report and ingest manifest")
def get_run(
    state: StateDep,
    reader: OptionalReaderDep,
    run_id: Annotated[str, Path(pattern=RUN_ID, description="e.g. 20261126T192039Z_cbee94")],
) -> dict[str, Any]:
    """The run report as the pipeline wrote it, the files it produced, and the manifest rows of that run."""
    runs_dir = state.settings.home_abs / "runs"
    path = runs_dir / f"{run_id}.json"
    report = _read_report(path) if path.is_file() else None
    manifest = _manifest_public(queries.manifest_of(reader, run_id)) if reader is not None else []
    if report is None and not manifest:
        raise NotFound(f"run {run_id!r} not found")
    outputs = sorted(p.name for p in (runs_dir / run_id).iterdir()) if (runs_dir / run_id).is_dir() else []
    return {"run_id": run_id, "report": report, "outputs": outputs, "manifest": manifest}
