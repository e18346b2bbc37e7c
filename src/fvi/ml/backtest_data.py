"""The back-test's data: its scorer names and choices, and the levels loaded from gold.

:mod:`fvi.ml.backtest` evaluates and runs what this module loads; :mod:`fvi.ml.backtest_report`
writes it out; :mod:`fvi.ml.metrics` holds the maths. Each level is a frame of labelled rows
(``entity_id``, ``as_of_year``, ``horizon``, ``outcome_year``, ``viable``) with every scorer's
column beside them (:func:`assemble`); what each scorer means is in :mod:`fvi.ml.backtest`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

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


# ---------------------------------------------------------------------------------------------
# Loading the levels from gold


def gold_table(wh: Warehouse, name: str) -> str:
    """``<gold schema>.<name>`` for this warehouse."""
    return f"{wh.schema('gold')}.{name}"


def _max_year(wh: Warehouse, table: str, column: str, where: str = "") -> int | None:
    if not wh.has_table("gold", table):
        return None
    frame = wh.query(f"select max({column}) as y from {gold_table(wh, table)} {where}")
    value = frame["y"].iloc[0] if len(frame) else None
    return None if value is None or pd.isna(value) else int(value)


def load_fvi(wh: Warehouse, entity_type: str, persona: str) -> pd.DataFrame:
    """FVI of one entity type and persona at every as-of year and horizon."""
    return wh.query(
        f"select entity_id, as_of_year, horizon as fvi_horizon, fvi from {gold_table(wh, 'fvi_scores')} "
        "where entity_type = ? and persona = ? and fvi is not null",
        [entity_type, persona],
    ).astype({"as_of_year": int})


def load_equal_weight(wh: Warehouse, entity_type: str) -> pd.DataFrame:
    """The unweighted mean of all normalised metric scores of each entity and as-of year."""
    if not wh.has_table("gold", "fvi_metric_scores"):
        return pd.DataFrame(columns=["entity_id", "as_of_year", EQUAL])
    return wh.query(
        f"select entity_id, as_of_year, avg(score) as {EQUAL} from {gold_table(wh, 'fvi_metric_scores')} "
        "where entity_type = ? and score is not null group by entity_id, as_of_year",
        [entity_type],
    ).astype({"as_of_year": int})


def load_oof(wh: Warehouse) -> pd.DataFrame | None:
    """Out-of-fold model probabilities, oriented to *viable*: columns of :data:`_OOF_COLUMNS`."""
    frames = [
        wh.query(f"select * from {gold_table(wh, name)}")
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
        f"from {gold_table(wh, 'fvi_outcome_us_mine')} o left join {gold_table(wh, 'fct_us_mine__yearly')} f "
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
        sql = select + f"null as {SIZE} from {gold_table(wh, 'fvi_outcome_gem_transition')} o"
    else:
        sql = (
            select + f"coalesce(r.capacity_mtpa, r.proposed_capacity_mtpa) as {SIZE} "
            f"from {gold_table(wh, 'fvi_outcome_gem_transition')} o "
            f"left join {gold_table(wh, 'int_gem_mines__release')} r "
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
    frame = wh.query(f"select gem_mine_id, year, event from {gold_table(wh, 'fvi_outcome_gem_hazard')}")
    if frame.empty:
        return pd.DataFrame(), None
    cfg = load_config().gem_hazard
    labels = closure_labels(frame, cfg.backtest_horizons, cfg.backtest_as_of)
    size = wh.query(f"select gem_mine_id, capacity_mtpa as {SIZE} from {gold_table(wh, 'dim_mine')}")
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
            f"from {gold_table(wh, 'fvi_outcome_country')} o left join {gold_table(wh, 'fct_country__yearly')} f "
            "on f.iso3 = o.iso3 and f.year = o.as_of_year"
        )
    else:
        sql = (
            f"select iso3 as entity_id, as_of_year, horizon, outcome_year, decline, production_twh as {SIZE} "
            f"from {gold_table(wh, 'fvi_outcome_country')}"
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
    # one row order whatever order the warehouse returned the labels in (a query without ORDER BY
    # may come back in another order on the next run), so the seeded bootstrap draws the same clusters
    frame = frame.sort_values(["entity_id", "as_of_year", "horizon"], kind="stable")
    return frame.reset_index(drop=True), scorers, notes


def levels(wh: Warehouse, config: BacktestConfig) -> Iterator[tuple[str, str, pd.DataFrame, int | None]]:
    """(level, entity type, labels, last observed year) of every level the back-test evaluates."""
    us, last_us = us_mine_labels(wh)
    yield "us_mine", "us_mine", us, last_us
    gem, last_gem = gem_labels(wh)
    for level in ("gem_stopped", "gem_abandoned"):
        yield level, "mine", gem.get(level, pd.DataFrame()), last_gem
    closure, last_closure = gem_closure_labels(wh)
    yield "gem_closure", "mine", closure, last_closure
    country, last_country = country_labels(wh)
    yield "country", "country", country, last_country
