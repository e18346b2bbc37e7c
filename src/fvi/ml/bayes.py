"""Hierarchical Bayesian logistic models: credible intervals for P(viable) per mine and per country.

Why: a point probability says nothing about how much the labels support it. Every probability here
carries a 5th-95th percentile band that widens where the evidence is thin (few labelled neighbours, an
unseen country), so a reader can tell a confident prediction from an extrapolation.

Two models, one engine (:func:`_fit`), both non-centred logistic regressions::

    logit P(y=1) = alpha[s] + X_z @ beta[s] + sd_outer * z_outer[g] + sd_inner * z_inner[j]

``s`` a stratum (the horizon; one stratum for mines), ``g`` an outer group and ``j`` an inner group
nested in it. Weakly informative priors on standardised inputs: alpha ~ N(0, 1.5), beta ~ N(0, 1),
sd ~ HalfNormal(1), z ~ N(0, 1) (all in :class:`BayesConfig`).

**Mines** (``y`` = still viable 5 years after the as-of year):

* Labels: EIA/MSHA US mines (``fvi_outcome_us_mine``, horizon 5: still producing at t+5) plus GEM
  release-to-release transitions (``fvi_outcome_gem_transition``) inverted (``1 - label``: a mine that
  did *not* stop / was *not* abandoned), pooled as one Bernoulli outcome. With one GEM release the
  transition table is empty, so on the real samples the mine model learns from US labels only.
* Features: the H5 ``analyst`` pillar scores at the as-of year (never later: time-correct). Only as-of
  years whose outcome year is <= the latest label year train the model.
* Groups: country (outer) and state/province nested in country (inner). All US labels have country
  USA, so with the real data the country level is a *single group*. The data then identify only
  alpha + u_USA, and sampling both puts NUTS on a ridge, so a level seen with one group is *absorbed*
  into the intercept: its sd keeps its HalfNormal prior (nothing in the data informs it) and an unseen
  country sits at the difference of two population draws, sd * sqrt(2) * z. The state level (25 US
  coal states) carries the within-US grouping.

**Countries** (``y`` = 1 - decline: production did *not* fall >= 25 % over H, so higher = more viable
like the FVI): one model over H5/H10/H20 with horizon-specific intercepts and slopes, the pillar scores
at that horizon, income group (``dim_country.income_level``, "unknown" when missing) as outer group and
the country nested in it (a country's rows share its intercept across years and horizons).

**Pillar selection** (recorded in the diagnostics): a pillar is dropped when fewer than
``min_coverage`` of the training rows have it, or when it hardly varies between entities within an
as-of year (within-year sd < ``min_within_year_sd`` points). On the US mine labels pillars 01, 03, 04,
05, 11, 20 and 24 are national context, one value per year: they are year dummies that the labels cannot
separate from the macro trend, and GEM mines spread far wider on them, so learning them would
extrapolate. Kept pillars with gaps in training get the training mean (z = 0) plus a 0/1 missing
indicator. At prediction a missing pillar also gets the training mean, and z-scores are clipped to the
range seen in training (no extrapolation beyond the labels).

**Overlapping windows** (:func:`thin_windows`): a mine that stops in 2013 is "not viable at t+5" for
every t in 2008-2011, four rows for one event. Per entity and horizon, training keeps as-of years H apart
from a seeded random start, so no two rows share an outcome window; the intervals are not narrowed by
pseudo-replication (and sampling is 3-5x faster). Real samples: 5,474 US mine labels -> 1,977 rows (one
per mine); 1,921 country labels -> 342 rows. Rows left above ``max_rows`` are then subsampled (seeded).

**Transfer to GEM mines.** GEM mines are scored on GEM metrics whose pillar composition differs from
the EIA one (pillar 02 adds reserves and R/P, 08 is often missing); their probabilities are a transfer
of the US-trained slopes. A mine (or country) in a group never seen in training gets its group effect
drawn anew from the population distribution per posterior draw, one draw per unseen group shared by all
its members; so non-US GEM mines get wider intervals that include between-country variation
(``is_new_group`` in the output marks those rows).

PyTensor compiles the model graph to C on first use and caches it under its compiledir (default
``~/.pytensor``; ``PYTENSOR_FLAGS=base_compiledir=...`` before Python starts to move it): a cold cache
adds ~30 s to a run, later runs reuse it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fvi.ml.bayes_data import (  # noqa: F401 - re-exported: the Bayesian model's names since before the split
    _MISSING,
    _PILLAR,
    COUNTRY_MODEL,
    DIAGNOSTICS_JSON,
    DIAGNOSTICS_TABLE,
    MINE_MODEL,
    MODEL_VERSION,
    PREDICTION_COLUMNS,
    PREDICTIONS_TABLE,
    BayesConfig,
    _is_empty,
    _pillar_sql,
    country_prediction_frame,
    country_training_frame,
    mine_prediction_frame,
    mine_training_frame,
)

if TYPE_CHECKING:
    from fvi.warehouse import Warehouse

log = logging.getLogger(__name__)


def _quiet_blas() -> None:
    """Tell PyTensor which BLAS to link before it is imported, instead of letting it warn at compile time.

    With a system BLAS (Debian's ``libopenblas-dev``, installed by ``scripts/services.sh``) PyTensor
    links ``-lopenblas`` / ``-lblas``; without one it is told to use NumPy's C API (slower matrix
    products, same numbers) and that is logged once here rather than printed as a warning per process.
    """
    import ctypes.util
    import os

    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "blas__ldflags" in flags or "pytensor" in sys.modules:
        return
    lib = next((n for n in ("openblas", "blas") if ctypes.util.find_library(n)), None)
    ldflags = f"-l{lib}" if lib else ""
    os.environ["PYTENSOR_FLAGS"] = ",".join(p for p in (flags, f"blas__ldflags={ldflags}") if p)
    if not lib:
        log.info("bayes: no system BLAS found; PyTensor uses NumPy's C API (apt-get install libopenblas-dev)")



# ---------------------------------------------------------------------------------------------
# Design: which pillars, how standardised


@dataclass(frozen=True)
class Design:
    """Training-time standardisation, replayed unchanged at prediction time."""

    pillars: tuple[str, ...]
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    z_lo: tuple[float, ...]
    z_hi: tuple[float, ...]
    indicators: tuple[str, ...]
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """Column names of :meth:`matrix`: the pillars, then a ``<pillar>_missing`` flag per indicator."""
        return [*self.pillars, *(p + _MISSING for p in self.indicators)]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Standardised, clipped pillars (missing -> 0) and the missing indicators."""
        n = len(frame)
        if not self.pillars:
            return np.zeros((n, 0))
        raw = np.column_stack([pd.to_numeric(frame[p], errors="coerce").to_numpy(float) for p in self.pillars])
        missing = np.isnan(raw)
        z = (raw - np.asarray(self.mean)) / np.asarray(self.sd)
        z = np.clip(z, np.asarray(self.z_lo), np.asarray(self.z_hi))
        z[missing] = 0.0
        cols = [z]
        if self.indicators:
            idx = [self.pillars.index(p) for p in self.indicators]
            cols.append(missing[:, idx].astype(float))
        return np.hstack(cols)


