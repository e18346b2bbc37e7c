"""Panels of metric values per entity type, and the scorer that turns them into pillars and the FVI.

A *panel* holds one entity type (mine or country) x as-of year, with raw values, the values after
the registry's missing-data rules, and a flag per cell. The *scorer* normalises, aggregates metrics
into pillars (a mine's pillars blend in its country's) and pillars into the FVI per horizon and
persona. Everything is vectorised over entities; alternatives (normalisation, imputation,
aggregation) are cached so the uncertainty analysis and what-if calls reuse them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from fvi import known
from fvi.registry.metrics import Metric
from fvi.registry.vocabulary import US_MINE_PREFIX, us_mine_id_sql
from fvi.scoring.aggregate import Aggregation, blend, weighted
from fvi.scoring.config import ScoringSpec
from fvi.scoring.impute import (
    EXCLUDED,
    FLAG_NAMES,
    IMPUTED,
    LINKED_PREFIX,
    MISSING,
    apply_missing_rules,
    without_imputation,
)
from fvi.scoring.normalise import Method, normalise

Imputation = str  # "declared" | "none"
KEY_COLUMNS = ["entity_id", "entity_name", "country_iso3", "status", "as_of_year"]
US_PREFIX = US_MINE_PREFIX
#: A country's status in the scores: whether it produces coal (``dim_country.is_coal_producer``).
COUNTRY_STATUS_SQL = "case when d.is_coal_producer then 'producer' else 'non_producer' end"
"""Entity ids of US (EIA) mines: ``MSHA`` + the MSHA mine id."""
ENTITY_METRICS = {"mine": "mine", "us_mine": "mine", "country": "country"}
"""Which registry metric set scores each entity type."""


def pillar_column(pillar_id: str) -> str:
    """The score-table column of a pillar: ``pillar_<id>``."""
    return f"pillar_{pillar_id}"


@dataclass
class Panel:
    """One entity type: keys [n] (KEY_COLUMNS) and metric matrices [n, M] in spec order."""

    entity_type: str
    keys: pd.DataFrame
    metrics: list[Metric]
    raw: np.ndarray
    values: np.ndarray
    flags: np.ndarray
    context_row: np.ndarray | None = None  # mines: row of the country panel (same iso3 and year), -1 if none

    def __len__(self) -> int:
        return len(self.keys)

    def column(self, metric_id: str) -> int:
        """The position of ``metric_id`` in the panel's metric axis; ValueError when the panel lacks it."""
        return [m.id for m in self.metrics].index(metric_id)

    def latest_rows(self) -> np.ndarray:
        """Row indices of the latest as-of year."""
        years = self.keys["as_of_year"].to_numpy()
        return np.flatnonzero(years == years.max()) if len(years) else np.array([], dtype=int)

    def entity_latest_rows(self, scored: np.ndarray | None = None) -> np.ndarray:
        """Row index of each entity's own latest scored as-of year.

        ``scored`` [n] says which rows are scored (default: any metric value to stand on). An
        entity last scored earlier keeps that year (the panel's later rows for it hold nothing).
        """
        if not len(self.keys):
            return np.array([], dtype=int)
        if scored is not None:
            has = np.asarray(scored, dtype=bool).copy()
        else:
            has = ~np.isnan(self.values).all(axis=1) if self.values.size else np.zeros(len(self.keys), bool)
            if self.context_row is not None:
                has |= self.context_row >= 0
        keys = self.keys.reset_index(drop=True)[has]
        order = keys.sort_values(["entity_id", "as_of_year"], kind="stable")
        return np.sort(order.drop_duplicates("entity_id", keep="last").index.to_numpy())


def _lookback(spec: ScoringSpec, entity_type: str) -> int:
    years = [
        m.missing_data.max_years or 0
        for m in spec.metrics.values()
        if m.entity == entity_type and m.missing_data.rule == "carry_forward_years"
    ]
    return max(years, default=0)


def _static(m: Metric, table_alias: str, year: str) -> str:
    """A metric read from ``dim_mine``, as known at ``year`` (:func:`fvi.known.dim_known_sql`)."""
    if m.gold.table != "dim_mine":
        return f"{table_alias}.{m.gold.column}"
    return known.dim_known_sql(m.gold.column, table_alias, year)


