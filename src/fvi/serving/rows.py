"""The latest feature row of every mine (GEM and US) and country, held in memory for online predictions.

Rows come from a gold table of model features when the build has one (``FEATURES_TABLE``: one row per
entity, as-of year and feature horizon), else they are computed from the warehouse with the ML
layer's own functions (:mod:`fvi.ml.features`), so serving sees exactly the features training saw.
Computing takes seconds on the real build, so finished rows are kept per (warehouse, build) for the
life of the process: a second app on the same build (tests, a reload) reuses them.

Credible intervals of the hierarchical Bayesian model (``fvi_predictions_bayes``) are read with the
rows, for the same as-of year.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fvi.warehouse import Warehouse

log = logging.getLogger(__name__)

KEYS = ["entity_type", "entity_id", "as_of_year"]
GROUPS: dict[str, tuple[str, ...]] = {"mine": ("mine", "us_mine"), "country": ("country",)}
"""Entity group (what a model's ``entity`` says) -> the entity types it scores."""
GROUP_OF = {t: g for g, types in GROUPS.items() for t in types}
FEATURES_TABLE = "fvi_model_features"
BAYES_TABLE = "fvi_predictions_bayes"
MEMO_BUILDS = 2

Interval = tuple[int, float, float, float, str]
"""(as_of_year, p_mean, p_lo, p_hi, model) of P(viable)."""


@dataclass(frozen=True)
class FeatureRows:
    """Feature frames of one build: per (group, feature horizon), one row per entity in a fixed order."""

    build: str
    frames: dict[tuple[str, str], pd.DataFrame]
    index: dict[str, dict[tuple[str, str], int]]
    years: dict[str, list[int]]
    intervals: dict[tuple[str, str, str], Interval] = field(default_factory=dict)
    seconds: float = 0.0
    source: str = "computed"

    def count(self, entity_type: str) -> int:
        """How many entities of ``entity_type`` (``mine``, ``us_mine`` or ``country``) have a feature row."""
        group = GROUP_OF.get(entity_type)
        return sum(1 for t, _ in self.index.get(group or "", {}) if t == entity_type)


def _latest(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One key per entity: its latest as-of year over every frame, ordered by (type, id)."""
    keys = pd.concat([f[KEYS] for f in frames], ignore_index=True).drop_duplicates()
    keys["as_of_year"] = keys["as_of_year"].astype("int64")
    latest = keys.groupby(["entity_type", "entity_id"])["as_of_year"].max().reset_index()
    return latest.sort_values(["entity_type", "entity_id"], kind="stable").reset_index(drop=True)


def _assemble(
    build: str, by_horizon: Mapping[str, Mapping[str, pd.DataFrame]], source: str, started: float
) -> FeatureRows:
    """Align every horizon's frame of a group on the group's latest keys."""
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    index: dict[str, dict[tuple[str, str], int]] = {}
    years: dict[str, list[int]] = {}
    for group, per_h in by_horizon.items():
        if not per_h:
            continue
        latest = _latest(per_h.values())
        for h, f in per_h.items():
            f = f.assign(as_of_year=f["as_of_year"].astype("int64")).drop_duplicates(KEYS)
            frames[(group, h)] = latest.merge(f, on=KEYS, how="left")
        index[group] = {
            (str(t), str(e)): i for i, (t, e) in enumerate(zip(latest["entity_type"], latest["entity_id"], strict=True))
        }
        years[group] = [int(y) for y in latest["as_of_year"]]
    return FeatureRows(build, frames, index, years, seconds=time.perf_counter() - started, source=source)


def _from_table(wh: Warehouse, needs: Mapping[str, set[str]]) -> dict[str, dict[str, pd.DataFrame]]:
    """Rows of ``gold.fvi_model_features`` (KEYS, horizon, feature columns), latest year per entity only."""
    gold = wh.schema("gold")
    frame = wh.query(
        f"select f.* from {gold}.{FEATURES_TABLE} f join (select entity_type, entity_id, max(as_of_year) as y "
        f"from {gold}.{FEATURES_TABLE} group by 1, 2) l on f.entity_type = l.entity_type "
        "and f.entity_id = l.entity_id and f.as_of_year = l.y"
    )
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for group, horizons in needs.items():
        mine = frame[frame["entity_type"].isin(GROUPS[group])]
        out[group] = {h: mine[mine["horizon"] == h].drop(columns="horizon") for h in horizons}
    return out


def _computed(wh: Warehouse, needs: Mapping[str, set[str]]) -> dict[str, dict[str, pd.DataFrame]]:
    """Features of every scored entity-year from :mod:`fvi.ml.features` (the training code path)."""
    from fvi.ml import features as F

    types = (*F.MINE_TYPES, "country")  # mine composites blend country pillars: countries always load
    cells = F.load_cells(wh, types)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    if needs.get("mine"):
        out["mine"] = F.mine_features_at(wh, sorted(needs["mine"]), cells=cells)
    if needs.get("country"):
        out["country"] = F.country_features_at(wh, sorted(needs["country"]), cells=cells)
    return out


def _intervals(wh: Warehouse, rows: FeatureRows) -> dict[tuple[str, str, str], Interval]:
    """Bayesian P(viable) intervals at each entity's serving as-of year."""
    if not wh.has_table("gold", BAYES_TABLE):
        return {}
    bayes = wh.query(
        f"select entity_type, entity_id, as_of_year, horizon, p_mean, p_lo, p_hi, model from {wh.schema('gold')}."
        f"{BAYES_TABLE}"
    )
    out: dict[tuple[str, str, str], Interval] = {}
    records: list[dict[Any, Any]] = bayes.to_dict("records")
    for r in records:
        etype, eid, horizon = str(r["entity_type"]), str(r["entity_id"]), str(r["horizon"])
        group = GROUP_OF.get(etype, "")
        i = rows.index.get(group, {}).get((etype, eid))
        values = [r["p_mean"], r["p_lo"], r["p_hi"]]
        if i is None or rows.years[group][i] != int(r["as_of_year"]) or not all(np.isfinite(values)):
            continue
        out[(etype, eid, horizon)] = (int(r["as_of_year"]), *(float(v) for v in values), str(r["model"]))  # type: ignore[assignment]
    return out


def load_rows(wh: Warehouse, build: str, needs: Mapping[str, set[str]]) -> FeatureRows:
    """Feature rows for ``needs`` (group -> feature horizons) from the warehouse ``wh`` of build ``build``."""
    started = time.perf_counter()
    if wh.has_table("gold", FEATURES_TABLE):
        by_h, source = _from_table(wh, needs), f"gold.{FEATURES_TABLE}"
    else:
        by_h, source = _computed(wh, needs), "computed (fvi.ml.features)"
    rows = _assemble(build, by_h, source, started)
    rows = FeatureRows(
        rows.build,
        rows.frames,
        rows.index,
        rows.years,
        _intervals(wh, rows),
        seconds=time.perf_counter() - started,
        source=source,
    )
    log.info(
        "serving: feature rows of build %s (%s) for %s in %.2f s",
        build,
        source,
        ", ".join(f"{g}: {len(ix)}" for g, ix in rows.index.items()),
        rows.seconds,
    )
    return rows


# ---------------------------------------------------------------------------------------------
# Per-process memo


_memo: OrderedDict[tuple[Any, ...], FeatureRows] = OrderedDict()
_memo_lock = threading.Lock()


def _needs_key(needs: Mapping[str, set[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((g, tuple(sorted(hs))) for g, hs in needs.items() if hs))


def cached_rows(where: str, wh: Warehouse, build: str, needs: Mapping[str, set[str]]) -> FeatureRows:
    """:func:`load_rows` once per (warehouse ``where``, build, needs) in this process (last builds kept)."""
    key = (where, build, _needs_key(needs))
    with _memo_lock:  # one computation at a time: a second caller waits and reuses it
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
            return hit
        rows = load_rows(wh, build, needs)
        _memo[key] = rows
        while len(_memo) > MEMO_BUILDS:
            _memo.popitem(last=False)
        return rows


def forget_rows() -> None:
    """Drop the memo (tests)."""
    with _memo_lock:
        _memo.clear()