def pillar_columns(frame: pd.DataFrame) -> list[str]:
    return sorted(c for c in frame.columns if _PILLAR.match(str(c)))


def make_design(frame: pd.DataFrame, config: BayesConfig, *, year: str = "as_of_year") -> Design:
    """Pick the pillars the labels can inform (coverage, within-year spread) and standardise them."""
    kept: list[str] = []
    dropped: dict[str, str] = {}
    stats: list[tuple[float, float, float, float]] = []
    indicators: list[str] = []
    for p in pillar_columns(frame):
        x = pd.to_numeric(frame[p], errors="coerce")
        coverage = float(x.notna().mean()) if len(x) else 0.0
        if coverage < config.min_coverage:
            dropped[p] = f"coverage {coverage:.2f} < {config.min_coverage}"
            continue
        within = x - x.groupby(frame[year]).transform("mean") if year in frame else x - x.mean()
        within_sd = float(within.std(ddof=0)) if within.notna().any() else 0.0
        if not np.isfinite(within_sd) or within_sd < config.min_within_year_sd:
            dropped[p] = f"within-year sd {within_sd:.2f} < {config.min_within_year_sd}"
            continue
        mu, sd = float(x.mean()), float(x.std(ddof=0))
        z = (x.dropna() - mu) / sd
        stats.append((mu, sd, float(z.min()), float(z.max())))
        kept.append(p)
        if coverage < 1.0:
            indicators.append(p)
    return Design(
        pillars=tuple(kept),
        mean=tuple(s[0] for s in stats),
        sd=tuple(s[1] for s in stats),
        z_lo=tuple(s[2] for s in stats),
        z_hi=tuple(s[3] for s in stats),
        indicators=tuple(indicators),
        dropped=dropped,
    )


