"""The worldwide mine model: a yearly closure hazard learned from every GEM mine, not from US mines only.

Before this model every GEM mine outside the US was scored by models that had only seen EIA (US)
mines, and its probabilities ranked mines no better than their size. This model learns from the
GEM tracker's own survival record (:mod:`fvi.outcomes.hazard_frame`: 4,000+ mines at risk a year,
closures 2015-2023 in 60+ countries) and answers P(still operating at t + H) for every GEM mine
that operates at the release.

**Features, each with its reason** (declared with source and polarity in ``models.yml``,
``global_mine_features``):

* ``te_country``, ``te_state``: the yearly closure rate of the mine's country and state/province,
  target-encoded with shrinkage (region -> country -> state, pseudo-counts in :data:`PRIORS`), out
  of fold (5 folds grouped by mine, so a mine's own closure never enters its own encoding). Policy,
  costs and markets act per country and basin; this is the "country effect" of the hierarchical
  model done the way a boosted tree can use it.
* ``is_underground``, ``coal_*``: mine type and coal rank (lignite feeds power plants that are
  retiring; underground mines cost more and close after accidents; metallurgical coal outlasts
  thermal).
* ``log_capacity``: size, the baseline the model must beat, inside the model. GEM records capacity
  for 62 % of operating mines but 11 % of closed ones, so a missing capacity would read as "closed":
  missing values are filled with the training rows' country median (then the global median) and
  **no missing flag is given**, so absence carries no signal.
* ``latitude``, ``longitude``: the coalfield (geology, transport, the plants a basin supplies),
  finer than the province.
* ``eia_log_production``, ``eia_years_idle``: for GEM mines with an MSHA id, the EIA output of the
  latest producing year known before the year at risk and the years since (an idle mine is one
  step from closure); 99 % of US mines carry an MSHA id whether closed or operating.

Left out on purpose: opening year/age, workforce, reserves, coal grade, parent company and the year
of the latest production figure. Each is recorded for most operating mines but for 11-19 % of
closed ones, so in this frame its presence mostly says "still operating at the release": a model
would learn the tracker's bookkeeping, not closure risk.

**Time rule** (:mod:`fvi.known`). Most features are attributes the tracker lists for the mine itself
(location, type, coal, nameplate size: the fixed physical facts of :data:`fvi.known.FIXED_ATTRIBUTES`,
checked by :data:`ATTRIBUTE_COLUMNS`), which do not change with the year at risk; the EIA features of a year at
risk y read EIA files dated <= y - 1 (:func:`dated`); the learned quantities that depend on
outcomes (the encodings) are computed from training rows only. The strict back-test
(:func:`strict_backtest`) trains on years <= T and scores the mines operating at the end of T
against closures in T+1..T+H, for every as-of year in ``outcomes.yml``.

**Survival.** A forecast reads the features known at its as-of year and holds them for the years
ahead, so the yearly hazard h is constant for a mine and P(operating at t + H) = (1 - h)^H: it
never rises with H. The calibration (isotonic or sigmoid,
chosen on the latest strict fold, :func:`fvi.ml.model_registry.fit_calibration`) is fitted on the
strict out-of-fold yearly hazards.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fvi import known
from fvi.ml.backtest_data import COUNTRY_ONLY
from fvi.ml.booster import fit_booster, predict_raw
from fvi.ml.metrics import auc
from fvi.ml.model_registry import Calibration, fit_calibration
from fvi.outcomes.hazard_frame import closure_labels
from fvi.registry.vocabulary import GLOBAL_MINE_FEATURES, HORIZON_LABELS, MODELS

MODEL_NAME = next(m.name for m in MODELS if m.estimator == "global_hazard")  # models.yml
METHOD = "global_hazard"
BASELINE = COUNTRY_ONLY
COAL_TYPES = ("lignite", "subbituminous", "bituminous", "anthracite")
FEATURES = [str(f["id"]) for f in GLOBAL_MINE_FEATURES]
"""The feature list, declared with source, polarity and reason in ``models.yml`` (``global_mine_features``)."""
PRIORS = {"region": 50.0, "country": 20.0, "state": 20.0}
"""Pseudo-counts (mine-years) pulling each level's closure rate toward the level above."""
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
}
ROUNDS = 300
TE_FOLDS = 5
BOOTSTRAP = 10
"""Refits on mines drawn with replacement; their 5th-95th percentiles of S(H) are the model's own band."""
BAND = (0.05, 0.95)

