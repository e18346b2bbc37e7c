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
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fvi.ml.metrics import (  # noqa: F401 - re-exported: the back-test's names since before the split
    auc,
    bootstrap_auc_difference,
    brier,
    calibration_table,
    expected_calibration_error,
    lift_riskiest_decile,
    weighted_auc,
)
from fvi.registry.vocabulary import BAD_TARGETS, DEFAULT_PERSONA, us_mine_id, us_mine_ids
from fvi.warehouse import Warehouse

SIZE = "size"
FVI = "fvi"
EQUAL = "equal_weight"
MODEL = "model"
COUNTRY_ONLY = "country_only"
FVI_LEARNT = "fvi_learnt"
"""The composite with pillar weights fitted on strict folds (``fvi.weights.fit``), scored out of fold."""
THIN_EVENTS = 30
"""Fewer non-viable outcomes than this and the report flags the row as thin (its AUC is noise-prone)."""
"""A baseline written to the out-of-fold table beside the models: the mine's country closure rate alone."""
BASELINE_ORDER = (FVI, SIZE, EQUAL)
LEVEL_LABELS = {
    "us_mine": "US mines (EIA): still producing at t + H",
    "gem_stopped": "GEM mines operating at t: not mothballed/closed/retired at the next release",
    "gem_abandoned": "GEM proposed mines at t: not shelved/cancelled at the next release",
    "gem_closure": (
        "GEM mines worldwide operating at the end of t: not closed in t+1..t+H (closures from the tracker's "
        "closed-mines sheet; models trained on years <= t only)"
    ),
    "country": "Countries (OWID): coal production did not decline at t + H (viable = 1 - decline)",
}
BACKTEST_COLUMNS = [
    "level", "horizon", "fvi_horizon", "scorer", "model_name", "model_version", "as_of_year", "as_of_years",
    "outcome_years", "n", "n_positive", "auc", "brier", "brier_base_rate", "ece", "lift_riskiest_decile",
    "auc_minus_size", "auc_minus_size_lo", "auc_minus_size_hi", "persona", "run_id", "registry_hash",
]  # fmt: skip


@dataclass(frozen=True)
class BacktestConfig:
    """Choices of one back-test; saved with the results so the run can be repeated."""

    persona: str = DEFAULT_PERSONA
    n_bins: int = 10
    n_boot: int = 1000
    interval: float = 0.90
    seed: int = 20240501
    plot_level: str = "us_mine"
    plot_horizon: int = 5
    fvi_horizon_edges: tuple[tuple[int, str], ...] = field(default=((5, "H5"), (10, "H10")))
    fvi_horizon_beyond: str = "H20"


def fvi_horizon(years: int, config: BacktestConfig | None = None) -> str:
    """The FVI horizon that answers an outcome ``years`` ahead: <= 5 -> H5, <= 10 -> H10, else H20."""
    cfg = config or BacktestConfig()
    for edge, label in cfg.fvi_horizon_edges:
        if years <= edge:
            return label
    return cfg.fvi_horizon_beyond


# ---------------------------------------------------------------------------------------------
# Evaluation of one level (pure): frame with entity_id, as_of_year, horizon, viable, scorer columns


@dataclass(frozen=True)
class Scorer:
    """One column of an evaluation frame and how to read it as a probability of being viable."""

    key: str  # column in the frame
    scorer: str  # fvi | size | equal_weight | model
    prob: str  # identity | pct100 | year_rank
    model_name: str | None = None
    model_version: str | None = None


def probabilities(frame: pd.DataFrame, sc: Scorer) -> pd.Series:
    """The scorer as a probability of being viable (see the module docstring for each reading)."""
    s = frame[sc.key].astype(float)
    if sc.prob == "pct100":
        return (s / 100.0).clip(0.0, 1.0)
    if sc.prob == "year_rank":
        return s.groupby([frame["horizon"], frame["as_of_year"]]).rank(pct=True)
    return s.clip(0.0, 1.0)


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
# Loading the levels from gold


