"""Known by year t: the one rule of time that every reader of gold applies.

A value may inform a score, a feature or a forecast *as of year t* only if it was known by the end
of year t. The year a value became known is its **data year**; a value whose data year is after t
is missing at t (and then imputed, or left out, by the reader's own missing-data rule). Scoring
(:mod:`fvi.scoring.engine`), the ML features (:mod:`fvi.ml.features`), the worldwide mine model
(:mod:`fvi.ml.global_mines`) and the feature store (:mod:`fvi.feature_store.store`) date values
with the functions below and nowhere else.

The data year of a value:

* **A yearly fact** (a row of a ``fct_*__yearly`` table for year Y): Y. A yearly figure counts as
  known from the end of its year.
* **A dated snapshot inside a yearly table** (pledges as of 2021, a phase-out timeline, mining land
  as of 2020, carried onto every year): the snapshot's as-of column, which the metric registry names
  (``known_from_column``); :func:`snapshot_dates` is the only map from column to date.
* **A tracker attribute** (``dim_mine``: the mine's record in the newest GEM release that lists
  it): the year of that release (``latest_release``). What the tracker has filled in by its 2024
  release (an opening year, a workforce, even the mine being listed at all) is news from the
  future for a mine-year of 2010.
* **A fixed physical fact** of the mine (:data:`FIXED_ATTRIBUTES`: where it is, what kind of mine,
  what coal, its nameplate size): known whenever the mine itself is, since it does not change
  with the year. Only the columns declared here are treated so; a reader that uses any other
  ``dim_mine`` column at an earlier year is refused (:func:`fixed_columns`).

A US (EIA) mine reads ``dim_mine`` attributes through the MSHA crosswalk; they take the data year
of the GEM release that holds them, like a GEM mine's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from fvi.scoring.config import ScoringSpec

RELEASE_COLUMN = "latest_release"
"""The ``dim_mine`` column naming the GEM release (``YYYY-MM``) its attributes come from."""

FIXED_ATTRIBUTES: Mapping[str, str] = {
    "gem_mine_id": "the mine's identity",
    "country_iso3": "where the mine is: a mine does not move country",
    "region": "where the mine is",
    "subregion": "where the mine is",
    "state_province": "where the mine is",
    "coalfield": "where the mine is",
    "latitude": "where the mine is",
    "longitude": "where the mine is",
    "mine_type": "surface or underground: set by the deposit when the mine is developed",
    "coal_type": "the rank of the coal in the ground (lignite to anthracite)",
    "capacity_mtpa": "nameplate capacity: GEM publishes one figure per mine, not a history",
    "msha_id": "the mine's US registration (the key of the EIA crosswalk)",
}
"""``dim_mine`` columns known whenever the mine is, each with the reason it cannot carry later news.

Everything else in ``dim_mine`` (opening year, workforce, reserves, status detail, owners, ...) is
dated at the release: GEM records those for most operating mines but few closed ones, so their
presence at an earlier year would tell a model which mines were still operating at the release.
"""


def release_year(release: pd.Series) -> pd.Series:
    """The year of each GEM release label (``"2024-04"`` -> 2024.0; unreadable -> NaN)."""
    return pd.to_numeric(release.astype("string").str.slice(0, 4), errors="coerce").astype("float64")


def release_year_sql(expr: str) -> str:
    """SQL for the year of a release label column (portable: DuckDB and PostgreSQL)."""
    return f"cast(substr({expr}, 1, 4) as integer)"


def is_fixed(column: str) -> bool:
    """Whether a ``dim_mine`` column is a fixed physical fact (known whenever the mine is)."""
    return column in FIXED_ATTRIBUTES


def fixed_columns(columns: Iterable[str]) -> list[str]:
    """``columns`` unchanged if each is a fixed attribute; raises naming any that is release-dated.

    For readers that use ``dim_mine`` attributes at years before the release (the worldwide mine
    model's survival frame): any other column there would leak the release into the past.
    """
    cols = list(columns)
    dated = [c for c in cols if not is_fixed(c)]
    if dated:
        raise ValueError(
            f"dim_mine column(s) {dated} are dated at the GEM release (fvi.known): they cannot be read at "
            "earlier years; declare them in FIXED_ATTRIBUTES only if they cannot change over a mine's life"
        )
    return cols


def dim_known_sql(column: str, alias: str, year: str) -> str:
    """SQL for ``alias.column`` as known at ``year`` (NULL before the release that holds it)."""
    expr = f"{alias}.{column}"
    if is_fixed(column):
        return expr
    return f"case when {year} >= {release_year_sql(f'{alias}.{RELEASE_COLUMN}')} then {expr} end"


def snapshot_dates(spec: ScoringSpec) -> dict[str, str]:
    """Gold column of each dated snapshot -> the column holding its as-of year (from the registry)."""
    out: dict[str, str] = {}
    for m in spec.metrics.values():
        if m.known_from_column:
            prior = out.setdefault(m.gold.column, m.known_from_column)
            if prior != m.known_from_column:
                raise ValueError(f"{m.gold.column} is dated by both {prior} and {m.known_from_column}")
    return out


def snapshot_known_sql(column: str, alias: str, year: str, dates: Mapping[str, str]) -> str:
    """SQL for ``alias.column`` as known at ``year``: NULL before a snapshot's as-of year."""
    expr = f"{alias}.{column}"
    asof = dates.get(column)
    return f"case when {year} >= {alias}.{asof} then {expr} end" if asof else expr


def dim_data_year(column: str, releases: pd.Series) -> pd.Series:
    """Data year of a ``dim_mine`` column's values, given each row's release year (NaN: always known)."""
    if is_fixed(column):
        return pd.Series(np.nan, index=releases.index, dtype="float64")
    return releases.astype("float64")


def known_at(data_year: pd.Series, as_of_year: pd.Series) -> pd.Series:
    """True where a value dated ``data_year`` may be used at ``as_of_year`` (no date: always)."""
    dy = pd.to_numeric(data_year, errors="coerce").astype("float64")
    return ~(dy > pd.to_numeric(as_of_year, errors="coerce").astype("float64"))