Say = Callable[[str], Any]


# ---------------------------------------------------------------------------------------------
# Features


ATTRIBUTE_COLUMNS = known.fixed_columns(
    [
        "gem_mine_id", "country_iso3", "region", "subregion", "state_province", "mine_type", "coal_type",
        "capacity_mtpa", "latitude", "longitude", "msha_id",
    ]
)  # fmt: skip
"""The ``dim_mine`` columns the model reads at every year at risk: fixed physical facts only (:mod:`fvi.known`)."""


def mine_attributes(dim_mine: pd.DataFrame) -> pd.DataFrame:
    """Year-invariant attributes per GEM mine: grouping keys for the encodings and raw features."""
    d = dim_mine[[c for c in ATTRIBUTE_COLUMNS if c in dim_mine.columns]]
    country = d["country_iso3"].fillna("UNK").astype(str)
    region = d["subregion"].fillna(d.get("region")).fillna("UNK").astype(str)
    state = country + "/" + d["state_province"].fillna("UNK").astype(str)
    mine_type = d["mine_type"].fillna("").astype(str).str.lower()
    coal = d["coal_type"].fillna("").astype(str).str.lower()
    out = pd.DataFrame(
        {
            "gem_mine_id": d["gem_mine_id"].astype(str),
            "g_region": region,
            "g_country": country,
            "g_state": state,
            "is_underground": np.where(
                mine_type.str.contains("underground") & mine_type.str.contains("surface"),
                0.5,
                mine_type.str.contains("underground").astype(float),
            ),
            "log_capacity_raw": np.log1p(pd.to_numeric(d["capacity_mtpa"], errors="coerce").clip(lower=0)),
            "latitude": pd.to_numeric(d["latitude"], errors="coerce"),
            "longitude": pd.to_numeric(d["longitude"], errors="coerce"),
            "msha": pd.to_numeric(d["msha_id"], errors="coerce") if "msha_id" in d else np.nan,
        }
    )
    for c in COAL_TYPES:
        # "subbituminous" contains "bituminous": match whole words
        out[f"coal_{c}"] = coal.str.contains(rf"(?<![a-z]){c}(?![a-z])", regex=True).astype(float)
    out.loc[mine_type.eq(""), "is_underground"] = np.nan
    return out.drop_duplicates("gem_mine_id").reset_index(drop=True)


@dataclass
class Encoder:
    """Shrunk yearly closure rates per region, country and state, and capacity medians, from training rows."""

    base: float
    rates: dict[str, pd.DataFrame]
    cap_country: pd.Series
    cap_global: float

    @classmethod
    def fit(cls, rows: pd.DataFrame) -> Encoder:
        """``rows``: training mine-years with ``event`` and the ``g_*`` keys and ``log_capacity_raw``."""
        base = float(rows["event"].mean()) if len(rows) else 0.0
        rates = {
            level: rows.groupby(f"g_{level}")["event"].agg(["sum", "count"]) for level in ("region", "country", "state")
        }
        per_mine = rows.drop_duplicates("gem_mine_id")
        cap = per_mine.groupby("g_country")["log_capacity_raw"].median()
        gm = per_mine["log_capacity_raw"].median()
        return cls(base, rates, cap, float(gm) if pd.notna(gm) else 0.0)

    def _level(self, keys: pd.Series, level: str, prior: pd.Series) -> pd.Series:
        t = self.rates[level]
        s = keys.map(t["sum"]).fillna(0.0).astype(float)
        n = keys.map(t["count"]).fillna(0.0).astype(float)
        k = PRIORS[level]
        return (s + k * prior) / (n + k)

    def transform(self, attrs: pd.DataFrame) -> pd.DataFrame:
        """The model features of ``attrs`` (one row per mine or mine-year)."""
        base = pd.Series(self.base, index=attrs.index)
        region = self._level(attrs["g_region"], "region", base)
        country = self._level(attrs["g_country"], "country", region)
        state = self._level(attrs["g_state"], "state", country)
        cap = attrs["log_capacity_raw"].fillna(attrs["g_country"].map(self.cap_country)).fillna(self.cap_global)
        out = attrs.assign(te_country=country.to_numpy(), te_state=state.to_numpy(), log_capacity=cap.to_numpy())
        return out