def _table(wh: Warehouse, name: str) -> str:
    return f"{wh.schema('gold')}.{name}"


def _max_year(wh: Warehouse, table: str, column: str, where: str = "") -> int | None:
    if not wh.has_table("gold", table):
        return None
    frame = wh.query(f"select max({column}) as y from {_table(wh, table)} {where}")
    value = frame["y"].iloc[0] if len(frame) else None
    return None if value is None or pd.isna(value) else int(value)


def load_fvi(wh: Warehouse, entity_type: str, persona: str) -> pd.DataFrame:
    """FVI of one entity type and persona at every as-of year and horizon."""
    return wh.query(
        f"select entity_id, as_of_year, horizon as fvi_horizon, fvi from {_table(wh, 'fvi_scores')} "
        "where entity_type = ? and persona = ? and fvi is not null",
        [entity_type, persona],
    ).astype({"as_of_year": int})


def load_equal_weight(wh: Warehouse, entity_type: str) -> pd.DataFrame:
    """The unweighted mean of all normalised metric scores of each entity and as-of year."""
    if not wh.has_table("gold", "fvi_metric_scores"):
        return pd.DataFrame(columns=["entity_id", "as_of_year", EQUAL])
    return wh.query(
        f"select entity_id, as_of_year, avg(score) as {EQUAL} from {_table(wh, 'fvi_metric_scores')} "
        "where entity_type = ? and score is not null group by entity_id, as_of_year",
        [entity_type],
    ).astype({"as_of_year": int})


def load_oof(wh: Warehouse) -> pd.DataFrame | None:
    """Out-of-fold model probabilities, oriented to *viable*: columns of :data:`_OOF_COLUMNS`."""
    frames = [
        wh.query(f"select * from {_table(wh, name)}")
        for name in ("fvi_backtest_oof", "fvi_weights_oof")
        if wh.has_table("gold", name)
    ]
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    return orient_oof(pd.concat(frames, ignore_index=True))


_OOF_COLUMNS = [
    "entity_type",
    "entity_id",
    "as_of_year",
    "horizon",
    "viable_oof",
    "p_viable",
    "model_name",
    "model_version",
]


def _horizon_years(value: Any) -> int:
    text = str(value).strip().upper().lstrip("H")
    return int(float(text))


def orient_oof(oof: pd.DataFrame) -> pd.DataFrame:
    """Turn the model's probability of its label into a probability of *viable*.

    The label is 1 = viable/operating for mines and 1 = decline for countries; a ``target``
    column, when present, says which (bad-outcome targets are flipped), else countries flip.
    """
    if oof.empty:
        return pd.DataFrame(columns=_OOF_COLUMNS)
    frame = oof.copy()
    by_type = frame["entity_type"].astype(str).eq("country")
    if "target" in frame:
        target = frame["target"]
        bad = target.astype(str).str.lower().isin(BAD_TARGETS).where(target.notna(), by_type)
    else:
        bad = by_type
    p = frame["p_model"].astype(float)
    label = frame["label"].astype(float)
    frame["p_viable"] = p.where(~bad, 1.0 - p)
    frame["viable_oof"] = label.where(~bad, 1.0 - label)
    frame["horizon"] = frame["horizon"].map(_horizon_years)
    frame["as_of_year"] = frame["as_of_year"].astype(int)
    frame["entity_id"] = [_canonical_id(t, i) for t, i in zip(frame["entity_type"], frame["entity_id"], strict=True)]
    for col in ("model_name", "model_version"):
        if col not in frame:
            frame[col] = None
    frame["model_name"] = frame["model_name"].fillna("model").astype(str)
    return frame[_OOF_COLUMNS]


def _canonical_id(entity_type: Any, entity_id: Any) -> str:
    text = str(entity_id)
    if entity_type == "us_mine" and text.isdigit():
        return us_mine_id(text)
    return text


