"""Model features per entity and as-of year, built only from what was known in that year.

One fixed feature list serves US (EIA) and GEM mines, so one model scores both; another serves
countries. Features come from the scoring layer's metric cells (score, raw value, imputation flag),
pillar scores and the FVI, plus history trends (US mine production, country coal production).

Time rule (METHODOLOGY rule 8, stated once in :mod:`fvi.known`): a feature for as-of year t may
only use data dated <= t. Two kinds
of gold data are dated later than the row they sit on, and are masked here before anything is
derived from them:

* country snapshots attached to every year (COP26 pledge and PPCA membership as of 2021, phase-out
  year as of 2021, mining land as of 2020; dated by the registry's ``known_from_column``);
* GEM tracker attributes (``dim_mine``: opening year; not the fixed facts such as mine type) read
  by any mine row older than the tracker release. For US mines this matters twice: the attribute
  only exists where the mine is crosswalked to the 2024 release, and being in that release is
  itself evidence of survival (in the real samples 65 % of crosswalked mines produce five years
  on against 21 % of the rest).

Because masking changes metric cells, pillar scores and the FVI are recomputed from the remaining
metric scores with the registry's weights and the scoring engine's own aggregation functions; on
rows where nothing is masked they equal ``fvi_scores`` exactly (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

from fvi import known
from fvi.outcomes import assert_no_leakage
from fvi.registry.vocabulary import DEFAULT_PERSONA, us_mine_ids
from fvi.scoring.aggregate import blend, weighted
from fvi.scoring.config import ScoringSpec, load_personas
from fvi.scoring.engine import Scorer, pillar_column
from fvi.scoring.impute import FLAG_NAMES, IMPUTED
from fvi.warehouse import Warehouse

KEYS = ["entity_type", "entity_id", "as_of_year"]
MINE_TYPES = ("us_mine", "mine")
FEATURE_PERSONA = DEFAULT_PERSONA
"""Pillar weights behind the recomputed FVI feature (equal weights; the scores table's default view)."""

IMPUTED_FLAGS = tuple(FLAG_NAMES[f] for f in IMPUTED)
LOG_RAW_MINE = (
    "mine_production_mt",
    "mine_workforce_size",
    "mine_productivity_t_per_worker",
    "mine_capacity_mtpa",
    "mine_reserves_mt",
    "mine_cmm_estimate_t_ch4",
    "mine_ct_emissions_t_co2e",
)
LOG_RAW_COUNTRY = (
    "country_coal_production_twh",
    "country_coal_consumption_twh",
    "country_coal_plant_operating_capacity_mw",
)
MINE_HISTORY = (
    "mine_age_years",
    "is_underground",
    "is_producing",
    "prod_log_change_1y",
    "prod_log_change_3y",
    "emp_log_change_1y",
    "years_producing",
    "years_since_first_seen",
    "producing_share_3y",
    "productivity_t_per_hour",
)
US_ONLY_FEATURES = (
    "is_producing",
    "prod_log_change_1y",
    "prod_log_change_3y",
    "emp_log_change_1y",
    "years_producing",
    "years_since_first_seen",
    "producing_share_3y",
    "productivity_t_per_hour",
)
"""Mine features only the yearly EIA history gives; GEM mines never have them (NaN)."""
COUNTRY_HISTORY = (
    "prod_log_change_1y",
    "prod_log_change_5y",
    "prod_log_change_10y",
    "prod_share_of_peak",
    "years_since_peak",
    "cons_log_change_5y",
    "coal_elec_share_change_5y",
)


# ---------------------------------------------------------------------------------------------
# Feature lists (fixed, from the registry)


@lru_cache(maxsize=1)
def _spec() -> ScoringSpec:
    return ScoringSpec.from_registry()


def _composite_columns(spec: ScoringSpec) -> list[str]:
    return [*(pillar_column(p) for p in spec.pillar_ids), "fvi", "pillar_coverage"]


def mine_feature_names(spec: ScoringSpec | None = None) -> list[str]:
    """The fixed, ordered mine feature list (US and GEM mines alike; NaN where a type has nothing)."""
    spec = spec or _spec()
    ids = spec.entities["mine"].metric_ids
    return [
        *(f"score_{m}" for m in ids),
        *(f"log_{m}" for m in LOG_RAW_MINE if m in ids),
        *(f"imputed_{m}" for m in ids),
        *_composite_columns(spec),
        *MINE_HISTORY,
    ]


def country_feature_names(spec: ScoringSpec | None = None) -> list[str]:
    """The fixed, ordered country feature list."""
    spec = spec or _spec()
    ids = spec.entities["country"].metric_ids
    return [
        *(f"score_{m}" for m in ids),
        *(f"log_{m}" for m in LOG_RAW_COUNTRY if m in ids),
        *(f"imputed_{m}" for m in ids),
        *_composite_columns(spec),
        *COUNTRY_HISTORY,
    ]


# ---------------------------------------------------------------------------------------------
# Metric cells with their data year, masked when dated after the row


def date_cells(
    cells: pd.DataFrame,
    spec: ScoringSpec,
    *,
    country_snapshots: pd.DataFrame | None = None,
    mine_release_year: pd.Series | None = None,
    gem_release_year: int | None = None,
) -> pd.DataFrame:
    """Add ``data_year`` to metric cells: the year of the data a cell rests on.

    A cell's data year is its as-of year (observed, carried forward from earlier years, or filled
    from same-year medians) unless its source is a dated snapshot: country snapshot columns take
    the snapshot's date (``country_snapshots``: iso3, year, <asof columns>; a filled cell takes the
    latest date of that snapshot); mine metrics read from ``dim_mine`` take the tracker release
    year (``mine_release_year`` by GEM mine id; US mines, which read them through the crosswalk,
    take ``gem_release_year``).
    """
    out = cells.copy()
    out["data_year"] = out["as_of_year"].astype("float64")
    by_metric = {m.id: m for m in spec.metrics.values()}
    gold_col = out["metric_id"].map({k: m.gold.column for k, m in by_metric.items()})
    gold_table = out["metric_id"].map({k: m.gold.table for k, m in by_metric.items()})
    us_col = out["metric_id"].map({k: m.us_mine_column for k, m in by_metric.items()})

    if country_snapshots is not None and len(country_snapshots):
        is_country = out["entity_type"].eq("country")
        for col, asof_col in known.snapshot_dates(spec).items():
            if asof_col not in country_snapshots.columns:
                raise ValueError(f"fct_country__yearly has no {asof_col} (date of {col})")
            sel = is_country & gold_col.eq(col)
            if not sel.any():
                continue
            dates = country_snapshots.set_index(["iso3", "year"])[asof_col]
            dates = dates[~dates.index.duplicated()]
            idx = pd.MultiIndex.from_arrays([out.loc[sel, "entity_id"], out.loc[sel, "as_of_year"]])
            # nullable Int columns (e.g. from the synthetic world) become float so NA is NaN
            found = pd.to_numeric(dates.reindex(idx), errors="coerce").astype("float64").to_numpy()
            latest = float(pd.to_numeric(country_snapshots[asof_col], errors="coerce").astype("float64").max())
            found = np.where(np.isnan(found), latest, found)
            out.loc[sel, "data_year"] = np.fmax(out.loc[sel, "data_year"].astype("float64").to_numpy(), found)

    fixed = gold_col.map(lambda c: known.is_fixed(str(c))).astype(bool)
    from_dim = gold_table.eq("dim_mine") & ~fixed
    gem = out["entity_type"].eq("mine") & from_dim
    if gem.any() and mine_release_year is not None:
        rel = out.loc[gem, "entity_id"].map(mine_release_year).astype("float64")
        out.loc[gem, "data_year"] = np.fmax(out.loc[gem, "data_year"], rel.fillna(gem_release_year or np.nan))
    us = out["entity_type"].eq("us_mine") & us_col.isna() & ~fixed
    if us.any() and gem_release_year is not None:
        out.loc[us, "data_year"] = np.fmax(out.loc[us, "data_year"], float(gem_release_year))
    return out


def mask_future(cells: pd.DataFrame) -> pd.DataFrame:
    """Drop cells whose data year is after their as-of year (not knowable then)."""
    return cells[~(cells["data_year"] > cells["as_of_year"])].reset_index(drop=True)


def load_cells(wh: Warehouse, entity_types: Iterable[str], spec: ScoringSpec | None = None) -> pd.DataFrame:
    """Metric cells of ``entity_types`` from ``fvi_metric_scores``, dated and masked (time-correct)."""
    spec = spec or _spec()
    gold = wh.schema("gold")
    types = ", ".join(f"'{t}'" for t in entity_types)
    cells = wh.query(
        f"select entity_type, entity_id, as_of_year, metric_id, raw_value, score, imputation "
        f"from {gold}.fvi_metric_scores where entity_type in ({types})"
    )
    cells["as_of_year"] = cells["as_of_year"].astype("int64")
    snaps = None
    if "country" in entity_types:
        cols = ", ".join(sorted(set(known.snapshot_dates(spec).values())))
        snaps = wh.query(f"select iso3, year, {cols} from {gold}.fct_country__yearly")
    release = None
    latest_release: int | None = None
    if any(t in MINE_TYPES for t in entity_types) and wh.has_table("gold", "dim_mine"):
        dim = wh.query(f"select gem_mine_id, latest_release from {gold}.dim_mine")
        release = known.release_year(dim["latest_release"])
        release.index = dim["gem_mine_id"]
        latest_release = int(release.max()) if release.notna().any() else None
    dated = date_cells(cells, spec, country_snapshots=snaps, mine_release_year=release, gem_release_year=latest_release)
    return mask_future(dated)


# ---------------------------------------------------------------------------------------------
# Pillars and FVI from (masked) metric scores


def _matrix(cells: pd.DataFrame, keys: pd.DataFrame, metric_ids: list[str], value: str) -> np.ndarray:
    """[len(keys), M] of ``value`` for the given keys (NaN where a cell is absent)."""
    wide = cells.set_index([*KEYS, "metric_id"])[value].unstack("metric_id").reindex(columns=metric_ids)
    idx = pd.MultiIndex.from_frame(keys[KEYS])
    return wide.reindex(idx).to_numpy(dtype="float64")


def recompute_composites(
    cells: pd.DataFrame,
    keys: pd.DataFrame,
    horizon: str,
    *,
    spec: ScoringSpec | None = None,
    country_cells: pd.DataFrame | None = None,
    country_keys: pd.DataFrame | None = None,
    persona: str = FEATURE_PERSONA,
) -> pd.DataFrame:
    """Pillar scores, FVI and pillar coverage for ``keys`` (KEYS + country_iso3) at ``horizon``.

    Same arithmetic as the scoring engine (weighted means that skip missing scores, a mine's
    pillars blended with its country's, the coverage floor), on whatever cells survived masking.
    """
    spec = spec or _spec()
    agg = spec.defaults.aggregation
    floor = spec.defaults.scoring.geometric_floor
    n_p = len(spec.pillar_ids)
    kind = "country" if (keys["entity_type"] == "country").all() else "mine"
    espec = spec.entities[kind]
    scores = _matrix(cells, keys, espec.metric_ids, "score")
    pillars, _ = weighted(scores, espec.weight_matrix(horizon, n_p), agg, floor)
    if kind == "mine":
        if country_cells is None or country_keys is None:
            raise ValueError("mine composites need the country cells and keys (a mine's pillars blend its country's)")
        ctx_frame = recompute_composites(country_cells, country_keys, horizon, spec=spec, persona=persona)
        ctx_idx = pd.MultiIndex.from_frame(ctx_frame[["entity_id", "as_of_year"]])
        probe = pd.MultiIndex.from_arrays([keys["country_iso3"], keys["as_of_year"]])
        pcols = [pillar_column(p) for p in spec.pillar_ids]
        ctx = ctx_frame.set_index(ctx_idx)[pcols].reindex(probe).to_numpy(dtype="float64")
        pillars = blend(pillars, ctx, spec.blend, agg, floor)
    weights = spec.weight_vector(load_personas()[persona].weights)
    fvi, coverage = Scorer(spec, {}).composite(pillars, weights, agg)
    out = keys[KEYS].reset_index(drop=True).copy()
    for j, p in enumerate(spec.pillar_ids):
        out[pillar_column(p)] = pillars[:, j]
    out["fvi"] = fvi[:, 0]
    out["pillar_coverage"] = coverage[:, 0]
    return out


# ---------------------------------------------------------------------------------------------
# History trends (strictly up to t)


def _log1p(x: pd.Series | np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(np.asarray(x, dtype="float64"), 0, None))


def us_mine_history(panel: pd.DataFrame) -> pd.DataFrame:
    """Production history features per (msha_id, year) from ``fct_us_mine__yearly`` rows up to that year.

    EIA lists every mine with production or employment, so a mine absent from a covered year
    produced nothing and employed no one that year; years before the panel are unknown (NaN).
    Only earlier rows of the same mine enter a row (shifts and running sums), never later ones.
    """
    cols = ["msha_id", "year", "production_mt", "average_employees", "labor_hours", "is_producing", "mine_type"]
    p = panel[cols].copy()
    p["msha_id"] = pd.to_numeric(p["msha_id"]).astype("int64")
    p["year"] = pd.to_numeric(p["year"]).astype("int64")
    if p.empty:
        return pd.DataFrame(columns=["msha_id", "year", *MINE_HISTORY])
    years = range(int(p["year"].min()), int(p["year"].max()) + 1)
    covered = set(p["year"].unique().tolist())
    grid = pd.MultiIndex.from_product([sorted(p["msha_id"].unique()), years], names=["msha_id", "year"])
    g = p.set_index(["msha_id", "year"]).reindex(grid).reset_index()
    in_panel = g["production_mt"].notna() | g["is_producing"].notna()
    is_cov = g["year"].isin(covered)
    absent = pd.Series(np.where(is_cov, 0.0, np.nan), index=g.index)  # covered year, not listed: nothing
    prod = g["production_mt"].astype("float64").where(in_panel, absent)
    emp = g["average_employees"].astype("float64").where(in_panel, absent)
    producing = g["is_producing"].astype("boolean").fillna(False).astype(float).where(is_cov, np.nan)
    lp, le = pd.Series(_log1p(prod * 1e6)), pd.Series(_log1p(emp))  # log tonnes: changes are ratios
    by = g["msha_id"]
    seen_year = g["year"].where(in_panel)
    first_seen = seen_year.groupby(by).cummin()
    hours = g["labor_hours"].astype("float64")
    mine_type = g["mine_type"].astype("string").str.lower()
    share_3y = producing.groupby(by).rolling(3, min_periods=1).mean().reset_index(level=0, drop=True)
    out = pd.DataFrame(
        {
            "msha_id": g["msha_id"],
            "year": g["year"],
            "mine_age_years": np.nan,  # opening years come from the GEM tracker: dated after every EIA year
            "is_underground": mine_type.map({"underground": 1.0, "surface": 0.0, "refuse": 0.0}).astype("float64"),
            "is_producing": producing,
            "prod_log_change_1y": lp - lp.groupby(by).shift(1),
            "prod_log_change_3y": lp - lp.groupby(by).shift(3),
            "emp_log_change_1y": le - le.groupby(by).shift(1),
            "years_producing": producing.fillna(0).groupby(by).cumsum(),
            "years_since_first_seen": g["year"] - first_seen,
            "producing_share_3y": share_3y,
            "productivity_t_per_hour": np.where(hours > 0, g["production_mt"] * 1e6 / hours, np.nan),
        }
    )
    return out[in_panel.to_numpy()].reset_index(drop=True)


def country_history(panel: pd.DataFrame) -> pd.DataFrame:
    """Coal production and consumption trends per (iso3, year) from rows up to that year."""
    cols = ["iso3", "year", "coal_production_twh", "coal_consumption_twh", "coal_share_of_electricity_pct"]
    p = panel[cols].copy()
    p["year"] = pd.to_numeric(p["year"]).astype("int64")
    p = p.drop_duplicates(["iso3", "year"])
    if p.empty:
        return pd.DataFrame(columns=["iso3", "year", *COUNTRY_HISTORY])
    years = range(int(p["year"].min()), int(p["year"].max()) + 1)
    grid = pd.MultiIndex.from_product([sorted(p["iso3"].unique()), years], names=["iso3", "year"])
    g = p.set_index(["iso3", "year"]).reindex(grid).reset_index()
    by = g["iso3"]
    prod = g["coal_production_twh"].astype("float64")
    lp = pd.Series(_log1p(prod)).where(prod.notna())
    lc = pd.Series(_log1p(g["coal_consumption_twh"])).where(g["coal_consumption_twh"].notna())
    share = g["coal_share_of_electricity_pct"].astype("float64")
    peak = prod.groupby(by).cummax()
    peak_year = g["year"].where(prod.notna() & (prod >= peak)).groupby(by).ffill()
    out = pd.DataFrame(
        {
            "iso3": g["iso3"],
            "year": g["year"],
            "prod_log_change_1y": lp - lp.groupby(by).shift(1),
            "prod_log_change_5y": lp - lp.groupby(by).shift(5),
            "prod_log_change_10y": lp - lp.groupby(by).shift(10),
            "prod_share_of_peak": np.where(peak > 0, prod / peak, np.nan),
            "years_since_peak": np.where(prod.notna() & (peak > 0), g["year"] - peak_year, np.nan),
            "cons_log_change_5y": lc - lc.groupby(by).shift(5),
            "coal_elec_share_change_5y": share - share.groupby(by).shift(5),
        }
    )
    return out


def gem_like(features: pd.DataFrame) -> pd.DataFrame:
    """The same mine rows as a GEM mine would show them: the EIA-only history features missing.

    The mine models learn from US mines, which always have these; added to the training rows as
    extra copies, the masked rows teach the trees where a missing history should go, instead of
    LightGBM's default for a feature never missing in training (NaN read as 0, i.e. "produced
    nothing", which would mark every GEM mine as closing).
    """
    out = features.copy()
    cols = [c for c in US_ONLY_FEATURES if c in out.columns]
    out[cols] = np.nan
    return out


# ---------------------------------------------------------------------------------------------
# Assembled feature frames


def _keys(wh: Warehouse, entity_types: Iterable[str], horizons: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Scored entity-years per horizon (analyst persona rows of ``fvi_scores``) with their country."""
    gold = wh.schema("gold")
    types = ", ".join(f"'{t}'" for t in entity_types)
    hs = list(dict.fromkeys(horizons))
    wanted = ", ".join(f"'{h}'" for h in hs)
    keys = wh.query(
        f"select horizon, entity_type, entity_id, as_of_year, country_iso3 from {gold}.fvi_scores "
        f"where persona = '{FEATURE_PERSONA}' and horizon in ({wanted}) and entity_type in ({types})"
    )
    keys["as_of_year"] = keys["as_of_year"].astype("int64")
    keys = keys.sort_values(KEYS, kind="stable")
    return {h: keys[keys["horizon"] == h].drop(columns="horizon").reset_index(drop=True) for h in hs}


def _union(keys: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(list(keys.values()), ignore_index=True).drop_duplicates(KEYS).reset_index(drop=True)


def _per_horizon(
    base: pd.DataFrame,
    keys: dict[str, pd.DataFrame],
    composites: Callable[[pd.DataFrame, str], pd.DataFrame],
    names: list[str],
) -> dict[str, pd.DataFrame]:
    """Horizon-free columns (``base``, on the union of keys) joined with each horizon's composites."""
    out = {}
    for h, k in keys.items():
        frame = k.merge(base.drop(columns="country_iso3"), on=KEYS, how="left")
        comp = composites(k, h).drop(columns=KEYS)
        frame = pd.concat([frame, comp.reset_index(drop=True)], axis=1)
        frame = frame.reindex(columns=[*KEYS, "country_iso3", "data_year", *names])
        assert_no_leakage(features=frame)
        out[h] = frame
    return out


def _cell_features(cells: pd.DataFrame, keys: pd.DataFrame, metric_ids: list[str], log_ids: Iterable[str]) -> dict:
    cols: dict[str, np.ndarray] = {}
    scores = _matrix(cells, keys, metric_ids, "score")
    raw = _matrix(cells, keys, metric_ids, "raw_value")
    flag = cells.assign(
        _imp=np.where(
            cells["imputation"].isin(IMPUTED_FLAGS), 1.0, np.where(cells["imputation"].eq("observed"), 0.0, np.nan)
        )
    )
    imputed = _matrix(flag, keys, metric_ids, "_imp")
    for j, m in enumerate(metric_ids):
        cols[f"score_{m}"] = scores[:, j]
    for m in log_ids:
        if m in metric_ids:
            cols[f"log_{m}"] = _log1p(raw[:, metric_ids.index(m)])
    for j, m in enumerate(metric_ids):
        cols[f"imputed_{m}"] = imputed[:, j]
    return cols


def _data_year(cells: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    latest = cells.groupby(KEYS)["data_year"].max()
    return latest.reindex(pd.MultiIndex.from_frame(keys[KEYS])).to_numpy(dtype="float64")


def mine_features(
    wh: Warehouse,
    *,
    horizon: str = "H5",
    spec: ScoringSpec | None = None,
    cells: pd.DataFrame | None = None,
    us_panel: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (entity_type in us_mine/mine, entity_id, as_of_year): the fixed mine feature list.

    Columns: KEYS, country_iso3, data_year (latest data year any feature rests on, <= as_of_year)
    and :func:`mine_feature_names`. Pillars and FVI are at ``horizon`` (analyst persona weights).
    ``cells`` (from :func:`load_cells`, mines and countries) and ``us_panel`` may be passed in to
    share one read or to test with perturbed data.
    """
    return mine_features_at(wh, [horizon], spec=spec, cells=cells, us_panel=us_panel)[horizon]


def mine_features_at(
    wh: Warehouse,
    horizons: Iterable[str],
    *,
    spec: ScoringSpec | None = None,
    cells: pd.DataFrame | None = None,
    us_panel: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`mine_features` for several horizons, computing what does not depend on the horizon once."""
    spec = spec or _spec()
    if cells is None:
        cells = load_cells(wh, (*MINE_TYPES, "country"), spec)
    keys = _keys(wh, MINE_TYPES, horizons)
    union = _union(keys)
    country_keys = _country_keys(cells)
    mcells = cells[cells["entity_type"].isin(MINE_TYPES)]
    ccells = cells[cells["entity_type"].eq("country")]
    cols = _cell_features(mcells, union, spec.entities["mine"].metric_ids, LOG_RAW_MINE)
    base = pd.concat([union, pd.DataFrame(cols)], axis=1)
    if us_panel is None:
        us_panel = wh.query(f"select * from {wh.schema('gold')}.fct_us_mine__yearly")
    hist = us_mine_history(us_panel)
    hist["entity_id"] = us_mine_ids(hist["msha_id"]).to_numpy()
    hist = hist.rename(columns={"year": "as_of_year"}).drop(columns=["msha_id"]).assign(entity_type="us_mine")
    base = base.merge(hist, on=KEYS, how="left")
    base = _add_gem_static(wh, base)
    base["data_year"] = _data_year(mcells, base)
    base["data_year"] = base["data_year"].fillna(base["as_of_year"].astype("float64"))

    def composites(k: pd.DataFrame, h: str) -> pd.DataFrame:
        return recompute_composites(mcells, k, h, spec=spec, country_cells=ccells, country_keys=country_keys)

    return _per_horizon(base, keys, composites, mine_feature_names(spec))


def _add_gem_static(wh: Warehouse, frame: pd.DataFrame) -> pd.DataFrame:
    """Mine age and type of GEM mines, from the tracker, each only from when it is known (:mod:`fvi.known`).

    The opening year is dated at the release that holds it; the mine type is a fixed fact.
    """
    out = frame.copy()
    if not wh.has_table("gold", "dim_mine"):
        return out
    dim = wh.query(
        f"select gem_mine_id, opening_year, mine_type, {known.RELEASE_COLUMN} from {wh.schema('gold')}.dim_mine"
    )
    release = known.release_year(dim[known.RELEASE_COLUMN])
    dim = dim.assign(
        opening_known=known.dim_data_year("opening_year", release),
        type_known=known.dim_data_year("mine_type", release),
    ).set_index("gem_mine_id")
    gem = out["entity_type"].eq("mine")
    ids = out.loc[gem, "entity_id"]
    as_of = out.loc[gem, "as_of_year"]
    opening = ids.map(dim["opening_year"]).to_numpy(dtype="float64")
    age = as_of.to_numpy(dtype="float64") - opening
    mtype = ids.map(dim["mine_type"]).astype("string").str.lower()
    under = mtype.map({"underground": 1.0, "surface": 0.0, "underground & surface": 0.5}).to_numpy(dtype="float64")
    age_known = known.known_at(ids.map(dim["opening_known"]), as_of).to_numpy()
    type_known = known.known_at(ids.map(dim["type_known"]), as_of).to_numpy()
    out.loc[gem, "mine_age_years"] = np.where(age_known, age, np.nan)
    out.loc[gem, "is_underground"] = np.where(type_known, under, np.nan)
    return out


def _country_keys(cells: pd.DataFrame) -> pd.DataFrame:
    c = cells[cells["entity_type"].eq("country")][KEYS].drop_duplicates().reset_index(drop=True)
    return c.assign(country_iso3=c["entity_id"])


def country_features(
    wh: Warehouse,
    *,
    horizon: str = "H5",
    spec: ScoringSpec | None = None,
    cells: pd.DataFrame | None = None,
    panel: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (country, iso3, as_of_year): the fixed country feature list at ``horizon``."""
    return country_features_at(wh, [horizon], spec=spec, cells=cells, panel=panel)[horizon]


def country_features_at(
    wh: Warehouse,
    horizons: Iterable[str],
    *,
    spec: ScoringSpec | None = None,
    cells: pd.DataFrame | None = None,
    panel: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`country_features` for several horizons, computing what does not depend on the horizon once."""
    spec = spec or _spec()
    if cells is None:
        cells = load_cells(wh, ("country",), spec)
    ccells = cells[cells["entity_type"].eq("country")]
    keys = _keys(wh, ("country",), horizons)
    union = _union(keys)
    cols = _cell_features(ccells, union, spec.entities["country"].metric_ids, LOG_RAW_COUNTRY)
    base = pd.concat([union, pd.DataFrame(cols)], axis=1)
    if panel is None:
        panel = wh.query(f"select * from {wh.schema('gold')}.fct_country__yearly")
    hist = country_history(panel).rename(columns={"iso3": "entity_id", "year": "as_of_year"})
    base = base.merge(hist, on=["entity_id", "as_of_year"], how="left")
    base["data_year"] = _data_year(ccells, base)
    base["data_year"] = base["data_year"].fillna(base["as_of_year"].astype("float64"))

    def composites(k: pd.DataFrame, h: str) -> pd.DataFrame:
        return recompute_composites(ccells, k, h, spec=spec)

    return _per_horizon(base, keys, composites, country_feature_names(spec))
