"""Back-testing (METHODOLOGY rule 8): did what the index said as of year t match what happened by t + H.

Four scorers are compared on the same observed outcomes, each oriented so that higher means
*more viable* and compared with the label ``viable`` (1 = still producing / not declining):

* ``model``: the out-of-fold probability from ``gold.fvi_backtest_oof`` (when the table exists;
  one scorer row per ``model_name``). A model of a bad outcome (``target`` decline, stopped,
  abandoned; countries when no ``target`` column is given) is turned into ``1 - p``.
* ``fvi``: the composite FVI of the chosen persona (analyst = equal pillar weights) at the FVI
  horizon matching the outcome horizon: H <= 5 years -> H5, 6-10 -> H10, > 10 -> H20
  (:func:`fvi_horizon`). As a probability it is read as ``fvi / 100``; that reading is what the
  Brier score and the calibration table judge (AUC is rank-based and does not depend on it).
* ``size``: mine size alone (US mines: EIA production_mt in year t; GEM mines: capacity, or
  proposed capacity for proposals, in the from-release; countries: coal production in TWh in t).
  Bigger is taken as more viable. As a probability it is the within-as-of-year percentile rank.
* ``equal_weight``: the unweighted mean of every normalised metric score (0-100, polarity
  applied, imputed values included, excluded ones not) of the entity in year t from
  ``gold.fvi_metric_scores``: no pillars, no horizon or persona weights; probability ``/ 100``.

Levels: ``us_mine`` (EIA, horizons 1-8), ``gem_stopped`` / ``gem_abandoned`` (GEM tracker
transitions between releases, horizon = whole years between them; only when labelled) and
``country`` (OWID, 5/10/20). Only label rows whose outcome year is at most the last observed year
of the source enter, features are as of t (the scores of as-of year t), and the sample of a
level is the labelled rows that the index scored. Pooled figures mix as-of years; the per-year
figures are reported too. The AUC difference of each scorer against ``size`` carries a seeded
cluster bootstrap interval (entities resampled, so repeated years of one mine stay together).

Layout: :mod:`fvi.ml.backtest_data` loads the levels and the scorers from gold, this module
evaluates them and runs the back-test, :mod:`fvi.ml.backtest_report` writes the gold table, the
Markdown report and the reliability plot, and :mod:`fvi.ml.metrics` holds the maths.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fvi.ml import fvi_calibration
from fvi.ml.backtest_data import (  # noqa: F401 - BacktestConfig and the scorer names: the run's vocabulary
    COUNTRY_ONLY,
    EQUAL,
    FVI,
    FVI_LEARNT,
    LEVEL_LABELS,
    MODEL,
    SIZE,
    THIN_EVENTS,
    BacktestConfig,
    Scorer,
    assemble,
    fvi_horizon,
    gold_table,
    levels,
    load_equal_weight,
    load_fvi,
    load_oof,
    orient_oof,
    probabilities,
)
from fvi.ml.backtest_report import backtest_markdown, backtest_table, plot_reliability, write_text
from fvi.ml.metrics import (  # noqa: F401 - re-exported: the back-test's names since before the split
    auc,
    bootstrap_auc_difference,
    brier,
    calibration_table,
    expected_calibration_error,
    lift_riskiest_decile,
    weighted_auc,
)
from fvi.warehouse import Warehouse

# ---------------------------------------------------------------------------------------------
# Evaluation of one level (pure): frame with entity_id, as_of_year, horizon, viable, scorer columns


def _years(values: Any) -> str:
    years = sorted({int(v) for v in values})
    if not years:
        return ""
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"


def evaluate_level(
    frame: pd.DataFrame,
    scorers: list[Scorer],
    level: str,
    config: BacktestConfig | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Metrics of every scorer at every horizon of one level: (gold rows, JSON detail)."""
    cfg = config or BacktestConfig()
    rows: list[dict[str, Any]] = []
    detail: dict[str, Any] = {}
    size = next((s for s in scorers if s.scorer == SIZE), None)
    for h in sorted(frame["horizon"].unique()):
        fh = frame[frame["horizon"] == h].reset_index(drop=True)
        probs = {sc.key: probabilities(fh, sc) for sc in scorers}
        hd: dict[str, Any] = {
            "fvi_horizon": fvi_horizon(int(h), cfg),
            "as_of_years": _years(fh["as_of_year"]),
            "outcome_years": _years(fh["outcome_year"]) if "outcome_year" in fh else "",
            "n": int(len(fh)),
            "n_positive": int(fh["viable"].sum()),
            "scorers": {},
        }
        base = {"level": level, "horizon": int(h), "fvi_horizon": hd["fvi_horizon"], "persona": cfg.persona}
        for sc in scorers:
            ok = fh[sc.key].notna()
            if not ok.any():
                continue
            y, s, p = fh.loc[ok, "viable"], fh.loc[ok, sc.key], probs[sc.key][ok]
            rate = float(y.mean())
            entry: dict[str, Any] = {
                "scorer": sc.scorer,
                "model_name": sc.model_name,
                "model_version": sc.model_version,
                "n": int(ok.sum()),
                "n_positive": int(y.sum()),
                "auc": auc(y, s),
                "brier": brier(y, p),
                "brier_base_rate": brier(y, np.full(len(y), rate)),
                "ece": expected_calibration_error(y, p, cfg.n_bins),
                "lift_riskiest_decile": lift_riskiest_decile(y, s),
                "as_of_years": _years(fh.loc[ok, "as_of_year"]),
                "outcome_years": _years(fh.loc[ok, "outcome_year"]) if "outcome_year" in fh else "",
                "calibration": calibration_table(y, p, cfg.n_bins).to_dict(orient="records"),
                "by_year": {},
            }
            if size is not None and sc.scorer != SIZE:
                pair = ok & fh[size.key].notna()
                entry["auc_minus_size"] = bootstrap_auc_difference(
                    fh.loc[pair, "viable"],
                    fh.loc[pair, sc.key],
                    fh.loc[pair, size.key],
                    fh.loc[pair, "entity_id"],
                    n_boot=cfg.n_boot,
                    interval=cfg.interval,
                    seed=cfg.seed,
                )
            diff = entry.get("auc_minus_size", {})
            pooled_row = {
                **base,
                "scorer": sc.scorer,
                "model_name": sc.model_name,
                "model_version": sc.model_version,
                "as_of_year": None,
                "as_of_years": entry["as_of_years"],
                "outcome_years": entry["outcome_years"],
                "n": entry["n"],
                "n_positive": entry["n_positive"],
                "auc": entry["auc"],
                "brier": entry["brier"],
                "brier_base_rate": entry["brier_base_rate"],
                "ece": entry["ece"],
                "lift_riskiest_decile": entry["lift_riskiest_decile"],
                "auc_minus_size": diff.get("diff"),
                "auc_minus_size_lo": diff.get("lo"),
                "auc_minus_size_hi": diff.get("hi"),
            }
            rows.append(pooled_row)
            for year, idx in fh[ok].groupby("as_of_year").groups.items():
                yy, ss, pp = fh.loc[idx, "viable"], fh.loc[idx, sc.key], probs[sc.key][idx]
                yr = {
                    "n": len(idx),
                    "n_positive": int(yy.sum()),
                    "auc": auc(yy, ss),
                    "brier": brier(yy, pp),
                    "ece": expected_calibration_error(yy, pp, cfg.n_bins),
                    "lift_riskiest_decile": lift_riskiest_decile(yy, ss),
                }
                entry["by_year"][str(int(year))] = yr
                rows.append(
                    {
                        **pooled_row,
                        **yr,
                        "as_of_year": int(year),
                        "as_of_years": str(int(year)),
                        "outcome_years": _years(fh.loc[idx, "outcome_year"]) if "outcome_year" in fh else "",
                        "brier_base_rate": brier(yy, np.full(len(yy), float(yy.mean()))),
                        "auc_minus_size": None,
                        "auc_minus_size_lo": None,
                        "auc_minus_size_hi": None,
                    }
                )
            hd["scorers"][sc.key] = entry
        detail[str(int(h))] = hd
    return rows, detail