# ---------------------------------------------------------------------------------------------
# Fit


@dataclass(frozen=True)
class Keys:
    """Which columns give a row's stratum and its outer and inner group (the same at fit and predict)."""

    stratum: str | None  # None: one stratum, named ``default_stratum``
    outer: str
    inner: str
    default_stratum: str = "all"

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        stratum = frame[self.stratum].astype(str) if self.stratum else pd.Series(self.default_stratum, frame.index)
        outer = frame[self.outer].astype("string").fillna("unknown").astype(str)
        return frame.assign(stratum=stratum, group_outer=outer, group_inner=_inner_key(outer, frame[self.inner]))


def mine_keys(config: BayesConfig) -> Keys:
    return Keys(stratum=None, outer="country_iso3", inner="subgroup", default_stratum=f"H{config.mine_horizon}")


COUNTRY_KEYS = Keys(stratum="horizon", outer="income_level", inner="entity_id")


@dataclass
class BayesFit:
    """A fitted model: its design, keys, group levels, posterior draws (flattened) and diagnostics."""

    name: str
    keys: Keys
    design: Design
    strata: tuple[str, ...]
    outer: tuple[str, ...]
    inner: tuple[str, ...]
    draws: dict[str, np.ndarray]
    diagnostics: dict[str, Any]
    absorbed: tuple[str, ...] = ()
    idata: Any = None


def _inner_key(outer: pd.Series, inner: pd.Series) -> pd.Series:
    """Inner groups are nested: the same state name in two countries is two groups."""
    return outer.astype(str) + "/" + inner.astype("string").fillna("").astype(str)