@dataclass(frozen=True)
class EiaHistory:
    """Yearly EIA production of US mines, for the two dated features (``eia_*``) of GEM mines with an MSHA id."""

    producing: pd.DataFrame  # msha, year, production_mt (producing years only)
    last_year: int

    @classmethod
    def from_panel(cls, panel: pd.DataFrame | None) -> EiaHistory | None:
        if panel is None or panel.empty:
            return None
        p = panel[panel["is_producing"].fillna(False).astype(bool)]
        frame = pd.DataFrame(
            {
                "msha": pd.to_numeric(p["msha_id"], errors="coerce"),
                "year": p["year"].astype(int),
                "production_mt": pd.to_numeric(p["production_mt"], errors="coerce"),
            }
        ).dropna(subset=["msha"])
        return cls(frame.sort_values(["msha", "year"]).reset_index(drop=True), int(panel["year"].max()))


def dated(rows: pd.DataFrame, cutoff: pd.Series | int, history: EiaHistory | None) -> pd.DataFrame:
    """``rows`` with the EIA features known at ``cutoff`` (a year, per row or for all).

    ``eia_log_production``: log(1 + Mt) in the latest producing EIA year <= min(cutoff, last EIA year);
    ``eia_years_idle``: years from that producing year to min(cutoff, last EIA year). NaN without an
    MSHA id or a producing year by then. Nothing dated after ``cutoff`` is read.
    """
    out = rows.copy()
    out["eia_log_production"] = np.nan
    out["eia_years_idle"] = np.nan
    if history is None or "msha" not in out or out["msha"].isna().all():
        return out
    cut = pd.Series(cutoff, index=out.index) if np.isscalar(cutoff) else pd.Series(cutoff, index=out.index)
    seen = np.minimum(cut.astype(int), history.last_year)
    keys = pd.DataFrame({"row": np.arange(len(out)), "msha": out["msha"].to_numpy(), "seen": seen.to_numpy()})
    keys = keys.dropna(subset=["msha"])
    j = keys.merge(history.producing, on="msha", how="inner")
    j = j[j["year"] <= j["seen"]]
    if j.empty:
        return out
    last = j.sort_values(["row", "year"]).groupby("row").tail(1).set_index("row")
    pos = last.index.to_numpy()
    out.iloc[pos, out.columns.get_loc("eia_log_production")] = np.log1p(last["production_mt"].clip(lower=0)).to_numpy()
    out.iloc[pos, out.columns.get_loc("eia_years_idle")] = (last["seen"] - last["year"]).to_numpy(dtype=float)
    return out


def _fold_of(ids: pd.Series, n_folds: int) -> np.ndarray:
    """A stable fold per mine id (so the same mine lands in the same fold in every run)."""
    codes = pd.util.hash_pandas_object(ids.astype(str), index=False).to_numpy()
    return (codes % np.uint64(n_folds)).astype(int)


def training_features(rows: pd.DataFrame, n_folds: int = TE_FOLDS) -> pd.DataFrame:
    """Out-of-fold encodings for training rows: each mine's rows encoded from the other folds' mines."""
    fold = _fold_of(rows["gem_mine_id"], n_folds)
    parts = []
    for f in range(n_folds):
        inside = fold == f
        if not inside.any():
            continue
        parts.append(Encoder.fit(rows[~inside]).transform(rows[inside]))
    return pd.concat(parts).loc[rows.index]