def load_frames(wh: Any, spec: ScoringSpec) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(country, GEM mine, US mine) frames from the gold tables, metric columns named by metric id.

    US (EIA) mines are keyed ``MSHA<id>`` and read each mine metric from its ``us_mine_column`` in
    ``fct_us_mine__yearly`` (static ``dim_mine`` metrics through the GEM crosswalk where there is one).
    """
    gold = wh.schema("gold")
    first = spec.defaults.scoring.as_of_from
    cm = [m for m in spec.metrics.values() if m.entity == "country"]
    dates = known.snapshot_dates(spec)
    cols = ", ".join(f"{known.snapshot_known_sql(m.gold.column, 'c', 'c.year', dates)} as {m.id}" for m in cm)
    dim_cols = set(wh.query(f"select * from {gold}.dim_country limit 0").columns)
    status = COUNTRY_STATUS_SQL if "is_coal_producer" in dim_cols else "cast(null as varchar)"
    countries = wh.query(
        "select c.iso3 as entity_id, d.country_name as entity_name, c.iso3 as country_iso3, "
        f"{status} as status, c.year, {cols} "
        f"from {gold}.fct_country__yearly c left join {gold}.dim_country d on d.iso3 = c.iso3 "
        f"where c.year >= {first - _lookback(spec, 'country')}"
    )
    mm = [m for m in spec.metrics.values() if m.entity == "mine"]
    alias = {"fct_mine__yearly": "f", "dim_mine": "d"}
    unknown = sorted({m.gold.table for m in mm} - set(alias))
    if unknown:
        raise ValueError(f"mine metrics read from unsupported gold tables {unknown}")
    mcols = ", ".join(f"{_static(m, alias[m.gold.table], 'f.year')} as {m.id}" for m in mm)
    # the same mine in EIA's files (MSHA IDs crosswalked to this GEM mine), same year, added up
    eia = [m for m in mm if m.us_mine_column]
    lcols = "".join(f", e.{m.id} as {LINKED_PREFIX}{m.id}" for m in eia)
    agg = {
        "production_mt": "sum(u.production_mt)",
        "average_employees": "sum(u.average_employees)",
        "productivity_t_per_worker": "case when sum(u.average_employees) > 0 then sum(u.production_mt) * 1000000 "
        "/ sum(u.average_employees) end",
    }
    ecols = ", ".join(f"{agg.get(str(m.us_mine_column), f'max(u.{m.us_mine_column})')} as {m.id}" for m in eia)
    linked_eia = (
        f"left join (select u.gem_mine_id, u.year, {ecols} from {gold}.fct_us_mine__yearly u "
        "where u.gem_mine_id is not null group by u.gem_mine_id, u.year) e "
        "on e.gem_mine_id = f.gem_mine_id and e.year = f.year"
        if eia else ""
    )
    mines = wh.query(
        f"select f.gem_mine_id as entity_id, d.mine_name as entity_name, d.country_iso3, d.status, f.year, {mcols}"
        f"{lcols} "
        f"from {gold}.fct_mine__yearly f join {gold}.dim_mine d on d.gem_mine_id = f.gem_mine_id {linked_eia} "
        f"where f.year >= {first - _lookback(spec, 'mine')}"
    )

    def us_col(m: Metric) -> str:
        if m.us_mine_column:
            return f"u.{m.us_mine_column}"
        return _static(m, "d", "u.year") if m.gold.table == "dim_mine" else "cast(null as double precision)"

    ucols = ", ".join(f"{us_col(m)} as {m.id}" for m in mm)
    # the same mine's GEM record for the same year, where the GEM mine is this one MSHA ID alone
    # (a GEM complex of several MSHA mines would lend each of them the whole complex's figures)
    yearly = [m for m in mm if m.gold.table == "fct_mine__yearly"]
    gcols = "".join(f", case when n.msha_ids = 1 then g.{m.gold.column} end as {LINKED_PREFIX}{m.id}" for m in yearly)
    us_mines = wh.query(
        f"select {us_mine_id_sql('u.msha_id')} as entity_id, u.mine_name as entity_name, "
        f"'USA' as country_iso3, lower(u.status) as status, u.year, {ucols}{gcols} "
        f"from {gold}.fct_us_mine__yearly u left join {gold}.dim_mine d on d.gem_mine_id = u.gem_mine_id "
        f"left join {gold}.fct_mine__yearly g on g.gem_mine_id = u.gem_mine_id and g.year = u.year "
        f"left join (select gem_mine_id, count(distinct msha_id) as msha_ids from {gold}.fct_us_mine__yearly "
        "group by gem_mine_id) n on n.gem_mine_id = u.gem_mine_id "
        f"where u.year >= {first - _lookback(spec, 'mine')}"
    )
    return countries, mines, us_mines


def _panel(
    frame: pd.DataFrame, metrics: list[Metric], entity_type: str, first_year: int, last_year: int, grid: bool
) -> Panel:
    frame = frame.copy()
    frame["year"] = frame["year"].astype(int)
    if "status" not in frame:
        frame["status"] = None
    if grid and len(frame):
        # a complete entity x year grid, so values carry forward into years a source has not reached yet
        fixed = ["entity_name", "country_iso3", "status"]
        names = frame.groupby("entity_id")[fixed].first()
        years = range(int(frame["year"].min()), last_year + 1)
        idx = pd.MultiIndex.from_product([names.index, years], names=["entity_id", "year"])
        frame = frame.set_index(["entity_id", "year"]).drop(columns=fixed)
        frame = frame[~frame.index.duplicated()].reindex(idx).reset_index()
        frame = frame.join(names, on="entity_id")
    for m in metrics:
        if m.id not in frame:
            frame[m.id] = np.nan
    frame = frame.sort_values(["entity_id", "year"], kind="stable").reset_index(drop=True)
    raw, values, flags = apply_missing_rules(frame, metrics, entity_col="entity_id", country_col="country_iso3")
    keep = (frame["year"] >= first_year).to_numpy()
    keys = frame.loc[keep, ["entity_id", "entity_name", "country_iso3", "status", "year"]]
    keys = keys.rename(columns={"year": "as_of_year"}).reset_index(drop=True)
    return Panel(entity_type, keys, metrics, raw[keep], values[keep], flags[keep])


def build_panels(
    countries: pd.DataFrame, mines: pd.DataFrame, spec: ScoringSpec, us_mines: pd.DataFrame | None = None
) -> dict[str, Panel]:
    """Panels for every entity type from frames shaped like :func:`load_frames` returns."""
    first = spec.defaults.scoring.as_of_from
    frames = [f for f in (countries, mines, us_mines) if f is not None and len(f)]
    last = int(max((f["year"].max() for f in frames), default=first))
    by_type = {et: [spec.metrics[i] for i in spec.entities[et].metric_ids] for et in spec.entities}
    country = _panel(countries, by_type["country"], "country", first, last, grid=True)
    where = pd.Series(
        np.arange(len(country)), index=pd.MultiIndex.from_frame(country.keys[["entity_id", "as_of_year"]])
    )
    panels = {"country": country}
    for et, frame in (("mine", mines), ("us_mine", us_mines)):
        if frame is None or frame.empty:
            continue
        panel = _panel(frame, by_type["mine"], et, first, last, grid=False)
        probe = pd.MultiIndex.from_arrays([panel.keys["country_iso3"], panel.keys["as_of_year"]])
        panel.context_row = where.reindex(probe).fillna(-1).astype(np.int64).to_numpy()
        panels[et] = panel
    return {k: panels[k] for k in ("mine", "us_mine", "country") if k in panels}


@dataclass
class Scorer:
    """Scores panels under any modelling choice; results are cached per choice."""

    spec: ScoringSpec
    panels: dict[str, Panel]
    _scores: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict, repr=False)
    _pillars: dict[tuple[str, str, str, str, str], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def floor(self) -> float:
        """The floor applied to scores before geometric aggregation (0 would annihilate the product)."""
        return self.spec.defaults.scoring.geometric_floor

    def metric_scores(
        self, entity_type: str, method: Method = "goalposts", imputation: Imputation = "declared"
    ) -> np.ndarray:
        """[n, M] normalised scores; min-max and rank are taken within each as-of year."""
        key = (entity_type, method, imputation)
        if key not in self._scores:
            panel = self.panels[entity_type]
            values = panel.values if imputation == "declared" else without_imputation(panel.values, panel.flags)
            rule = self.spec.defaults.scoring.winsorisation
            out = np.full(values.shape, np.nan)
            if method == "goalposts":
                for j, m in enumerate(panel.metrics):
                    out[:, j] = normalise(values[:, j], m, method, rule)
            else:
                years = panel.keys["as_of_year"].to_numpy()
                for year in np.unique(years):
                    rows = np.flatnonzero(years == year)
                    for j, m in enumerate(panel.metrics):
                        out[rows, j] = normalise(values[rows, j], m, method, rule)
            self._scores[key] = out
        return self._scores[key]

    def pillar_scores(
        self,
        entity_type: str,
        horizon: str,
        method: Method = "goalposts",
        imputation: Imputation = "declared",
        aggregation: Aggregation = "arithmetic",
    ) -> np.ndarray:
        """[n, P] pillar scores in spec pillar order (NaN where a pillar has nothing to stand on)."""
        key = (entity_type, horizon, method, imputation, aggregation)
        if key not in self._pillars:
            espec = self.spec.entities[ENTITY_METRICS[entity_type]]
            weights = espec.weight_matrix(horizon, len(self.spec.pillar_ids))
            own, _ = weighted(self.metric_scores(entity_type, method, imputation), weights, aggregation, self.floor)
            panel = self.panels[entity_type]
            if panel.context_row is not None:
                country = self.pillar_scores("country", horizon, method, imputation, aggregation)
                ctx = np.full(own.shape, np.nan)
                ok = panel.context_row >= 0
                ctx[ok] = country[panel.context_row[ok]]
                own = blend(own, ctx, self.spec.blend, aggregation, self.floor)
            self._pillars[key] = own
        return self._pillars[key]

    def composite(
        self, pillars: np.ndarray, weights: np.ndarray, aggregation: Aggregation = "arithmetic"
    ) -> tuple[np.ndarray, np.ndarray]:
        """(FVI [n, K], coverage [n, K]) for pillar weights [P] or [P, K]; FVI is NaN below the coverage floor."""
        w = weights[:, None] if weights.ndim == 1 else weights
        fvi, present = weighted(pillars, w, aggregation, self.floor)
        coverage = present / w.sum(axis=0)
        fvi[coverage < self.spec.defaults.scoring.min_pillar_coverage] = np.nan
        return fvi, coverage

    def scored_rows(self, entity_type: str, weights: np.ndarray) -> np.ndarray:
        """[n] rows with a published FVI at any horizon under ``weights`` (the coverage floor met)."""
        agg = self.spec.defaults.aggregation
        out = np.zeros(len(self.panels[entity_type]), dtype=bool)
        for h in self.spec.horizons:
            fvi, _ = self.composite(self.pillar_scores(entity_type, h, "goalposts", "declared", agg), weights, agg)
            out |= np.isfinite(fvi[:, 0])
        return out

    def rankable(self, entity_type: str) -> np.ndarray:
        """[n] whether a row takes part in the global and in-country ranks.

        Closed mines and non-producing countries do not (``defaults.scoring.unranked_statuses``).
        """
        unranked = {u.lower() for u in self.spec.defaults.scoring.unranked_statuses}
        status = pd.Series(self.panels[entity_type].keys["status"]).astype("string").str.lower()
        return ~status.isin(unranked).to_numpy()

    def imputed_share(self, entity_type: str) -> np.ndarray:
        """[n] share of the metrics behind a score that were imputed (a mine's country metrics included)."""

        def counts(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
            used = (panel.flags != MISSING) & (panel.flags != EXCLUDED)
            return np.isin(panel.flags, IMPUTED).sum(axis=1), used.sum(axis=1)

        panel = self.panels[entity_type]
        imp, used = counts(panel)
        if panel.context_row is not None:
            c_imp, c_used = counts(self.panels["country"])
            ok = panel.context_row >= 0
            imp = imp + np.where(ok, c_imp[np.maximum(panel.context_row, 0)], 0)
            used = used + np.where(ok, c_used[np.maximum(panel.context_row, 0)], 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(used > 0, imp / np.maximum(used, 1), np.nan)

    def score_frame(
        self,
        personas: Mapping[str, Mapping[str, float]],
        *,
        horizons: list[str] | None = None,
        aggregation: Aggregation | None = None,
        entity_types: tuple[str, ...] | None = None,
        rows: Mapping[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """One row per scored entity x as-of year x horizon x persona, with pillars, ranks and percentiles.

        Ranks (1 = most viable) and percentiles (share scoring at or below, 0-100) are taken within
        entity type x as-of year x horizon x persona, globally and (mines) per country and per status.
        Text columns come back as pandas categoricals (the frame has ~10^6 rows; strings would
        dominate the time).
        """
        agg: Aggregation = aggregation or self.spec.defaults.aggregation
        weights = {pid: self.spec.weight_vector(w) for pid, w in personas.items()}
        w = np.stack(list(weights.values()), axis=1)
        nums: dict[str, list[np.ndarray]] = {}
        cats: dict[str, list[Any]] = {}

        def put(name: str, value: np.ndarray) -> None:
            nums.setdefault(name, []).append(value)

        def label(name: str, value: str, n: int) -> None:
            cats.setdefault(name, []).append(pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), pd.Index([value])))

        for et in entity_types or tuple(self.panels):
            panel = self.panels[et]
            sel = rows[et] if rows is not None and et in rows else np.arange(len(panel))
            keys = {c: panel.keys[c].to_numpy()[sel] for c in KEY_COLUMNS}
            coded = {c: pd.factorize(keys[c]) for c in KEY_COLUMNS if c != "as_of_year"}
            share = self.imputed_share(et)[sel]
            year_code = pd.factorize(keys["as_of_year"])[0]
            group_codes = {"": year_code}
            rankable = self.rankable(et)[sel]
            if et != "country":
                group_codes["_in_country"] = pd.factorize(
                    pd.MultiIndex.from_arrays([year_code, keys["country_iso3"]])
                )[0]
                group_codes["_in_status"] = pd.factorize(pd.MultiIndex.from_arrays([year_code, keys["status"]]))[0]
            for h in horizons or self.spec.horizons:
                pillars = self.pillar_scores(et, h, "goalposts", "declared", agg)[sel]
                fvi, coverage = self.composite(pillars, w, agg)
                for k, pid in enumerate(weights):
                    ok = np.flatnonzero(~np.isnan(fvi[:, k]))
                    n = len(ok)
                    label("entity_type", et, n)
                    for c, (codes, uniques) in coded.items():
                        cats.setdefault(c, []).append(pd.Categorical.from_codes(codes[ok], pd.Index(uniques)))
                    put("as_of_year", keys["as_of_year"][ok].astype(np.int64))
                    label("horizon", h, n)
                    label("persona", pid, n)
                    label("aggregation", agg, n)
                    put("fvi", fvi[ok, k])
                    for j, p in enumerate(self.spec.pillar_ids):
                        put(pillar_column(p), pillars[ok, j])
                    put("pillar_coverage", coverage[ok, k])
                    put("imputed_share", share[ok])
                    for suffix in ("", "_in_country", "_in_status"):
                        if suffix == "_in_status" and suffix in group_codes:
                            rank, pct = group_ranks(fvi[ok, k], group_codes[suffix][ok])
                        elif suffix in group_codes:
                            # closed mines and non-producers are never ranked among the viable
                            rank, pct = np.full(n, np.nan), np.full(n, np.nan)
                            sub = rankable[ok]
                            if sub.any():
                                rank[sub], pct[sub] = group_ranks(fvi[ok, k][sub], group_codes[suffix][ok][sub])
                        else:
                            rank, pct = np.full(n, np.nan), np.full(n, np.nan)
                        put(f"rank{suffix}", rank)
                        put(f"percentile{suffix}", pct)
        columns: dict[str, Any] = {}
        order = ["entity_type", *KEY_COLUMNS, "horizon", "persona", "aggregation"]
        for c in order:
            columns[c] = np.concatenate(nums[c]) if c in nums else union_categoricals(cats[c])
        columns.update({c: np.concatenate(v) for c, v in nums.items() if c not in columns})
        frame = pd.DataFrame(columns)
        for c in ("rank", "rank_in_country", "rank_in_status"):
            frame[c] = frame[c].astype("Int64") if len(frame) else frame[c]
        return frame


def group_ranks(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within each group: rank (1 = highest; ties share the best rank) and percentile (share <= value, 0-100)."""
    n = len(values)
    if n == 0:
        return np.empty(0), np.empty(0)
    order = np.lexsort((-values, groups))
    v, g = values[order], groups[order]
    idx = np.arange(n)
    new_group = np.r_[True, g[1:] != g[:-1]]
    new_run = new_group | np.r_[True, v[1:] != v[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0))
    size = np.bincount(groups)[g]
    rank_sorted = (run_start - group_start + 1).astype(float)
    rank = np.empty(n)
    pct = np.empty(n)
    rank[order] = rank_sorted
    pct[order] = (size - rank_sorted + 1) / size * 100.0
    return rank, pct


def metric_frame(scorer: Scorer) -> pd.DataFrame:
    """Long table: every metric cell behind the scores, raw and used value, score and imputation flag."""
    out = []
    for et, panel in scorer.panels.items():
        s = scorer.metric_scores(et)
        n, m = panel.values.shape
        block = pd.DataFrame(
            {
                "entity_type": et,
                "entity_id": np.repeat(panel.keys["entity_id"].to_numpy(), m),
                "as_of_year": np.repeat(panel.keys["as_of_year"].to_numpy(), m),
                "metric_id": np.tile([x.id for x in panel.metrics], n),
                "pillar": np.tile([x.pillar for x in panel.metrics], n),
                "raw_value": panel.raw.ravel(),
                "value_used": panel.values.ravel(),
                "score": s.ravel(),
                "imputation": np.array(list(FLAG_NAMES.values()), dtype=object)[panel.flags.ravel()],
            }
        )
        out.append(block[block["imputation"] != "missing"])
    return pd.concat(out, ignore_index=True)