def thin_windows(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per entity and stratum, keep as-of years a horizon apart so no two labels share an outcome window.

    A mine that stops in 2013 is "not viable at t+5" for every t in 2008-2011: four rows, one event.
    Counting overlapping windows as independent evidence would narrow the intervals for nothing. The
    start year is drawn per entity (seeded), then every H-th year after or before it is kept.
    """
    if frame.empty:
        return frame
    work = pd.DataFrame(
        {
            "entity": frame["entity_id"].astype(str).to_numpy(),
            "stratum": frame["stratum"].astype(str).to_numpy(),
            "year": frame["as_of_year"].astype(int).to_numpy(),
            "draw": np.random.default_rng(seed).random(len(frame)),
        }
    )
    first = work.groupby(["entity", "stratum"])["draw"].transform("idxmin").to_numpy(int)
    start = work["year"].to_numpy()[first]
    spacing = np.array([max(_horizon_order(s)[0], 1) for s in work["stratum"]])
    keep = (work["year"].to_numpy() - start) % spacing == 0
    return frame.loc[keep]


def _subsample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if max_rows and len(frame) > max_rows:
        return frame.sample(n=max_rows, random_state=seed).sort_index()
    return frame


def _fit(
    frame: pd.DataFrame,
    *,
    name: str,
    keys: Keys,
    seed: int,
    draws: int,
    tune: int,
    chains: int,
    cores: int,
    config: BayesConfig,
) -> BayesFit:
    """Sample the hierarchical logistic model on a frame with y, entity_id, as_of_year, pillars and the key columns."""
    _quiet_blas()
    import arviz as az
    import pymc as pm
    import pytensor.tensor as pt

    t0 = time.perf_counter()
    n_all = len(frame)
    frame = keys.apply(frame.reset_index(drop=True))
    if config.thin_overlapping:
        frame = thin_windows(frame, seed)
    n_thinned = len(frame)
    frame = _subsample(frame, config.max_rows, seed)
    if frame.empty:
        raise ValueError(f"{name}: no training rows")
    design = make_design(frame, config)
    X = design.matrix(frame)
    y = frame["y"].astype(int).to_numpy()
    strata = tuple(sorted(frame["stratum"].astype(str).unique(), key=_horizon_order))
    outer = tuple(sorted(frame["group_outer"].astype(str).unique()))
    inner = tuple(sorted(frame["group_inner"].unique()))
    s_idx = pd.Categorical(frame["stratum"].astype(str), categories=strata).codes
    o_idx = pd.Categorical(frame["group_outer"].astype(str), categories=outer).codes
    i_idx = pd.Categorical(frame["group_inner"], categories=inner).codes
    # a level observed with one group only is absorbed into the intercept (alpha + u_g is all the data
    # identify; sampling both leaves NUTS on a ridge); its sd keeps its prior for unseen groups
    absorbed = tuple(level for level, groups in (("outer", outer), ("inner", inner)) if len(groups) == 1)
    coords = {"stratum": list(strata), "feature": design.features, "outer": list(outer), "inner": list(inner)}
    with pm.Model(coords=coords):
        alpha = pm.Normal("alpha", 0.0, config.intercept_sd, dims="stratum")
        eta = alpha[s_idx]
        for level, idx in (("outer", o_idx), ("inner", i_idx)):
            sd = pm.HalfNormal(f"sd_{level}", config.group_sd)
            if level not in absorbed:
                z = pm.Normal(f"z_{level}", 0.0, 1.0, dims=level)
                eta = eta + sd * z[idx]
        if X.shape[1]:
            beta = pm.Normal("beta", 0.0, config.slope_sd, dims=("stratum", "feature"))
            if len(strata) == 1:
                eta = eta + pt.dot(X, beta[0])
            else:  # X @ beta.T gives every stratum's linear predictor; the one-hot keeps the row's own
                eta = eta + (pt.dot(X, beta.T) * np.eye(len(strata))[s_idx]).sum(axis=1)
        pm.Bernoulli("y", logit_p=eta, observed=y)
        t1 = time.perf_counter()
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            target_accept=config.target_accept,
            progressbar=False,
            compute_convergence_checks=False,
        )
    t2 = time.perf_counter()
    post = idata.posterior
    var_names = [v for v in ("alpha", "beta", "sd_outer", "z_outer", "sd_inner", "z_inner") if v in post]
    summary = az.summary(idata, var_names=var_names, kind="diagnostics")
    flat = {v: post[v].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy() for v in var_names}
    n_samples = len(flat["alpha"])
    if "beta" not in flat:
        flat["beta"] = np.zeros((n_samples, len(strata), 0))
    for level in absorbed:
        flat[f"z_{level}"] = np.zeros((n_samples, 1))
    diagnostics: dict[str, Any] = {
        "model": name,
        "n_labelled": n_all,
        "n_thinned": n_thinned,
        "n_train": len(frame),
        "n_positive": int(y.sum()),
        "strata": list(strata),
        "n_outer_groups": len(outer),
        "n_inner_groups": len(inner),
        "absorbed_levels": list(absorbed),
        "features": design.features,
        "dropped_pillars": design.dropped,
        "chains": chains,
        "draws": draws,
        "tune": tune,
        "seed": seed,
        "rhat_max": float(np.nanmax(summary["r_hat"])),
        "ess_bulk_min": float(np.nanmin(summary["ess_bulk"])),
        "ess_tail_min": float(np.nanmin(summary["ess_tail"])),
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "sampling_seconds": float(idata.sample_stats.attrs.get("sampling_time", t2 - t1)),
        "fit_seconds": t2 - t0,
    }
    diagnostics["posterior_means"] = {
        "alpha": dict(zip(strata, np.round(flat["alpha"].mean(0), 4).tolist(), strict=True)),
        "beta": {
            s: dict(zip(design.features, np.round(flat["beta"][:, k].mean(0), 4).tolist(), strict=True))
            for k, s in enumerate(strata)
        },
        "sd_outer": round(float(flat["sd_outer"].mean()), 4),
        "sd_inner": round(float(flat["sd_inner"].mean()), 4),
    }
    log.info(
        "%s: %d rows, rhat_max %.3f, %d divergences",
        name,
        len(frame),
        diagnostics["rhat_max"],
        diagnostics["divergences"],
    )
    return BayesFit(name, keys, design, strata, outer, inner, flat, diagnostics, absorbed, idata)


def _horizon_order(s: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", s)
    return (int(digits) if digits else 0, s)


def fit_mines(
    frame: pd.DataFrame,
    seed: int = 0,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    *,
    cores: int = 1,
    config: BayesConfig | None = None,
) -> BayesFit:
    """Mine model on rows with ``y``, pillars, ``entity_id``, ``as_of_year``, ``country_iso3``, ``subgroup`` (state)."""
    config = config or BayesConfig()
    return _fit(
        frame,
        name=MINE_MODEL,
        keys=mine_keys(config),
        seed=seed,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        config=config,
    )


def fit_countries(
    frame: pd.DataFrame,
    seed: int = 0,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    *,
    cores: int = 1,
    config: BayesConfig | None = None,
) -> BayesFit:
    """Country model on rows with ``y`` (1 - decline), ``horizon``, pillars, ``income_level``, ``entity_id``."""
    config = config or BayesConfig()
    return _fit(
        frame,
        name=COUNTRY_MODEL,
        keys=COUNTRY_KEYS,
        seed=seed,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        config=config,
    )


# ---------------------------------------------------------------------------------------------
# Predict


def predict(
    fit: BayesFit,
    frame: pd.DataFrame,
    *,
    seed: int = 0,
    interval: tuple[float, float] = (0.05, 0.95),
    chunk: int = 1000,
) -> pd.DataFrame:
    """Posterior mean and interval of P(viable) per row; unseen groups get fresh population draws.

    ``frame`` has the pillars and the key columns the model was fitted with (as from
    :func:`mine_prediction_frame` / :func:`country_prediction_frame`). One new effect per unseen group
    and posterior draw, shared by every row of that group, so members of an unseen country move together.
    """
    rng = np.random.default_rng(seed)
    d = fit.draws
    n_draws = len(d["alpha"])
    keyed = fit.keys.apply(frame)
    outer_idx = {g: k for k, g in enumerate(fit.outer)}
    inner_idx = {g: k for k, g in enumerate(fit.inner)}
    strata_idx = {s: k for k, s in enumerate(fit.strata)}
    unknown = sorted(set(keyed["stratum"]) - set(strata_idx))
    if unknown:
        raise ValueError(f"{fit.name}: strata {unknown} not in the fitted model {list(fit.strata)}")

    def effects(level: str, keys: pd.Series, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        # (draws, groups) table and each row's column: the fitted effect of a seen group; for an unseen one a
        # population draw, one per group (sorted, so the seed fixes them). At an absorbed level (one group
        # seen, its effect inside alpha) an unseen group sits at the difference of two draws: sd * sqrt(2) * z.
        sd, z = d[f"sd_{level}"], d[f"z_{level}"]
        scale = sd * (np.sqrt(2.0) if level in fit.absorbed else 1.0)
        new = sorted(set(keys) - set(index))
        table = np.hstack([sd[:, None] * z, scale[:, None] * rng.standard_normal((n_draws, len(new)))])
        return table, keys.map({**index, **{g: len(index) + k for k, g in enumerate(new)}}).to_numpy(int)

    outer_table, outer_codes = effects("outer", keyed["group_outer"], outer_idx)
    inner_table, inner_codes = effects("inner", keyed["group_inner"], inner_idx)
    X = fit.design.matrix(keyed)
    s_codes = keyed["stratum"].map(strata_idx).to_numpy(int)
    stats = np.empty((3, len(keyed)))
    for start in range(0, len(keyed), chunk):  # (draws, rows) blocks keep memory flat for many entities
        rows = np.arange(start, min(start + chunk, len(keyed)))
        eta = outer_table[:, outer_codes[rows]] + inner_table[:, inner_codes[rows]]
        for k in np.unique(s_codes[rows]):
            cols = np.flatnonzero(s_codes[rows] == k)
            eta[:, cols] += d["alpha"][:, k, None] + d["beta"][:, k, :] @ X[rows[cols]].T
        p = 1.0 / (1.0 + np.exp(-eta))
        stats[0, rows] = p.mean(axis=0)
        stats[1:, rows] = np.quantile(p, list(interval), axis=0)
    is_new = ~keyed["group_outer"].isin(list(outer_idx)) | ~keyed["group_inner"].isin(list(inner_idx))
    return pd.DataFrame(
        {"p_mean": stats[0], "p_lo": stats[1], "p_hi": stats[2], "is_new_group": is_new.to_numpy()}, index=frame.index
    )


# ---------------------------------------------------------------------------------------------
# Run


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "_" + secrets.token_hex(3)


def _predictions(fit: BayesFit, frame: pd.DataFrame, run_id: str, seed: int, config: BayesConfig) -> pd.DataFrame:
    # a stratum (horizon) with no training label has no slopes: predict only what the model learnt
    keep = fit.keys.apply(frame)["stratum"].isin(list(fit.strata)).to_numpy()
    frame = frame[keep].reset_index(drop=True)
    pred = predict(fit, frame, seed=seed, interval=config.interval)
    out = pd.concat([frame[["entity_type", "entity_id", "as_of_year", "horizon"]], pred], axis=1)
    return out.assign(model=fit.name, run_id=run_id)[PREDICTION_COLUMNS]


def _width_summary(pred: pd.DataFrame) -> dict[str, Any]:
    width = pred["p_hi"] - pred["p_lo"]
    out: dict[str, Any] = {}
    for (etype, horizon, new), w in width.groupby([pred["entity_type"], pred["horizon"], pred["is_new_group"]]):
        key = f"{etype}/{horizon}/{'new_group' if new else 'seen_group'}"
        out[key] = {"n": int(len(w)), "median": round(float(w.median()), 4), "max": round(float(w.max()), 4)}
    return out


def run_bayes(
    wh: Warehouse,
    out_dir: Path,
    *,
    seed: int = 0,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    cores: int = 1,
    run_id: str | None = None,
    sink: Warehouse | None = None,
    config: BayesConfig | None = None,
) -> dict[str, Any]:
    """Fit both models, predict every mine and country, write gold tables and a diagnostics JSON.

    Reads from ``wh``; writes ``fvi_predictions_bayes`` and ``fvi_bayes_diagnostics`` to ``sink`` (default
    ``wh``) so a read-only live warehouse can be paired with a separate output.
    """
    config = config or BayesConfig()
    run_id = run_id or new_run_id()
    sink = sink or wh
    t0 = time.perf_counter()
    fits: list[BayesFit] = []
    preds: list[pd.DataFrame] = []

    mine_fit = fit_mines(mine_training_frame(wh, config), seed, draws, tune, chains, cores=cores, config=config)
    fits.append(mine_fit)
    preds.append(_predictions(mine_fit, mine_prediction_frame(wh, config), run_id, seed, config))

    country_fit = fit_countries(
        country_training_frame(wh, config), seed, draws, tune, chains, cores=cores, config=config
    )
    fits.append(country_fit)
    preds.append(_predictions(country_fit, country_prediction_frame(wh, config), run_id, seed + 1, config))

    predictions = pd.concat(preds, ignore_index=True)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = []
    for fit in fits:
        d = fit.diagnostics
        rows.append(
            {
                "model": fit.name,
                "run_id": run_id,
                "n_labelled": d["n_labelled"],
                "n_thinned": d["n_thinned"],
                "n_train": d["n_train"],
                "n_positive": d["n_positive"],
                "n_outer_groups": d["n_outer_groups"],
                "n_inner_groups": d["n_inner_groups"],
                "absorbed_levels": ",".join(d["absorbed_levels"]),
                "features": ",".join(d["features"]),
                "dropped_pillars": json.dumps(d["dropped_pillars"], sort_keys=True),
                "chains": chains,
                "draws": draws,
                "tune": tune,
                "seed": seed,
                "rhat_max": d["rhat_max"],
                "ess_bulk_min": d["ess_bulk_min"],
                "ess_tail_min": d["ess_tail_min"],
                "divergences": d["divergences"],
                "sampling_seconds": d["sampling_seconds"],
                "fit_seconds": d["fit_seconds"],
                "model_version": MODEL_VERSION,
                "created_at": created,
            }
        )
    diagnostics = pd.DataFrame(rows)
    sink.write_table("gold", PREDICTIONS_TABLE, predictions)
    sink.write_table("gold", DIAGNOSTICS_TABLE, diagnostics)
    summary: dict[str, Any] = {
        "run_id": run_id,
        "model_version": MODEL_VERSION,
        "config": asdict(config),
        "seconds": round(time.perf_counter() - t0, 2),
        "predictions": {str(k): int(v) for k, v in predictions.groupby(["entity_type", "horizon"]).size().items()},
        "interval_width": _width_summary(predictions),
        "models": {fit.name: fit.diagnostics for fit in fits},
        "tables": [PREDICTIONS_TABLE, DIAGNOSTICS_TABLE],
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / DIAGNOSTICS_JSON
    path.write_text(json.dumps(summary, indent=2, default=str))
    summary["json"] = str(path)
    return summary


__all__ = [
    "COUNTRY_MODEL",
    "DIAGNOSTICS_TABLE",
    "MINE_MODEL",
    "PREDICTIONS_TABLE",
    "BayesConfig",
    "BayesFit",
    "Design",
    "country_prediction_frame",
    "country_training_frame",
    "fit_countries",
    "fit_mines",
    "make_design",
    "mine_prediction_frame",
    "mine_training_frame",
    "predict",
    "run_bayes",
]