def country_only_hazard(enc: Encoder, attrs: pd.DataFrame) -> np.ndarray:
    """The baseline: the shrunk closure rate of the mine's country, nothing else."""
    return enc.transform(attrs)["te_country"].to_numpy(dtype=float)


# ---------------------------------------------------------------------------------------------
# Fit, back-test, predict


def _fit(x: pd.DataFrame, y: np.ndarray, seed: int) -> Any:
    return fit_booster(x[FEATURES], y, PARAMS, ROUNDS, seed)


def _hazard(booster: Any, x: pd.DataFrame) -> np.ndarray:
    return np.clip(predict_raw(booster, x[FEATURES]), 0.0, 1.0)


def survival(hazard: np.ndarray, horizon: int) -> np.ndarray:
    """P(no closure in the next ``horizon`` years) under a constant yearly hazard."""
    return np.power(1.0 - np.clip(np.asarray(hazard, dtype=float), 0.0, 1.0), int(horizon))


@dataclass
class GlobalModel:
    """The fitted model, its calibration and what the strict back-test measured."""

    booster: Any
    encoder: Encoder
    calibration: Calibration
    oof: pd.DataFrame
    folds: list[dict[str, Any]]
    n_train: int
    n_events: int
    years: tuple[int, int]
    seconds: dict[str, float] = field(default_factory=dict)

    version: str = ""
    history: EiaHistory | None = None
    replicates: list[tuple[Any, Encoder]] = field(default_factory=list)

    def hazard(self, attrs: pd.DataFrame, *, calibrated: bool = True) -> np.ndarray:
        raw = _hazard(self.booster, self.encoder.transform(attrs))
        return np.clip(self.calibration.apply(raw), 0.0, 1.0) if calibrated else raw

    def at_release(self, dim_mine: pd.DataFrame) -> pd.DataFrame:
        """Attributes of ``dim_mine``'s mines with the EIA features known at each mine's release year."""
        attrs = mine_attributes(dim_mine)
        release = known.release_year(dim_mine[known.RELEASE_COLUMN]).astype(int).to_numpy()
        return dated(attrs, pd.Series(release, index=attrs.index), self.history)

    def band(self, attrs: pd.DataFrame, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """5th-95th percentile of the calibrated S(horizon) over the bootstrap refits (NaN without them)."""
        if not self.replicates:
            nan = np.full(len(attrs), np.nan)
            return nan, nan
        s = np.vstack(
            [
                survival(np.clip(self.calibration.apply(_hazard(b, enc.transform(attrs))), 0.0, 1.0), horizon)
                for b, enc in self.replicates
            ]
        )
        return np.quantile(s, BAND[0], axis=0), np.quantile(s, BAND[1], axis=0)


def strict_backtest(
    frame: pd.DataFrame,
    attrs: pd.DataFrame,
    *,
    as_of_years: Iterable[int],
    horizons: Iterable[int],
    seed: int,
    history: EiaHistory | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """Train on years <= T, score mines operating at the end of T against closures in T+1..T+H.

    Returns (out-of-fold rows for the model and the country-only baseline, the yearly hazards of
    the test years for calibration, a summary per as-of year).
    """
    rows = frame.merge(attrs, on="gem_mine_id", how="inner")
    rows = dated(rows, rows["year"] - 1, history)  # a year at risk sees what was known before it
    labels = closure_labels(frame, horizons, as_of_years)
    oof, yearly, summary = [], [], []
    for i, t in enumerate(sorted({int(y) for y in as_of_years})):
        train = rows[rows["year"] <= t]
        lab = labels[labels["as_of_year"] == t]
        if lab.empty or train["event"].nunique() < 2:
            continue
        booster = _fit(training_features(train), train["event"].to_numpy(), seed)
        enc = Encoder.fit(train)
        test_attrs = attrs.set_index("gem_mine_id").loc[lab["gem_mine_id"].unique()].reset_index()
        test_attrs = dated(test_attrs, t, history)
        h = pd.Series(_hazard(booster, enc.transform(test_attrs)), index=test_attrs["gem_mine_id"])
        hc = pd.Series(country_only_hazard(enc, test_attrs), index=test_attrs["gem_mine_id"])
        nxt = rows[rows["year"] == t + 1]
        yearly.append(
            pd.DataFrame({"hazard": nxt["gem_mine_id"].map(h).to_numpy(), "event": nxt["event"].to_numpy(), "fold": i})
        )
        for scorer, hz in ((MODEL_NAME, h), (BASELINE, hc)):
            p = survival(lab["gem_mine_id"].map(hz).to_numpy(), 1) ** lab["horizon"].to_numpy()
            oof.append(
                pd.DataFrame(
                    {
                        "entity_type": "mine",
                        "entity_id": lab["gem_mine_id"].to_numpy(),
                        "as_of_year": t,
                        "horizon": lab["horizon"].to_numpy(),
                        "label": lab["viable"].to_numpy(),
                        "p_model": p,
                        "fold": i,
                        "model_name": scorer,
                    }
                )
            )
        h5 = lab[lab["horizon"] == lab["horizon"].max()]
        p5 = survival(h5["gem_mine_id"].map(h).to_numpy(), 1) ** h5["horizon"].to_numpy()
        closed = 1 - h5["viable"].to_numpy()
        summary.append(
            {
                "as_of_year": t,
                "train_rows": len(train),
                "train_events": int(train["event"].sum()),
                "test_mines": int(h5["gem_mine_id"].nunique()),
                "test_closures": int(closed.sum()),
                "horizon": int(h5["horizon"].max()) if len(h5) else None,
                "auc": auc(h5["viable"], p5),  # NaN when the test years hold one class only
            }
        )
    oof_frame = pd.concat(oof, ignore_index=True) if oof else pd.DataFrame()
    yearly_frame = pd.concat(yearly, ignore_index=True) if yearly else pd.DataFrame()
    return oof_frame, yearly_frame, summary


def bootstrap(rows: pd.DataFrame, *, n: int, seed: int) -> list[tuple[Any, Encoder]]:
    """``n`` refits (booster, encoder) on mines resampled with replacement (a mine keeps all its years)."""
    rng = np.random.default_rng(seed)
    mines = rows["gem_mine_id"].drop_duplicates().to_numpy()
    by_mine = rows.groupby("gem_mine_id").indices
    out = []
    for i in range(n):
        pick = rng.choice(mines, size=len(mines), replace=True)
        idx = np.concatenate([by_mine[m] for m in pick])
        sample = rows.iloc[idx].copy()
        # a mine drawn twice is two mines: distinct ids keep the out-of-fold encoding honest
        draw = np.repeat(np.arange(len(pick)), [len(by_mine[m]) for m in pick])
        sample["gem_mine_id"] = sample["gem_mine_id"].astype(str) + "#" + draw.astype(str)
        sample = sample.reset_index(drop=True)
        out.append((_fit(training_features(sample), sample["event"].to_numpy(), seed + 1 + i), Encoder.fit(sample)))
    return out


def fingerprint(frame: pd.DataFrame, dim_mine: pd.DataFrame, history: EiaHistory | None = None) -> str:
    """A version that names the inputs: the same frame, attributes and settings give the same version."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    attrs = mine_attributes(dim_mine).sort_values("gem_mine_id")
    h.update(pd.util.hash_pandas_object(attrs, index=False).to_numpy().tobytes())
    if history is not None:
        h.update(pd.util.hash_pandas_object(history.producing, index=False).to_numpy().tobytes())
    h.update(json.dumps({"params": PARAMS, "rounds": ROUNDS, "features": FEATURES, "priors": PRIORS}).encode())
    return "g" + h.hexdigest()[:10]


def fit_global(
    frame: pd.DataFrame,
    dim_mine: pd.DataFrame,
    *,
    as_of_years: Iterable[int],
    horizons: Iterable[int],
    seed: int = 42,
    history: EiaHistory | None = None,
    n_bootstrap: int = BOOTSTRAP,
    say: Say = print,
) -> GlobalModel | None:
    """Back-test strictly, calibrate on the strict folds, then fit on every year; None without events."""
    if frame.empty or frame["event"].nunique() < 2:
        say("global mine model: no closures in the hazard frame, not trained")
        return None
    seconds: dict[str, float] = {}
    attrs = mine_attributes(dim_mine)
    t0 = time.perf_counter()
    oof, yearly, folds = strict_backtest(
        frame, attrs, as_of_years=as_of_years, horizons=horizons, seed=seed, history=history
    )
    seconds["strict_backtest"] = round(time.perf_counter() - t0, 2)
    if len(yearly) and yearly["event"].nunique() == 2:
        ok = yearly["hazard"].notna()
        last = yearly["fold"].max()
        calibration = fit_calibration(
            yearly.loc[ok, "hazard"].to_numpy(),
            yearly.loc[ok, "event"].to_numpy(),
            (yearly.loc[ok, "fold"] == last).to_numpy(),
        )
    else:
        calibration = Calibration("none")
    t0 = time.perf_counter()
    rows = frame.merge(attrs, on="gem_mine_id", how="inner")
    rows = dated(rows, rows["year"] - 1, history)
    booster = _fit(training_features(rows), rows["event"].to_numpy(), seed)
    seconds["fit"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    replicates = bootstrap(rows, n=n_bootstrap, seed=seed)
    seconds["bootstrap"] = round(time.perf_counter() - t0, 2)
    model = GlobalModel(
        booster=booster,
        encoder=Encoder.fit(rows),
        calibration=calibration,
        oof=oof,
        folds=folds,
        n_train=len(rows),
        n_events=int(rows["event"].sum()),
        years=(int(rows["year"].min()), int(rows["year"].max())),
        seconds=seconds,
        version=fingerprint(frame, dim_mine, history),
        history=history,
        replicates=replicates,
    )
    aucs = ", ".join(
        f"{f['as_of_year']}: {f['auc']:.3f} (H{f['horizon']}, {f['test_closures']} closures)" for f in folds
    )
    say(f"global mine model: {len(rows)} mine-years, {model.n_events} closures; strict AUC {aucs}")
    return model


def predictions(
    model: GlobalModel,
    dim_mine: pd.DataFrame,
    *,
    at_risk_statuses: Iterable[str],
    version: str,
    run_id: str | None = None,
) -> pd.DataFrame:
    """Rows of ``fvi_predictions`` (target operating) for every GEM mine at risk at its release."""
    status = dim_mine["status"].astype("string").str.strip().str.lower()
    d = dim_mine[status.isin([s.lower() for s in at_risk_statuses])]
    if d.empty:
        return pd.DataFrame()
    as_of = known.release_year(d.set_index(d["gem_mine_id"].astype(str))[known.RELEASE_COLUMN]).astype(int)
    attrs = model.at_release(d)
    h_cal = model.hazard(attrs)
    h_raw = model.hazard(attrs, calibrated=False)
    out = []
    for label in HORIZON_LABELS:
        years = int(label[1:])
        point = survival(h_cal, years)
        lo, hi = model.band(attrs, years)
        out.append(
            pd.DataFrame(
                {
                    "entity_type": "mine",
                    "entity_id": attrs["gem_mine_id"].to_numpy(),
                    "as_of_year": attrs["gem_mine_id"].map(as_of).to_numpy(dtype="int64"),
                    "horizon": label,
                    "target": "operating",
                    "p": point,
                    "p_raw": survival(h_raw, years),
                    "p_lo": np.fmin(lo, point),
                    "p_hi": np.fmax(hi, point),
                    "interval_method": f"bootstrap of the worldwide model ({len(model.replicates)} refits, 5th-95th)",
                    "model_name": MODEL_NAME,
                    "model_version": version,
                    "method": METHOD,
                    "mlflow_run_id": run_id,
                }
            )
        )
    return pd.concat(out, ignore_index=True)