def us_mine_labels(wh: Warehouse) -> tuple[pd.DataFrame, int | None]:
    """EIA outcome rows with production at t; last EIA year observed."""
    last = _max_year(wh, "fct_us_mine__yearly", "year")
    if not wh.has_table("gold", "fvi_outcome_us_mine"):
        return pd.DataFrame(), last
    labels = wh.query(
        f"select o.msha_id, o.as_of_year, o.horizon, o.outcome_year, o.viable, f.production_mt as {SIZE} "
        f"from {_table(wh, 'fvi_outcome_us_mine')} o left join {_table(wh, 'fct_us_mine__yearly')} f "
        "on f.msha_id = o.msha_id and f.year = o.as_of_year"
    )
    labels["entity_id"] = us_mine_ids(labels["msha_id"]).to_numpy()
    return labels.drop(columns="msha_id"), last


def gem_labels(wh: Warehouse) -> tuple[dict[str, pd.DataFrame], int | None]:
    """GEM transition rows per kind (label 1 = bad, so viable = 1 - label); capacity as of the from-release."""
    last = _max_year(wh, "int_gem_mines__release", "release_year")
    if not wh.has_table("gold", "fvi_outcome_gem_transition"):
        return {}, last
    select = "select o.gem_mine_id as entity_id, o.as_of_year, o.outcome_year, o.label_kind, o.label, "
    if last is None:  # no per-release table: no size as of the from-release either
        sql = select + f"null as {SIZE} from {_table(wh, 'fvi_outcome_gem_transition')} o"
    else:
        sql = (
            select + f"coalesce(r.capacity_mtpa, r.proposed_capacity_mtpa) as {SIZE} "
            f"from {_table(wh, 'fvi_outcome_gem_transition')} o left join {_table(wh, 'int_gem_mines__release')} r "
            "on r.gem_mine_id = o.gem_mine_id and r.release = o.from_release"
        )
    labels = wh.query(sql)
    if labels.empty:
        return {}, last
    if last is None:
        last = int(labels["outcome_year"].max())
    labels["viable"] = 1 - labels["label"].astype(int)
    labels["horizon"] = (labels["outcome_year"] - labels["as_of_year"]).round().clip(lower=1).astype(int)
    return {f"gem_{kind}": g.drop(columns=["label_kind", "label"]) for kind, g in labels.groupby("label_kind")}, last


def gem_closure_labels(wh: Warehouse) -> tuple[pd.DataFrame, int | None]:
    """Closure labels of GEM mines worldwide from the hazard frame; capacity (as the release records it) as size."""
    from fvi.outcomes.hazard_frame import closure_labels
    from fvi.outcomes.labels import load_config

    if not wh.has_table("gold", "fvi_outcome_gem_hazard"):
        return pd.DataFrame(), None
    frame = wh.query(f"select gem_mine_id, year, event from {_table(wh, 'fvi_outcome_gem_hazard')}")
    if frame.empty:
        return pd.DataFrame(), None
    cfg = load_config().gem_hazard
    labels = closure_labels(frame, cfg.backtest_horizons, cfg.backtest_as_of)
    size = wh.query(f"select gem_mine_id, capacity_mtpa as {SIZE} from {_table(wh, 'dim_mine')}")
    labels = labels.merge(size.drop_duplicates("gem_mine_id"), on="gem_mine_id", how="left")
    return labels.rename(columns={"gem_mine_id": "entity_id"}), int(frame["year"].max())


