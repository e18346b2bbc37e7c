"""The registry's missing-data rules, applied to an entity x year panel, with every fill flagged.

Nothing is filled silently: each cell carries a flag saying whether it was observed, carried
forward, filled from the country median, filled with a declared value, or left out (and why).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fvi.registry.metrics import Metric

OBSERVED, CARRY_FORWARD, COUNTRY_MEDIAN, FILL_VALUE, PILLAR_MEAN, EXCLUDED, MISSING, RELATED_FIELD, CROSSWALK = range(9)
FLAG_NAMES = {
    OBSERVED: "observed",
    CARRY_FORWARD: "carry_forward",
    COUNTRY_MEDIAN: "country_median",
    FILL_VALUE: "fill_value",
    PILLAR_MEAN: "pillar_mean",
    EXCLUDED: "excluded",
    MISSING: "missing",
    RELATED_FIELD: "related_field",
    CROSSWALK: "crosswalk",
}
IMPUTED = (CARRY_FORWARD, COUNTRY_MEDIAN, FILL_VALUE, PILLAR_MEAN, RELATED_FIELD, CROSSWALK)
"""Flags that count as imputed (the value used is not the one observed for this entity and year)."""

LINKED_PREFIX = "linked__"
"""A panel column ``linked__<metric id>`` holds the same physical mine's value for the same year in the
other mine spine (GEM <-> EIA through the MSHA crosswalk): tried first, before related fields and peers."""


def _carry_forward(panel: pd.DataFrame, col: str, entity_col: str, max_years: int) -> pd.Series:
    """Last observed value of the same entity at most ``max_years`` earlier (panel sorted by entity, year)."""
    seen_year = panel["year"].where(panel[col].notna())
    last_year = seen_year.groupby(panel[entity_col]).ffill()
    last_value = panel[col].groupby(panel[entity_col]).ffill()
    ok = (panel["year"] - last_year) <= max_years
    return last_value.where(ok)


def apply_missing_rules(
    panel: pd.DataFrame, metrics: list[Metric], *, entity_col: str, country_col: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raw [n, M], values [n, M], flags int8 [n, M]) for the metric columns (named by metric id).

    ``panel`` must be sorted by (entity, year). ``country_median`` needs ``country_col``.
    """
    n = len(panel)
    raw = np.empty((n, len(metrics)))
    values = np.empty((n, len(metrics)))
    flags = np.full((n, len(metrics)), OBSERVED, dtype=np.int8)
    for j, m in enumerate(metrics):
        col = panel[m.id].astype(float)
        raw[:, j] = col.to_numpy()
        observed = col.notna().to_numpy()
        filled = col.copy()
        rule = m.missing_data.rule
        # the same mine's record in the other spine first (EIA <-> GEM, same year), then the same
        # entity's related fields (capacity from production, ...), then the rule (peers)
        linked = LINKED_PREFIX + m.id
        if linked in panel.columns:
            other = panel[linked].astype(float)
            take = filled.isna().to_numpy() & other.notna().to_numpy()
            filled[take] = other[take]
            flags[take, j] = CROSSWALK
        for rel in m.missing_data.from_related or []:
            if rel.metric not in panel.columns:
                continue
            other = panel[rel.metric].astype(float)
            if LINKED_PREFIX + rel.metric in panel.columns:  # the related field as the linked record holds it
                other = other.fillna(panel[LINKED_PREFIX + rel.metric].astype(float))
            other = other * rel.factor
            take = filled.isna().to_numpy() & other.notna().to_numpy()
            filled[take] = other[take]
            flags[take, j] = RELATED_FIELD
        observed = observed | np.isin(flags[:, j], (RELATED_FIELD, CROSSWALK))
        if rule == "carry_forward_years":
            cf = _carry_forward(panel.assign(**{m.id: col}), m.id, entity_col, int(m.missing_data.max_years or 0))
            take = ~observed & cf.notna().to_numpy()
            filled[take] = cf[take]
            flags[take, j] = CARRY_FORWARD
        elif rule == "country_median":
            if country_col is None:
                raise ValueError(f"{m.id}: country_median needs a country column")
            med = col.groupby([panel[country_col], panel["year"]]).transform("median")
            take = ~observed & med.notna().to_numpy()
            filled[take] = med[take]
            flags[take, j] = COUNTRY_MEDIAN
        still = filled.isna().to_numpy()
        if m.missing_data.fill_value is not None:
            filled[still] = m.missing_data.fill_value
            flags[still, j] = FILL_VALUE
        elif rule == "pillar_mean":
            flags[still, j] = PILLAR_MEAN
        elif rule == "exclude":
            flags[still, j] = EXCLUDED
        else:
            flags[still, j] = MISSING
        values[:, j] = filled.to_numpy()
    return raw, values, flags


def without_imputation(values: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """The 'no imputation' alternative: only observed values survive."""
    return np.where(flags == OBSERVED, values, np.nan)
