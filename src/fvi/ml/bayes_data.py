"""The Bayesian models' data: their configuration and the frames they read from gold.

Split from :mod:`fvi.ml.bayes` (the design, the PyMC fit, predictions and the run) so that loading,
fitting and reporting each live in one place; ``fvi.ml.bayes`` re-exports these names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from fvi.contract import columns
from fvi.registry.vocabulary import DEFAULT_PERSONA, HORIZONS, us_mine_id_sql

if TYPE_CHECKING:
    from fvi.warehouse import Warehouse

MODEL_VERSION = "1"
MINE_MODEL = f"bayes_logit_mine_v{MODEL_VERSION}"
COUNTRY_MODEL = f"bayes_logit_country_v{MODEL_VERSION}"
PREDICTIONS_TABLE = "fvi_predictions_bayes"
DIAGNOSTICS_TABLE = "fvi_bayes_diagnostics"
DIAGNOSTICS_JSON = "bayes_diagnostics.json"
_PILLAR = re.compile(r"^pillar_\d+$")
_MISSING = "_missing"

PREDICTION_COLUMNS = columns(PREDICTIONS_TABLE)
"""Declared in the gold contract (warehouse/models/gold/python/_python__tables.yml)."""


@dataclass(frozen=True)
class BayesConfig:
    """Modelling choices, kept out of the code paths so a run records exactly what it used."""

    persona: str = DEFAULT_PERSONA
    mine_horizon: int = 5
    country_horizons: tuple[int, ...] = HORIZONS
    thin_overlapping: bool = True
    min_coverage: float = 0.5
    min_within_year_sd: float = 0.5
    max_rows: int = 8000
    interval: tuple[float, float] = (0.05, 0.95)
    intercept_sd: float = 1.5
    slope_sd: float = 1.0
    group_sd: float = 1.0
    target_accept: float = 0.9


# ---------------------------------------------------------------------------------------------
# Warehouse frames


def _pillar_sql(wh: Warehouse, alias: str = "s") -> tuple[list[str], str]:
    cols = wh.query(f"select * from {wh.schema('gold')}.fvi_scores limit 0").columns
    pillars = sorted(c for c in cols if _PILLAR.match(c))
    return pillars, ", ".join(f"{alias}.{p}" for p in pillars)


def _is_empty(wh: Warehouse, table: str) -> bool:
    if not wh.has_table("gold", table):
        return True
    return int(wh.query(f"select count(*) as n from {wh.schema('gold')}.{table}")["n"].iloc[0]) == 0


def mine_training_frame(wh: Warehouse, config: BayesConfig | None = None) -> pd.DataFrame:
    """Labelled mine rows: features at the as-of year, outcome at as-of + H (US and GEM labels)."""
    config = config or BayesConfig()
    g, h = wh.schema("gold"), config.mine_horizon
    _, cols = _pillar_sql(wh)
    params = [f"H{h}", config.persona]
    frames = [
        wh.query(
            f"""
            select s.entity_type, s.entity_id, s.as_of_year, o.outcome_year, o.viable::int as y, {cols},
                   coalesce(s.country_iso3, 'USA') as country_iso3, u.state as subgroup, 'us_mine' as label_source
            from {g}.fvi_outcome_us_mine o
            join {g}.fvi_scores s
              on s.entity_type = 'us_mine' and s.entity_id = {us_mine_id_sql('o.msha_id')}
             and s.as_of_year = o.as_of_year and s.horizon = ? and s.persona = ?
            left join {g}.fct_us_mine__yearly u on u.msha_id = o.msha_id and u.year = o.as_of_year
            where o.horizon = {h}
              and o.outcome_year <= (select max(outcome_year) from {g}.fvi_outcome_us_mine)
            """,
            params,
        )
    ]
    if not _is_empty(wh, "fvi_outcome_gem_transition"):
        frames.append(
            wh.query(
                f"""
                select s.entity_type, s.entity_id, s.as_of_year, t.outcome_year, (1 - t.label)::int as y, {cols},
                       s.country_iso3, m.state_province as subgroup, 'gem_transition' as label_source
                from {g}.fvi_outcome_gem_transition t
                join {g}.fvi_scores s
                  on s.entity_type = 'mine' and s.entity_id = t.gem_mine_id::varchar
                 and s.as_of_year = t.as_of_year and s.horizon = ? and s.persona = ?
                left join {g}.dim_mine m on m.gem_mine_id = s.entity_id
                where t.outcome_year <= (select max(outcome_year) from {g}.fvi_outcome_gem_transition)
                """,
                params,
            )
        )
    nonempty = [f for f in frames if not f.empty] or frames[:1]
    frame = pd.concat(nonempty, ignore_index=True)
    return frame.sort_values(["entity_type", "entity_id", "as_of_year"], ignore_index=True)


def mine_prediction_frame(wh: Warehouse, config: BayesConfig | None = None) -> pd.DataFrame:
    """Every GEM and US mine at its latest as-of year, with the grouping keys the model knows."""
    config = config or BayesConfig()
    g = wh.schema("gold")
    _, cols = _pillar_sql(wh)
    frame = wh.query(
        f"""
        with scored as (
            select *, max(as_of_year) over (partition by entity_type, entity_id) as latest_year
            from {g}.fvi_scores
            where persona = ? and horizon = ? and entity_type in ('mine', 'us_mine')
        ),
        s as (select * from scored where as_of_year = latest_year)
        select s.entity_type, s.entity_id, s.as_of_year, {cols},
               coalesce(s.country_iso3, case when s.entity_type = 'us_mine' then 'USA' end) as country_iso3,
               coalesce(m.state_province, u.state) as subgroup
        from s
        left join {g}.dim_mine m on s.entity_type = 'mine' and m.gem_mine_id = s.entity_id
        left join {g}.fct_us_mine__yearly u
          on s.entity_type = 'us_mine' and s.entity_id = {us_mine_id_sql('u.msha_id')} and u.year = s.as_of_year
        order by s.entity_type, s.entity_id
        """,
        [config.persona, f"H{config.mine_horizon}"],
    )
    return frame.assign(horizon=f"H{config.mine_horizon}")


def country_training_frame(wh: Warehouse, config: BayesConfig | None = None) -> pd.DataFrame:
    """Labelled country rows: pillars at horizon H as of t, y = no >= 25 % production fall by t + H."""
    config = config or BayesConfig()
    g = wh.schema("gold")
    _, cols = _pillar_sql(wh)
    horizons = ", ".join(str(int(h)) for h in config.country_horizons)
    return wh.query(
        f"""
        select s.entity_id, s.as_of_year, o.outcome_year, 'H' || o.horizon as horizon, (1 - o.decline)::int as y,
               {cols}, d.income_level
        from {g}.fvi_outcome_country o
        join {g}.fvi_scores s
          on s.entity_type = 'country' and s.entity_id = o.iso3 and s.as_of_year = o.as_of_year
         and s.horizon = 'H' || o.horizon and s.persona = ?
        left join {g}.dim_country d on d.iso3 = o.iso3
        where o.horizon in ({horizons})
          and o.outcome_year <= (select max(outcome_year) from {g}.fvi_outcome_country)
        order by o.horizon, s.entity_id, s.as_of_year
        """,
        [config.persona],
    )


def country_prediction_frame(wh: Warehouse, config: BayesConfig | None = None) -> pd.DataFrame:
    """Every scored country at its latest as-of year, per horizon."""
    config = config or BayesConfig()
    g = wh.schema("gold")
    _, cols = _pillar_sql(wh)
    horizons = ", ".join(f"'H{int(h)}'" for h in config.country_horizons)
    return wh.query(
        f"""
        with scored as (
            select *, max(as_of_year) over (partition by entity_id, horizon) as latest_year
            from {g}.fvi_scores
            where persona = ? and entity_type = 'country' and horizon in ({horizons})
        ),
        s as (select * from scored where as_of_year = latest_year)
        select 'country' as entity_type, s.entity_id, s.as_of_year, s.horizon, {cols}, d.income_level
        from s left join {g}.dim_country d on d.iso3 = s.entity_id
        order by s.entity_id, s.horizon
        """,
        [config.persona],
    )