def country_labels(wh: Warehouse) -> tuple[pd.DataFrame, int | None]:
    """OWID decline rows (viable = 1 - decline) with coal production (TWh) at t as size."""
    has_fct = wh.has_table("gold", "fct_country__yearly")
    last = _max_year(wh, "fct_country__yearly", "year", "where coal_production_twh is not null") if has_fct else None
    if not wh.has_table("gold", "fvi_outcome_country"):
        return pd.DataFrame(), last
    if has_fct:
        sql = (
            f"select o.iso3 as entity_id, o.as_of_year, o.horizon, o.outcome_year, o.decline, "
            f"coalesce(f.coal_production_twh, o.production_twh) as {SIZE} "
            f"from {_table(wh, 'fvi_outcome_country')} o left join {_table(wh, 'fct_country__yearly')} f "
            "on f.iso3 = o.iso3 and f.year = o.as_of_year"
        )
    else:
        sql = (
            f"select iso3 as entity_id, as_of_year, horizon, outcome_year, decline, production_twh as {SIZE} "
            f"from {_table(wh, 'fvi_outcome_country')}"
        )
    labels = wh.query(sql)
    if last is None and len(labels):
        last = int(labels["outcome_year"].max())
    labels["viable"] = 1 - labels["decline"].astype(int)
    return labels.drop(columns="decline"), last


def assemble(
    labels: pd.DataFrame,
    fvi: pd.DataFrame,
    equal: pd.DataFrame,
    oof: pd.DataFrame | None,
    *,
    last_observed: int | None,
    config: BacktestConfig | None = None,
    require_fvi: bool = True,
) -> tuple[pd.DataFrame, list[Scorer], dict[str, Any]]:
    """One evaluation frame: labelled rows the index scored at t, with every scorer beside them.

    Rows whose outcome year lies beyond the last observed year are dropped (they cannot be
    known without leakage); model columns are matched on entity, as-of year and horizon. With
    ``require_fvi`` false every labelled row stays (the FVI column is empty where the index did not
    score the entity at t: GEM mines before the release that first lists their attributes).
    """
    cfg = config or BacktestConfig()
    notes: dict[str, Any] = {"n_labels": int(len(labels)), "last_observed_year": last_observed}
    frame = labels.copy()
    frame[["as_of_year", "horizon", "outcome_year", "viable"]] = frame[
        ["as_of_year", "horizon", "outcome_year", "viable"]
    ].astype(int)
    if last_observed is not None:
        frame = frame[frame["outcome_year"] <= last_observed]
    frame = frame[frame["outcome_year"] > frame["as_of_year"]]
    frame["fvi_horizon"] = frame["horizon"].map(lambda h: fvi_horizon(int(h), cfg))
    frame = frame.merge(fvi, on=["entity_id", "as_of_year", "fvi_horizon"], how="inner" if require_fvi else "left")
    notes["n_scored"] = int(len(frame))
    frame = frame.merge(equal, on=["entity_id", "as_of_year"], how="left")
    scorers = [Scorer(FVI, FVI, "pct100"), Scorer(SIZE, SIZE, "year_rank"), Scorer(EQUAL, EQUAL, "pct100")]
    if oof is not None and len(oof):
        keys = ["entity_id", "as_of_year", "horizon"]
        for name, g in oof.groupby("model_name", sort=True):
            col = f"{MODEL}:{name}"
            g = g.groupby(keys, as_index=False).agg(
                p=("p_viable", "mean"), viable_oof=("viable_oof", "mean"), model_version=("model_version", "last")
            )
            merged = frame[keys + ["viable"]].merge(g, on=keys, how="left")
            frame[col] = merged["p"].to_numpy()
            matched = merged["p"].notna()
            agree = (merged.loc[matched, "viable_oof"].round() == merged.loc[matched, "viable"]).mean()
            notes[col] = {
                "oof_rows": int(len(g)),
                "matched": int(matched.sum()),
                "label_agreement": float(agree) if matched.any() else None,
            }
            if matched.any():
                versions = g["model_version"].dropna()
                version = str(versions.iloc[-1]) if len(versions) else None
                kind = name if name in (COUNTRY_ONLY, FVI_LEARNT) else MODEL
                scorers.insert(0, Scorer(col, kind, "identity", str(name), version))
    return frame.reset_index(drop=True), scorers, notes


