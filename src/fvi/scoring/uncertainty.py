"""Uncertainty and sensitivity of the FVI to the modelling choices (JRC practice).

Monte Carlo: each draw picks pillar weights (Dirichlet around the persona's nominal weights), a
normalisation (goalposts, min-max, rank), an imputation choice (declared rules or none) and an
aggregation (arithmetic, geometric); every entity of the latest as-of year gets the 5th, 50th and
95th percentile of its FVI and its rank over the draws.

Sobol: SALib's Saltelli/Sobol' sampler and estimator over the same four choices (weights enter as
an index into a seeded set of Dirichlet draws); the output is the mean absolute rank shift against
the nominal ranking. Parameters and seed are saved so a run reproduces exactly.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from fvi.registry.metrics import UncertaintyDefaults
from fvi.scoring.engine import Scorer

FACTORS = ("weights", "normalisation", "imputation", "aggregation")


@dataclass
class UncertaintyParams:
    """Everything that determines a run; saved beside its results."""

    draws: int
    seed: int
    dirichlet_concentration: float
    normalisations: list[str]
    imputations: list[str]
    aggregations: list[str]
    sobol_base_samples: int
    horizons: list[str] = field(default_factory=list)
    personas: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_defaults(
        cls, d: UncertaintyDefaults, horizons: list[str], personas: Mapping[str, Mapping[str, float]], **overrides: Any
    ) -> UncertaintyParams:
        """The registry's uncertainty defaults for ``horizons`` and ``personas``; overrides not None replace them."""
        base = d.model_dump()
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base, horizons=list(horizons), personas={k: dict(v) for k, v in personas.items()})

    def to_json(self) -> str:
        """The parameters as indented JSON with sorted keys (saved as ``uncertainty_params.json``)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> UncertaintyParams:
        """The parameters saved by :meth:`to_json`."""
        return cls(**json.loads(text))

    def variants(self) -> list[tuple[str, str, str]]:
        """Every (normalisation, imputation, aggregation) combination the analysis tries."""
        return list(itertools.product(self.normalisations, self.imputations, self.aggregations))


RANK_RESOLUTION = 65535 / 100.0
"""Scores are ranked on a 16-bit grid (0.0015 FVI points) so NumPy can use its O(n) radix sort."""


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Row-wise rank (1 = best) of [draws, n] scores; NaN ranks NaN; scores closer than 0.0015 tie by position."""
    missing = np.isnan(scores)
    keys = np.where(missing, 65535, np.round((100.0 - np.clip(np.nan_to_num(scores), 0, 100)) * RANK_RESOLUTION))
    order = np.argsort(keys.astype(np.uint16), axis=1, kind="stable")
    ranks = np.empty(scores.shape, dtype=np.float32)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[1] + 1, dtype=np.float32)[None, :], axis=1)
    ranks[missing] = np.nan
    return ranks


def _quantiles(x: np.ndarray, q: list[float]) -> np.ndarray:
    """Row quantiles [len(q), n] of [n, draws] (nearest order statistic); nan-aware only where needed."""
    out = np.full((len(q), x.shape[0]), np.nan)
    nan = np.isnan(x)
    full = ~nan.any(axis=1)
    if full.any():
        k = np.round(np.asarray(q) * (x.shape[1] - 1)).astype(int)
        out[:, full] = np.sort(x[full], axis=1)[:, k].T  # NumPy's SIMD sort beats partition ~3x here
    partial = ~full & ~nan.all(axis=1)
    if partial.any():
        out[:, partial] = np.nanquantile(x[partial], q, axis=1, method="closest_observation")
    return out


