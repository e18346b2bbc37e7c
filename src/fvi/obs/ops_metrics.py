"""Operations gauges read at scrape time: readiness, pipeline runs, data quality per source, weights.

Nothing is counted twice or kept in memory between scrapes: the pipeline's run reports
(``FVI_HOME/runs/<run_id>.json``) and the live build's tables are the truth, and the alert rules
in ``deploy/prometheus/alerts.yml`` read these series. Warehouse-derived values are memoised per
build (a swap gives new values at the next scrape).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REPORT_WINDOW = 50  # newest run reports read per scrape (failure counts, last success)


def read_reports(home: Path, limit: int = REPORT_WINDOW) -> list[dict[str, Any]]:
    """The newest run reports, oldest first; each gets ``_finished_at`` (file mtime)."""
    runs = home / "runs"
    if not runs.is_dir():
        return []
    paths = sorted(runs.glob("*.json"), key=lambda p: p.name)[-limit:]
    out: list[dict[str, Any]] = []
    for path in paths:
        try:
            report = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(report, dict) and report.get("run_id"):
            report["_finished_at"] = path.stat().st_mtime
            out.append(report)
    return out


def run_succeeded(report: dict[str, Any]) -> bool:
    return not report.get("error") and bool(report.get("built"))


def pipeline_families(home: Path) -> Iterator[GaugeMetricFamily]:
    reports = read_reports(home)
    last_run = GaugeMetricFamily("fvi_pipeline_last_run_timestamp_seconds", "When the newest pipeline run ended.")
    last_ok = GaugeMetricFamily(
        "fvi_pipeline_last_success_timestamp_seconds", "When the newest successful (built and swapped) run ended."
    )
    status = GaugeMetricFamily("fvi_pipeline_last_run_success", "1 if the newest run built and swapped, else 0.")
    runs = GaugeMetricFamily(
        "fvi_pipeline_runs", "Run reports on disk (newest 50) by outcome.", labels=["outcome"]
    )
    steps = GaugeMetricFamily(
        "fvi_pipeline_step_duration_seconds", "Seconds per step of the newest successful run.", labels=["step"]
    )
    rows = GaugeMetricFamily(
        "fvi_pipeline_source_rows", "Rows per source in the newest successful run.", labels=["source", "kind"]
    )
    loaded = GaugeMetricFamily(
        "fvi_pipeline_source_loaded", "1 if the source loaded in the newest successful run, else 0.",
        labels=["source", "status"],
    )
    if reports:
        newest = reports[-1]
        last_run.add_metric([], newest["_finished_at"])
        status.add_metric([], 1.0 if run_succeeded(newest) else 0.0)
    good = [r for r in reports if run_succeeded(r)]
    n_ok = len(good)
    runs.add_metric(["success"], float(n_ok))
    runs.add_metric(["failure"], float(sum(1 for r in reports if r.get("error"))))
    if good:
        latest = good[-1]
        last_ok.add_metric([], latest["_finished_at"])
        for step, seconds in sorted((latest.get("seconds") or {}).items()):
            if isinstance(seconds, int | float):
                steps.add_metric([str(step)], float(seconds))
        for src in latest.get("sources") or []:
            sid = str(src.get("source_id"))
            rows.add_metric([sid, "loaded"], float(src.get("rows_loaded") or 0))
            rows.add_metric([sid, "quarantined"], float(src.get("rows_quarantined") or 0))
            st = str(src.get("status"))
            loaded.add_metric([sid, st], 1.0 if st == "loaded" else 0.0)
    yield from (last_run, last_ok, status, runs, steps, rows, loaded)


def dq_rows(reader: Any) -> list[dict[str, Any]]:
    """Coverage and null rate per (source, entity) from ``marts.vw_metric_dq`` (memoised per build)."""
    hit = reader.memo(("ops-metrics", "dq"))
    if hit is not None:
        return hit
    out: list[dict[str, Any]] = []
    if reader.has_table("marts", "vw_metric_dq"):
        frame = reader.query(f"select * from {reader.table('marts', 'vw_metric_dq')}")
        if len(frame) and {"source_ids", "entity", "null_rate"} <= set(frame.columns):
            frame = frame.assign(source=frame["source_ids"].astype("string").str.split(",")).explode("source")
            frame["source"] = frame["source"].str.strip()
            frame = frame[frame["source"].notna() & (frame["source"] != "")]
            if {"entities_covered", "entities_total"} <= set(frame.columns):
                frame["coverage"] = frame["entities_covered"] / frame["entities_total"].where(
                    frame["entities_total"] > 0
                )
            else:
                frame["coverage"] = 1.0 - frame["null_rate"]
            for (source, entity), g in frame.groupby(["source", "entity"]):
                out.append(
                    {
                        "source": str(source),
                        "entity": str(entity),
                        "coverage": float(g["coverage"].mean()),
                        "null_rate": float(g["null_rate"].mean()),
                        "metrics": float(len(g)),
                    }
                )
    return reader.remember(("ops-metrics", "dq"), out)


def weight_rows(reader: Any) -> list[dict[str, Any]]:
    """Pillar weights of the newest run per level, and the L1 change from the run before (memoised)."""
    hit = reader.memo(("ops-metrics", "weights"))
    if hit is not None:
        return hit
    out: list[dict[str, Any]] = []
    if reader.has_table("gold", "fvi_weights_history"):
        frame = reader.query(
            f"select run_id, level, horizon, pillar, weight from {reader.table('gold', 'fvi_weights_history')}"
        )
        for level, g in frame.groupby(frame["level"].fillna("all")):
            run_ids = sorted(g["run_id"].astype(str).unique())
            cur = g[g["run_id"].astype(str) == run_ids[-1]].set_index(["horizon", "pillar"])["weight"]
            prev = (
                g[g["run_id"].astype(str) == run_ids[-2]].set_index(["horizon", "pillar"])["weight"]
                if len(run_ids) > 1
                else cur
            )
            for (horizon, pillar), w in cur.items():
                out.append({"kind": "weight", "level": str(level), "horizon": str(horizon), "pillar": str(pillar),
                            "value": float(w)})
            delta = (cur - prev.reindex(cur.index)).abs()
            for horizon, d in delta.groupby(level=0):
                out.append({"kind": "drift", "level": str(level), "horizon": str(horizon), "pillar": "",
                            "value": float(d.fillna(0.0).sum())})
    return reader.remember(("ops-metrics", "weights"), out)


class OpsCollector(Collector):
    """Scrape-time gauges of one service (its ``AppState``)."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self._state
        ready = GaugeMetricFamily("fvi_ready", "1 while the readiness check passes, else 0.", labels=["check"])
        for name, check in state.readiness().items():
            ready.add_metric([name], 1.0 if check.ok else 0.0)
        yield ready
        yield from pipeline_families(state.settings.home_abs)
        coverage = GaugeMetricFamily(
            "fvi_dq_coverage_ratio", "Share of entities with a recent value, mean over the source's metrics.",
            labels=["source", "entity"],
        )
        nulls = GaugeMetricFamily(
            "fvi_dq_null_rate", "Null rate of recent rows, mean over the source's metrics.", labels=["source", "entity"]
        )
        weight = GaugeMetricFamily(
            "fvi_pillar_weight", "Dynamic pillar weight of the newest run.", labels=["level", "horizon", "pillar"]
        )
        drift = GaugeMetricFamily(
            "fvi_weights_drift_l1", "L1 change of the pillar weights since the previous run.",
            labels=["level", "horizon"],
        )
        try:
            with state.warehouse.reader() as reader:
                for r in dq_rows(reader):
                    coverage.add_metric([r["source"], r["entity"]], r["coverage"])
                    nulls.add_metric([r["source"], r["entity"]], r["null_rate"])
                for r in weight_rows(reader):
                    if r["kind"] == "weight":
                        weight.add_metric([r["level"], r["horizon"], r["pillar"]], r["value"])
                    else:
                        drift.add_metric([r["level"], r["horizon"]], r["value"])
        except Exception as exc:  # noqa: BLE001 - no warehouse: readiness already says so
            log.debug("ops metrics: warehouse not read (%s)", exc)
        yield from (coverage, nulls, weight, drift)