# ---------------------------------------------------------------------------------------------
# The run


def _levels(wh: Warehouse, config: BacktestConfig) -> Iterator[tuple[str, str, pd.DataFrame, int | None]]:
    us, last_us = us_mine_labels(wh)
    yield "us_mine", "us_mine", us, last_us
    gem, last_gem = gem_labels(wh)
    for level in ("gem_stopped", "gem_abandoned"):
        yield level, "mine", gem.get(level, pd.DataFrame()), last_gem
    closure, last_closure = gem_closure_labels(wh)
    yield "gem_closure", "mine", closure, last_closure
    country, last_country = country_labels(wh)
    yield "country", "country", country, last_country


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
        f"select max(run_id) as run_id, max(registry_hash) as registry_hash from {_table(wh, 'fvi_scores')}"
    )
    row = frame.iloc[0]
    return {k: (None if pd.isna(row[k]) else str(row[k])) for k in ("run_id", "registry_hash")}


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
        },
        "has_model": oof is not None and len(oof) > 0,
        "levels": {},
    }
    rows: list[dict[str, Any]] = []
    frames: dict[str, tuple[pd.DataFrame, list[Scorer]]] = {}
    for level, entity_type, labels, last in _levels(wh, cfg):
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
        frame, scorers, notes = assemble(
            labels,
            load_fvi(wh, entity_type, cfg.persona),
            load_equal_weight(wh, entity_type),
            level_oof,
            last_observed=last,
            config=cfg,
            require_fvi=level != "gem_closure",
        )
        entry.update(notes)
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
    _write_text(paths["json"], json.dumps(report, indent=2, sort_keys=False))
    _write_text(paths["markdown"], backtest_markdown(report))
    plot_reliability(report, paths["plot"], cfg)
    table = backtest_table(rows, run, prov["registry_hash"])
    if write_gold:
        from fvi.ml.publish import publish

        (sink or wh).write_table("gold", "fvi_backtest", table)
        # the back-test is the gate: only probabilities with skill on it are published
        report["published"] = publish(wh, sink, run_id=run, backtest=table)
    report["outputs"] = {k: str(v) for k, v in paths.items()}
    report["gold_rows"] = int(len(table))
    return report