# ---------------------------------------------------------------------------------------------
# The run


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and NA -> null, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _provenance(wh: Warehouse) -> dict[str, Any]:
    if not wh.has_table("gold", "fvi_scores"):
        return {"run_id": None, "registry_hash": None}
    frame = wh.query(
        f"select max(run_id) as run_id, max(registry_hash) as registry_hash from {gold_table(wh, 'fvi_scores')}"
    )
    row = frame.iloc[0]
    return {k: (None if pd.isna(row[k]) else str(row[k])) for k in ("run_id", "registry_hash")}


CALIBRATED_LEVELS = {"us_mine": "us_mine", "country": "country", "gem_closure": "mine"}
"""Levels whose FVI gets a calibrated P(viable) (:mod:`fvi.ml.fvi_calibration`) -> the entity type it is for."""


def _viability(
    frames: dict[str, tuple[pd.DataFrame, list[Scorer]]], fvi_by_type: dict[str, pd.DataFrame], cfg: BacktestConfig
) -> pd.DataFrame:
    """``gold.fvi_viability``: every entity's latest FVI read through its level's calibration map."""
    parts = []
    for level, entity_type in CALIBRATED_LEVELS.items():
        if level not in frames:
            continue
        fvi = fvi_by_type[entity_type]
        latest = fvi[fvi["as_of_year"] == fvi.groupby("entity_id")["as_of_year"].transform("max")]
        part = fvi_calibration.viability_table(level, entity_type, frames[level][0], latest, persona=cfg.persona)
        if len(part):
            parts.append(part)
    if not parts:
        return pd.DataFrame(columns=fvi_calibration.VIABILITY_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def run_backtest(
    wh: Warehouse,
    out_dir: Path,
    *,
    config: BacktestConfig | None = None,
    run_id: str | None = None,
    write_gold: bool = True,
    sink: Warehouse | None = None,
) -> dict[str, Any]:
    """Back-test every level with known outcomes; write JSON, Markdown, a reliability plot and gold.

    Reads ``wh``; the gold table ``fvi_backtest`` goes to ``sink`` (default ``wh``) unless
    ``write_gold`` is false, so a read-only live warehouse can be tested. ``run_id`` defaults to the
    run that produced the scores being tested. Returns the JSON report.
    """
    cfg = config or BacktestConfig()
    prov = _provenance(wh)
    run = run_id or prov["run_id"]
    oof = load_oof(wh)
    report: dict[str, Any] = {
        "run_id": run,
        "scores_run_id": prov["run_id"],
        "registry_hash": prov["registry_hash"],
        "config": asdict(cfg),
        "fvi_horizon_map": "outcome horizon H <= 5 -> H5, 6-10 -> H10, > 10 -> H20",
        "probabilities": {
            FVI: "fvi / 100",
            EQUAL: "mean metric score / 100",
            SIZE: "percentile rank of size within as-of year",
            MODEL: "out-of-fold p of viable (1 - p for bad-outcome targets)",
            fvi_calibration.SCORER: "isotonic map FVI -> share viable, fitted on labels with outcome year <= t",
        },
        "has_model": oof is not None and len(oof) > 0,
        "levels": {},
    }
    rows: list[dict[str, Any]] = []
    frames: dict[str, tuple[pd.DataFrame, list[Scorer]]] = {}
    fvi_by_type: dict[str, pd.DataFrame] = {}  # each entity type's FVI read once, for the levels and the map
    for level, entity_type, labels, last in levels(wh, cfg):
        entry: dict[str, Any] = {
            "description": LEVEL_LABELS[level],
            "entity_type": entity_type,
            "last_observed_year": last,
        }
        if labels.empty:
            entry["skipped"] = "no outcome labels"
            report["levels"][level] = entry
            continue
        level_oof = None if oof is None else oof[oof["entity_type"] == entity_type]
        if entity_type not in fvi_by_type:
            fvi_by_type[entity_type] = load_fvi(wh, entity_type, cfg.persona)
        frame, scorers, notes = assemble(
            labels,
            fvi_by_type[entity_type],
            load_equal_weight(wh, entity_type),
            level_oof,
            last_observed=last,
            config=cfg,
            require_fvi=level != "gem_closure",
        )
        entry.update(notes)
        if not frame.empty and level in CALIBRATED_LEVELS:
            frame[fvi_calibration.SCORER] = fvi_calibration.strict_column(frame)
            if frame[fvi_calibration.SCORER].notna().any():
                scorers.append(Scorer(fvi_calibration.SCORER, fvi_calibration.SCORER, "identity"))
        if frame.empty:
            entry["skipped"] = "no labelled row was scored by the index"
            report["levels"][level] = entry
            continue
        entry["as_of_years"] = _years(frame["as_of_year"])
        entry["outcome_years"] = _years(frame["outcome_year"])
        level_rows, entry["horizons"] = evaluate_level(frame, scorers, level, cfg)
        rows += level_rows
        frames[level] = (frame, scorers)
        report["levels"][level] = entry
    out_dir.mkdir(parents=True, exist_ok=True)
    report = _clean(report)
    paths = {
        "json": out_dir / "backtest.json",
        "markdown": out_dir / "backtest.md",
        "plot": out_dir / "calibration.png",
    }
    write_text(paths["json"], json.dumps(report, indent=2, sort_keys=False))
    write_text(paths["markdown"], backtest_markdown(report))
    plot_reliability(report, paths["plot"], cfg)
    table = backtest_table(rows, run, prov["registry_hash"])
    viability = _viability(frames, fvi_by_type, cfg)
    report["viability_rows"] = int(len(viability))
    if write_gold:
        from fvi.ml.publish import publish

        (sink or wh).write_table("gold", "fvi_backtest", table)
        (sink or wh).write_table("gold", "fvi_viability", viability)
        # the back-test is the gate: only probabilities with skill on it are published
        report["published"] = publish(wh, sink, run_id=run, backtest=table)
    report["outputs"] = {k: str(v) for k, v in paths.items()}
    report["gold_rows"] = int(len(table))
    return report