class _Evaluator:
    """Composite scores for one entity type and horizon under any (variant, weights) draw, batched."""

    def __init__(
        self, scorer: Scorer, entity_type: str, horizon: str, rows: np.ndarray, variants: list[tuple[str, str, str]]
    ) -> None:
        self.scorer = scorer
        self.variants = variants
        self.pillars = [scorer.pillar_scores(entity_type, horizon, *v)[rows] for v in variants]  # type: ignore[arg-type]

    def scores(self, variant_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """[draws, n] FVI for draws given as variant indices [draws] and pillar weights [draws, P]."""
        out = np.full((len(variant_idx), self.pillars[0].shape[0]), np.nan, dtype=np.float32)
        for v in np.unique(variant_idx):
            draws = np.flatnonzero(variant_idx == v)
            fvi, _ = self.scorer.composite(self.pillars[v], weights[draws].T, self.variants[v][2])
            out[draws] = fvi.T
        return out


def centred_band(published: np.ndarray, q: list[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """p05/p50/p95 laid around the published score: its spread below and above the Monte Carlo median.

    The draws mix normalisations, imputations and aggregations, so their median can sit points away
    from the published configuration; the band keeps the Monte Carlo's width but is centred on
    the number the user sees (``fvi_mc_median`` keeps the draws' own median). Clipped to 0-100.
    """
    q05, q50, q95 = (np.asarray(v, dtype=float) for v in q)
    pub = np.asarray(published, dtype=float)
    ok = np.isfinite(pub) & np.isfinite(q50)
    lo = np.where(ok, np.clip(pub - (q50 - q05), 0.0, 100.0), q05)
    hi = np.where(ok, np.clip(pub + (q95 - q50), 0.0, 100.0), q95)
    mid = np.where(ok, pub, q50)
    return [np.minimum(lo, mid), mid, np.maximum(hi, mid)]


def run_uncertainty(
    scorer: Scorer, params: UncertaintyParams, entity_types: tuple[str, ...] | None = None, sobol: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(bands, sensitivity, summary) for each entity's latest as-of year (Sobol: the newest year)."""
    t0 = time.perf_counter()
    variants = params.variants()
    nominal_variant = (
        variants.index(("goalposts", "declared", scorer.spec.defaults.aggregation))
        if ("goalposts", "declared", scorer.spec.defaults.aggregation) in variants
        else 0
    )
    rng = np.random.default_rng(params.seed)
    shape = (len(params.normalisations), len(params.imputations), len(params.aggregations))
    choice = np.stack([rng.integers(k, size=params.draws) for k in shape], axis=1)
    variant_idx = np.asarray(np.ravel_multi_index(tuple(choice.T), shape))
    nominal = {pid: scorer.spec.weight_vector(w) for pid, w in params.personas.items()}
    mc_weights = {pid: _dirichlet(rng, w, params, params.draws) for pid, w in nominal.items()}

    problem = {"num_vars": len(FACTORS), "names": list(FACTORS), "bounds": [[0.0, 1.0]] * len(FACTORS)}
    x = sobol_sample.sample(problem, params.sobol_base_samples, calc_second_order=False, seed=params.seed)
    k_w = params.sobol_base_samples
    sobol_weights = {
        pid: _dirichlet(np.random.default_rng(params.seed + 1), w, params, k_w) for pid, w in nominal.items()
    }
    w_idx = np.minimum((x[:, 0] * k_w).astype(int), k_w - 1)
    s_choice = np.stack([np.minimum((x[:, i + 1] * k).astype(int), k - 1) for i, k in enumerate(shape)], axis=1)
    s_variant = np.asarray(np.ravel_multi_index(tuple(s_choice.T), shape))

    tasks = []
    for et in entity_types or tuple(scorer.panels):
        # every entity gets a band at its own latest year; ranks are drawn among entities of that
        # same year, and the Sobol indices come from the newest year (the one the rankings show)
        scored = scorer.scored_rows(et, next(iter(nominal.values()))) if nominal else None
        latest = scorer.panels[et].entity_latest_rows(scored)
        years = scorer.panels[et].keys["as_of_year"].to_numpy()[latest]
        for year in np.unique(years):
            rows = latest[years == year]
            with_sobol = sobol and year == years.max()
            for h in params.horizons:
                ev = _Evaluator(scorer, et, h, rows, variants)  # fills the scorer's caches before threads start
                tasks += [(et, h, rows, ev, pid, with_sobol) for pid in nominal]

    def one(task: tuple[str, str, np.ndarray, _Evaluator, str, bool]) -> tuple[pd.DataFrame, list[dict]]:
        et, h, rows, ev, pid, with_sobol = task
        keys = scorer.panels[et].keys.iloc[rows]
        # the published configuration is one of the draws, and the band is laid around it
        nom = ev.scores(np.array([nominal_variant]), nominal[pid][None, :])
        f = np.concatenate([nom, ev.scores(variant_idx, mc_weights[pid])])
        fq = _quantiles(np.ascontiguousarray(f.T), [0.05, 0.5, 0.95])
        rq = _quantiles(np.ascontiguousarray(_ranks(f).T), [0.05, 0.5, 0.95])
        mc_median = fq[1].copy()
        bq = centred_band(nom[0], fq)
        band = pd.DataFrame(
            {
                "entity_type": et,
                "entity_id": keys["entity_id"].to_numpy(),
                "as_of_year": keys["as_of_year"].to_numpy(),
                "horizon": h,
                "persona": pid,
                "fvi_p05": bq[0],
                "fvi_p50": bq[1],
                "fvi_p95": bq[2],
                "rank_p05": rq[0],
                "rank_p50": rq[1],
                "rank_p95": rq[2],
                "fvi_mc_median": mc_median,
            }
        )
        if not with_sobol:
            return band, []
        base = _ranks(ev.scores(np.array([nominal_variant]), nominal[pid][None, :]))[0]
        shift = np.abs(_ranks(ev.scores(s_variant, sobol_weights[pid][w_idx])) - base[None, :])
        scored = ~np.isnan(shift)
        y = np.where(scored.any(axis=1), np.where(scored, shift, 0).sum(axis=1) / np.maximum(scored.sum(axis=1), 1), 0)
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=params.seed)
        sens = [
            {
                "entity_type": et,
                "as_of_year": int(keys["as_of_year"].iloc[0]),
                "horizon": h,
                "persona": pid,
                "factor": factor,
                "output": "mean_abs_rank_shift",
                "s1": float(si["S1"][i]),
                "s1_conf": float(si["S1_conf"][i]),
                "st": float(si["ST"][i]),
                "st_conf": float(si["ST_conf"][i]),
                "n_evaluations": len(y),
                "n_entities": len(rows),
                "mean_output": float(y.mean()),
                "seed": params.seed,
            }
            for i, factor in enumerate(FACTORS)
        ]
        return band, sens

    with ThreadPoolExecutor(max_workers=max(1, min(len(tasks), os.cpu_count() or 1))) as pool:
        results = list(pool.map(one, tasks))  # NumPy sorts release the GIL; order is kept, so output is stable
    bands = [b for b, _ in results]
    sens = [row for _, rows_ in results for row in rows_]
    bands_frame = pd.concat(bands, ignore_index=True) if bands else pd.DataFrame()
    summary = {
        "seconds": round(time.perf_counter() - t0, 2),
        "draws": params.draws,
        "sobol_evaluations": len(x),
        "variants": len(variants),
    }
    return bands_frame, pd.DataFrame(sens), summary


def _dirichlet(rng: np.random.Generator, nominal: np.ndarray, params: UncertaintyParams, size: int) -> np.ndarray:
    """Weights around the nominal: alpha = concentration x P x w (pillars with weight 0 stay at 0)."""
    out = np.zeros((size, len(nominal)))
    live = nominal > 0
    alpha = params.dirichlet_concentration * live.sum() * nominal[live]
    out[:, live] = rng.dirichlet(alpha, size=size)
    return out