def backtest_table(rows: list[dict[str, Any]], run_id: str | None, registry_hash: str | None) -> pd.DataFrame:
    """Gold ``fvi_backtest``: one row per level, horizon, scorer (and model) pooled, and per as-of year."""
    table = pd.DataFrame(rows, columns=BACKTEST_COLUMNS).assign(run_id=run_id, registry_hash=registry_hash)
    for col in ("horizon", "n", "n_positive", "as_of_year"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
    for col in (
        "auc", "brier", "brier_base_rate", "ece", "lift_riskiest_decile", "auc_minus_size", "auc_minus_size_lo",
        "auc_minus_size_hi",
    ):  # fmt: skip
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    for col in (
        "level",
        "fvi_horizon",
        "scorer",
        "model_name",
        "model_version",
        "as_of_years",
        "outcome_years",
        "persona",
        "run_id",
        "registry_hash",
    ):
        table[col] = table[col].astype(object)
    return table


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Reports


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _label(entry: dict[str, Any]) -> str:
    return f"model ({entry['model_name']})" if entry.get("scorer") == MODEL else str(entry.get("scorer"))


def backtest_markdown(report: dict[str, Any]) -> str:
    """Tables per level and horizon, with the year ranges and how each score is read."""
    cfg = report["config"]
    lines = [
        "# FVI back-test",
        "",
        f"Run `{report.get('run_id')}` · scores `{report.get('scores_run_id')}` · "
        f"registry `{report.get('registry_hash')}` · persona `{cfg['persona']}`.",
        "",
        "Every score is oriented so higher = more viable and judged against the label *viable* "
        "(countries: viable = 1 − decline). Features are as of year t, outcomes at t + H, and only as-of years "
        "whose outcome year is at most the last observed year enter.",
        "",
        f"* FVI horizon used for an outcome H years ahead: {report['fvi_horizon_map']}.",
        *[
            f"* `{k}` as a probability (Brier, calibration): {v}. AUC is rank-based."
            for k, v in report["probabilities"].items()
        ],
        "* Model rows cover only the rows with an out-of-fold prediction (their n), so compare models with the "
        "index through ΔAUC vs size, which is computed on paired rows.",
        f"* ΔAUC vs size: paired rows, cluster bootstrap over entities, {cfg['n_boot']} replicates, "
        f"{cfg['interval']:.0%} percentile interval, seed {cfg['seed']}.",
        "",
    ]
    for level, entry in report["levels"].items():
        lines += [f"## {level}", "", entry["description"] + ".", ""]
        if entry.get("skipped"):
            lines += [f"Skipped: {entry['skipped']}.", ""]
            continue
        lines += [
            f"As-of years {entry['as_of_years']}, outcome years {entry['outcome_years']}, last observed year "
            f"{entry['last_observed_year']}; {entry['n_scored']} of {entry['n_labels']} labelled rows scored.",
            "",
        ]
        for h, hd in entry["horizons"].items():
            lines += [
                f"### H = {h} years (FVI {hd['fvi_horizon']}; as-of {hd['as_of_years']}, outcomes "
                f"{hd['outcome_years']}; n = {hd['n']}, viable = {hd['n_positive']})",
                "",
                "| scorer | n | viable | AUC | Brier | Brier (base rate) | ECE | lift, riskiest 10 % "
                "| ΔAUC vs size [90 % CI] |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            ]
            for sc in hd["scorers"].values():
                d = sc.get("auc_minus_size")
                delta = "–" if not d else f"{_fmt(d['diff'])} [{_fmt(d['lo'])}, {_fmt(d['hi'])}]"
                events = int(sc["n"]) - int(sc["n_positive"])
                thin = f" (thin: {events} events)" if events < THIN_EVENTS else ""
                lift = _fmt(sc.get("lift_riskiest_decile"), 2)
                lines.append(
                    f"| {_label(sc)}{thin} | {sc['n']} | {sc['n_positive']} | {_fmt(sc['auc'])} | {_fmt(sc['brier'])} "
                    f"| {_fmt(sc['brier_base_rate'])} | {_fmt(sc.get('ece'))} | {lift} | {delta} |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def plot_reliability(report: dict[str, Any], path: Path, config: BacktestConfig | None = None) -> None:
    """Reliability curves (mean predicted vs observed per quantile bin) of every scorer for one level and horizon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = config or BacktestConfig()
    level, horizon = cfg.plot_level, str(cfg.plot_horizon)
    hd = report["levels"].get(level, {}).get("horizons", {}).get(horizon)
    fig, ax = plt.subplots(figsize=(6.0, 6.0))
    try:
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect calibration")
        if hd is None:
            ax.text(0.5, 0.5, f"no back-test for {level} at H={horizon}", ha="center", va="center")
        else:
            for sc in hd["scorers"].values():
                cal = pd.DataFrame(sc["calibration"])
                if cal.empty:
                    continue
                ax.plot(
                    cal["p_mean"],
                    cal["observed"],
                    marker="o",
                    linewidth=1.5,
                    label=f"{_label(sc)} (n {sc['n']}, AUC {_fmt(sc['auc'], 2)}, Brier {_fmt(sc['brier'], 3)})",
                )
            ax.set_title(f"{level}, H = {horizon} years (as-of {hd['as_of_years']}, n = {hd['n']})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean predicted probability of viable (FVI / 100; size: percentile)")
        ax.set_ylabel("observed share viable")
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        tmp = path.with_name(f".{path.stem}.part.png")
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
