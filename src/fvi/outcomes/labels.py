"""Observed outcomes from history, labelled strictly as of year t (METHODOLOGY rule 8).

A back-test compares what the index said *as of* year t with what happened by t + H. Three
kinds of history are labelled here, each as a pure pandas function (tiny inline panels in unit
tests) with a thin loader from the gold layer:

* US mines (EIA, one file a year): a mine producing in t is ``viable`` at H if it still produces
  in t + H. EIA lists every mine with production or employment, so a mine absent from a covered
  year produced nothing that year; years outside the covered set give no label.
* GEM Coal Mine Tracker releases: operating -> mothballed/closed/retired (``stopped``) and
  proposed -> shelved/cancelled (``abandoned``) between two consecutive releases. A mine missing
  from the later release is *excluded* (and counted by :func:`gem_transition_dropouts`): GEM
  drops rows for de-duplication, merges and scope changes, so absence is not evidence of a stop.
* GEM survival: years from opening to permanent closure (event) or to the release (censored).
* Countries (OWID): change in coal production and consumption over H years; ``decline`` when
  production falls by at least the threshold in ``outcomes.yml``.

The time rule: features for as-of year t use only rows with year <= t
(:func:`feature_panel_asof`, :func:`features_asof`); labels always look at years > t
(:func:`assert_no_leakage` checks both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from fvi.outcomes.hazard_frame import HAZARD_FRAME_COLUMNS, gem_hazard_frame
from fvi.warehouse import Warehouse

CONFIG_PATH = Path(__file__).with_name("outcomes.yml")

# ---------------------------------------------------------------------------------------------
# Configuration (thresholds, status sets, horizons)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsMineConfig(_Strict):
    """US mine labels (``us_mine:``): the horizons H, in years, at which a producing mine is labelled."""

    horizons: list[PositiveInt] = Field(min_length=1)


class TransitionKind(_Strict):
    """One GEM release-to-release transition: the statuses it starts from and those that count as the event."""

    from_statuses: list[str] = Field(min_length=1)
    event_statuses: list[str] = Field(min_length=1)


class GemTransitionConfig(_Strict):
    """GEM transitions between consecutive releases (``gem_transition:``), by label name."""

    kinds: dict[str, TransitionKind] = Field(min_length=1)


class GemSurvivalConfig(_Strict):
    """GEM survival (``gem_survival:``): statuses of a mine that has opened, and of permanent closure."""

    opened_statuses: list[str] = Field(min_length=1)
    event_statuses: list[str] = Field(min_length=1)


class GemHazardConfig(_Strict):
    """The GEM mine-year hazard frame and its back-test (``gem_hazard:``).

    ``observed_from`` is the first year closures are recorded densely (a mine enters the risk set at
    the later of it and its opening year); ``not_placed_statuses`` stopped in no known year and are
    left out; the back-test uses as-of years ``backtest_as_of`` and horizons ``backtest_horizons``.
    """

    observed_from: PositiveInt
    opened_statuses: list[str] = Field(min_length=1)
    event_statuses: list[str] = Field(min_length=1)
    not_placed_statuses: list[str] = Field(default_factory=list)
    backtest_as_of: list[PositiveInt] = Field(min_length=1)
    backtest_horizons: list[PositiveInt] = Field(min_length=1)


class ProjectStagesConfig(_Strict):
    """How a non-operating GEM mine maps to a Coal Plant Tracker stage (``project_stages:``).

    A status detail (``by_detail``) decides only for ``detail_statuses``; otherwise the status does
    (``by_status``).
    """

    by_detail: dict[str, str]
    by_status: dict[str, str] = Field(min_length=1)
    detail_statuses: list[str] = Field(default_factory=list)


class CountryConfig(_Strict):
    """Country labels (``country:``): horizons in years and the production fall, in per cent, that is a decline."""

    horizons: list[PositiveInt] = Field(min_length=1)
    decline_threshold_pct: float = Field(gt=0, lt=100)


class OutcomesConfig(_Strict):
    """The whole of ``outcomes.yml``: bad-outcome target names and each outcome family's definitions."""

    bad_outcome_targets: list[str] = Field(min_length=1)
    us_mine: UsMineConfig
    gem_transition: GemTransitionConfig
    gem_survival: GemSurvivalConfig
    gem_hazard: GemHazardConfig
    project_stages: ProjectStagesConfig
    country: CountryConfig


@lru_cache(maxsize=4)
def load_config(path: Path = CONFIG_PATH) -> OutcomesConfig:
    """The outcome definitions; cached because every labeller reads them."""
    with path.open(encoding="utf-8") as fh:
        return OutcomesConfig.model_validate(yaml.safe_load(fh))


# ---------------------------------------------------------------------------------------------
# Output schemas: one place, so empty frames (nothing computable) keep the same columns and types

US_MINE_COLUMNS: dict[str, str] = {
    "msha_id": "int64",
    "gem_mine_id": "object",
    "as_of_year": "int64",
    "horizon": "int64",
    "outcome_year": "int64",
    "viable": "int64",
    "is_synthetic": "bool",
}
GEM_TRANSITION_COLUMNS: dict[str, str] = {
    "gem_mine_id": "object",
    "from_release": "object",
    "to_release": "object",
    "as_of_year": "int64",
    "outcome_year": "int64",
    "years_between": "float64",
    "from_status": "object",
    "to_status": "object",
    "label_kind": "object",
    "label": "int64",
    "is_synthetic": "bool",
}
GEM_DROPOUT_COLUMNS: dict[str, str] = {
    "from_release": "object",
    "to_release": "object",
    "label_kind": "object",
    "n_at_risk": "int64",
    "n_labelled": "int64",
    "n_missing_from_later": "int64",
}
GEM_SURVIVAL_COLUMNS: dict[str, str] = {
    "gem_mine_id": "object",
    "country_iso3": "object",
    "status": "object",
    "opening_year": "int64",
    "end_year": "int64",
    "duration_years": "int64",
    "event": "int64",
    "is_synthetic": "bool",
}
COUNTRY_COLUMNS: dict[str, str] = {
    "iso3": "object",
    "as_of_year": "int64",
    "horizon": "int64",
    "outcome_year": "int64",
    "production_twh": "float64",
    "outcome_production_twh": "float64",
    "production_change_pct": "float64",
    "consumption_change_pct": "float64",
    "decline": "int64",
    "is_synthetic": "bool",
}

OUTCOME_TABLES: dict[str, dict[str, str]] = {
    "fvi_outcome_us_mine": US_MINE_COLUMNS,
    "fvi_outcome_gem_transition": GEM_TRANSITION_COLUMNS,
    "fvi_outcome_gem_survival": GEM_SURVIVAL_COLUMNS,
    "fvi_outcome_gem_hazard": HAZARD_FRAME_COLUMNS,
    "fvi_outcome_country": COUNTRY_COLUMNS,
}

# Columns that only an outcome may carry; a feature frame holding one has seen the future.
TARGET_COLUMNS = frozenset(
    {
        "viable",
        "label",
        "decline",
        "event",
        "outcome_year",
        "to_status",
        "to_release",
        "outcome_production_twh",
        "production_change_pct",
        "consumption_change_pct",
        "end_year",
        "duration_years",
        "exit_year",
    }
)

# Floating-point slack so a drop of exactly the threshold (e.g. 100 -> 75) counts as a decline.
_PCT_TOLERANCE = 1e-9


def _empty(schema: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})


def _conform(frame: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    """Exactly the declared columns, in order and type (PostgreSQL reads give loose dtypes)."""
    if frame.empty:
        return _empty(schema)
    out = frame[list(schema)].reset_index(drop=True)
    return out.astype(schema)


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}")


def _synthetic(frame: pd.DataFrame) -> pd.Series:
    if "is_synthetic" not in frame.columns:
        return pd.Series(False, index=frame.index, dtype=bool)
    return frame["is_synthetic"].astype("boolean").fillna(False).astype(bool)


def _horizons(horizons: Iterable[int] | None, default: list[int]) -> list[int]:
    hs = sorted({int(h) for h in (default if horizons is None else horizons)})
    if not hs or hs[0] < 1:
        raise ValueError(f"horizons must be positive years, got {hs}")
    return hs


def _unique(frame: pd.DataFrame, keys: list[str], what: str) -> None:
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        raise ValueError(
            f"{what}: {int(dup.sum())} rows share a key {keys}, e.g. {frame.loc[dup, keys].iloc[0].tolist()}"
        )


# ---------------------------------------------------------------------------------------------
# US mines (EIA)


def us_mine_labels(panel: pd.DataFrame, horizons: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per (msha_id, as_of_year t, horizon H) for mines producing in t, with t + H covered.

    ``panel`` is ``fct_us_mine__yearly`` (msha_id, year, is_producing; gem_mine_id and
    is_synthetic optional). Covered years are the years present in the panel: a mine with no row
    in a covered year did not produce; a year outside the panel (later, or a gap) gives no label.
    ``horizons`` default to ``outcomes.yml`` (1-8).
    """
    hs = _horizons(horizons, load_config().us_mine.horizons)
    _require(panel, ["msha_id", "year", "is_producing"], "us mine panel")
    if panel.empty:
        return _empty(US_MINE_COLUMNS)
    p = pd.DataFrame(
        {
            "msha_id": pd.to_numeric(panel["msha_id"]).astype("int64"),
            "year": pd.to_numeric(panel["year"]).astype("int64"),
            "is_producing": panel["is_producing"].astype("boolean").fillna(False).astype(bool),
            "gem_mine_id": panel["gem_mine_id"] if "gem_mine_id" in panel.columns else None,
            "is_synthetic": _synthetic(panel),
        }
    )
    _unique(p, ["msha_id", "year"], "us mine panel")
    covered = set(p["year"].unique().tolist())
    producing = p[p["is_producing"]]
    base = producing.rename(columns={"year": "as_of_year"})[["msha_id", "gem_mine_id", "as_of_year", "is_synthetic"]]
    frames = []
    for h in hs:
        at_h = base.assign(horizon=h, outcome_year=base["as_of_year"] + h)
        frames.append(at_h[at_h["outcome_year"].isin(covered)])
    if not frames or all(f.empty for f in frames):
        return _empty(US_MINE_COLUMNS)
    labels = pd.concat(frames, ignore_index=True)
    later = producing[["msha_id", "year"]].rename(columns={"year": "outcome_year"}).assign(viable=1)
    labels = labels.merge(later, on=["msha_id", "outcome_year"], how="left")
    labels["viable"] = labels["viable"].fillna(0).astype("int64")
    labels = labels.sort_values(["msha_id", "as_of_year", "horizon"])
    return _conform(labels, US_MINE_COLUMNS)


# ---------------------------------------------------------------------------------------------
# GEM tracker releases

_RELEASE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?")


def _release_time(release: str) -> float:
    """Release label as a fractional year ('2024-04' -> 2024.25), for years between releases."""
    m = _RELEASE.match(str(release))
    if not m:
        raise ValueError(f"release label {release!r} does not start with a year (YYYY or YYYY-MM)")
    month = int(m.group(2) or 1)
    return int(m.group(1)) + (month - 1) / 12


def _release_year(release: str) -> int:
    return int(_release_time(release))


def _transition_pairs(releases: pd.DataFrame) -> pd.DataFrame:
    """Every mine at risk in r0 for each label kind, with its r1 status (NaN when missing from r1)."""
    cfg = load_config().gem_transition
    _require(releases, ["gem_mine_id", "release", "status"], "gem releases")
    r = pd.DataFrame(
        {
            "gem_mine_id": releases["gem_mine_id"].astype(str),
            "release": releases["release"].astype(str),
            "status": releases["status"].astype("string").str.strip().str.lower(),
            "is_synthetic": _synthetic(releases),
        }
    )
    _unique(r, ["gem_mine_id", "release"], "gem releases")
    order = sorted(r["release"].unique().tolist(), key=_release_time)
    frames = []
    for r0, r1 in pairwise(order):
        before = r[r["release"] == r0].rename(columns={"status": "from_status"})
        after = r[r["release"] == r1][["gem_mine_id", "status", "is_synthetic"]].rename(
            columns={"status": "to_status", "is_synthetic": "_syn1"}
        )
        pair = before.merge(after, on="gem_mine_id", how="left")
        pair["is_synthetic"] = pair["is_synthetic"] | pair["_syn1"].astype("boolean").fillna(False).astype(bool)
        for kind, spec in cfg.kinds.items():
            at_risk = pair[pair["from_status"].isin(spec.from_statuses)]
            frames.append(
                at_risk.assign(
                    from_release=r0,
                    to_release=r1,
                    as_of_year=_release_year(r0),
                    outcome_year=_release_year(r1),
                    years_between=round(_release_time(r1) - _release_time(r0), 3),
                    label_kind=kind,
                    label=at_risk["to_status"].isin(spec.event_statuses).astype("int64"),
                )
            )
    cols = [*GEM_TRANSITION_COLUMNS]
    if not frames:
        return _empty(GEM_TRANSITION_COLUMNS)
    return pd.concat(frames, ignore_index=True)[cols]


def gem_transition_labels(releases: pd.DataFrame) -> pd.DataFrame:
    """Status transitions between consecutive GEM releases; empty with fewer than two releases.

    ``releases`` is ``int_gem_mines__release`` (gem_mine_id, release, status). One row per
    (gem_mine_id, from_release, to_release, label_kind): ``stopped`` for mines operating in the
    earlier release, ``abandoned`` for proposals (status sets in ``outcomes.yml``). Mines absent
    from the later release are left out; :func:`gem_transition_dropouts` counts them.
    """
    pairs = _transition_pairs(releases)
    labelled = pairs[pairs["to_status"].notna()]
    labelled = labelled.sort_values(["from_release", "label_kind", "gem_mine_id"])
    return _conform(labelled, GEM_TRANSITION_COLUMNS)


def gem_transition_dropouts(releases: pd.DataFrame) -> pd.DataFrame:
    """Per release pair and label kind: mines at risk, labelled, and missing from the later release."""
    pairs = _transition_pairs(releases)
    if pairs.empty:
        return _empty(GEM_DROPOUT_COLUMNS)
    counts = (
        pairs.assign(_missing=pairs["to_status"].isna())
        .groupby(["from_release", "to_release", "label_kind"], as_index=False)
        .agg(n_at_risk=("gem_mine_id", "size"), n_missing_from_later=("_missing", "sum"))
    )
    counts["n_labelled"] = counts["n_at_risk"] - counts["n_missing_from_later"]
    return _conform(counts, GEM_DROPOUT_COLUMNS)


def gem_survival(dim_mine: pd.DataFrame, *, release_year: int | None = None) -> pd.DataFrame:
    """Years from opening to permanent closure (event=1) or to the mine's last release (event=0).

    Only mines that have opened (status in ``opened_statuses``) with an opening year. A closed
    mine without a closing year, or a row ending before it opens, has no usable duration and is
    left out. Status wins over a stray closing year: an operating mine stays censored. The
    censoring year is the year of ``latest_release`` when present, else ``release_year``.
    """
    cfg = load_config().gem_survival
    _require(dim_mine, ["gem_mine_id", "status", "opening_year", "closing_year"], "dim_mine")
    if dim_mine.empty:
        return _empty(GEM_SURVIVAL_COLUMNS)
    d = pd.DataFrame(
        {
            "gem_mine_id": dim_mine["gem_mine_id"].astype(str),
            "country_iso3": dim_mine["country_iso3"] if "country_iso3" in dim_mine.columns else None,
            "status": dim_mine["status"].astype("string").str.strip().str.lower(),
            "opening_year": pd.to_numeric(dim_mine["opening_year"]).astype("Int64"),
            "closing_year": pd.to_numeric(dim_mine["closing_year"]).astype("Int64"),
            "is_synthetic": _synthetic(dim_mine),
        }
    )
    if "latest_release" in dim_mine.columns:
        censor = dim_mine["latest_release"].map(lambda r: _release_year(r) if pd.notna(r) else release_year)
    elif release_year is not None:
        censor = pd.Series(release_year, index=dim_mine.index)
    else:
        raise ValueError("dim_mine has no latest_release column: pass release_year for censoring")
    d["censor_year"] = pd.to_numeric(censor).astype("Int64")
    d = d[d["status"].isin(cfg.opened_statuses) & d["opening_year"].notna()]
    is_event = d["status"].isin(cfg.event_statuses)
    d = d.assign(
        event=is_event.astype("int64"),
        end_year=d["closing_year"].where(is_event, d["censor_year"]),
    )
    d = d[d["end_year"].notna() & (d["end_year"] >= d["opening_year"])]
    d = d.assign(duration_years=d["end_year"] - d["opening_year"]).sort_values("gem_mine_id")
    return _conform(d, GEM_SURVIVAL_COLUMNS)


def gem_hazard(dim_mine: pd.DataFrame, *, release_year: int | None = None) -> pd.DataFrame:
    """The worldwide mine x year hazard frame with the ``gem_hazard`` settings of ``outcomes.yml``."""
    cfg = load_config().gem_hazard
    return gem_hazard_frame(
        dim_mine,
        observed_from=cfg.observed_from,
        opened_statuses=cfg.opened_statuses,
        event_statuses=cfg.event_statuses,
        not_placed_statuses=cfg.not_placed_statuses,
        release_year=release_year,
    )


# ---------------------------------------------------------------------------------------------
# Countries (OWID)


def country_labels(
    panel: pd.DataFrame,
    horizons: Iterable[int] | None = None,
    decline_threshold_pct: float | None = None,
) -> pd.DataFrame:
    """One row per (iso3, as_of_year t, horizon H) for countries producing coal in t.

    Both t and t + H must have an observed production figure (zero counts as observed: it is a
    stop, not a gap). ``decline`` = 1 when production fell by at least ``decline_threshold_pct``;
    consumption change is reported when consumption is positive in t and observed in t + H.
    Horizons and threshold default to ``outcomes.yml``.
    """
    cfg = load_config().country
    hs = _horizons(horizons, cfg.horizons)
    threshold = cfg.decline_threshold_pct if decline_threshold_pct is None else float(decline_threshold_pct)
    _require(panel, ["iso3", "year", "coal_production_twh"], "country panel")
    if panel.empty:
        return _empty(COUNTRY_COLUMNS)
    p = pd.DataFrame(
        {
            "iso3": panel["iso3"].astype(str),
            "year": pd.to_numeric(panel["year"]).astype("int64"),
            "prod": pd.to_numeric(panel["coal_production_twh"]).astype("float64"),
            "cons": (
                pd.to_numeric(panel["coal_consumption_twh"]).astype("float64")
                if "coal_consumption_twh" in panel.columns
                else np.nan
            ),
            "is_synthetic": _synthetic(panel),
        }
    )
    _unique(p, ["iso3", "year"], "country panel")
    base = p[p["prod"] > 0]
    later = p.rename(columns={"year": "outcome_year", "prod": "prod1", "cons": "cons1", "is_synthetic": "_syn1"})
    frames = []
    for h in hs:
        at_h = base.assign(horizon=h, outcome_year=base["year"] + h).merge(later, on=["iso3", "outcome_year"])
        frames.append(at_h[at_h["prod1"].notna()])
    out = pd.concat(frames, ignore_index=True)
    if out.empty:
        return _empty(COUNTRY_COLUMNS)
    change = (out["prod1"] - out["prod"]) / out["prod"] * 100
    cons_ok = (out["cons"] > 0) & out["cons1"].notna()
    out = out.assign(
        as_of_year=out["year"],
        production_twh=out["prod"],
        outcome_production_twh=out["prod1"],
        production_change_pct=change,
        consumption_change_pct=((out["cons1"] - out["cons"]) / out["cons"] * 100).where(cons_ok),
        decline=(change <= -threshold + _PCT_TOLERANCE).astype("int64"),
        is_synthetic=out["is_synthetic"] | out["_syn1"],
    ).sort_values(["iso3", "as_of_year", "horizon"])
    return _conform(out, COUNTRY_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Time-correctness


class LeakageError(ValueError):
    """A feature uses data from after its as-of year, or a label does not lie in the future."""


def feature_panel_asof(panel: pd.DataFrame, as_of_year: int, *, year_col: str = "year") -> pd.DataFrame:
    """The rows a feature for as-of year t may see: year <= t (and nothing undated)."""
    _require(panel, [year_col], "feature panel")
    years = pd.to_numeric(panel[year_col])
    return panel[years.notna() & (years <= as_of_year)].copy()


def features_asof(
    panel: pd.DataFrame,
    as_of_years: Iterable[int],
    make: Callable[[pd.DataFrame, int], pd.DataFrame],
    *,
    year_col: str = "year",
) -> pd.DataFrame:
    """Build features per as-of year from the truncated panel only, so the future is out of reach.

    ``make(rows_up_to_t, t)`` returns one frame per t; this adds ``as_of_year`` and, unless
    ``make`` set it, ``data_year`` (the latest year it could have read), then checks the rule.
    """
    frames = []
    for t in sorted({int(y) for y in as_of_years}):
        visible = feature_panel_asof(panel, t, year_col=year_col)
        feats = make(visible, t).copy()
        feats["as_of_year"] = t
        if "data_year" not in feats.columns:
            feats["data_year"] = pd.to_numeric(visible[year_col]).max() if len(visible) else np.nan
        frames.append(feats)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["as_of_year", "data_year"])
    assert_no_leakage(out)
    return out


def assert_no_leakage(
    features: pd.DataFrame | None = None,
    labels: pd.DataFrame | None = None,
    *,
    as_of_col: str = "as_of_year",
    data_year_col: str = "data_year",
) -> None:
    """Raise :class:`LeakageError` when features see past their as-of year or labels do not.

    Features: every ``data_year`` <= ``as_of_year`` (rows without a data year are allowed) and no
    outcome column among them. Labels: every ``outcome_year`` > ``as_of_year``.
    """
    problems: list[str] = []
    if features is not None:
        if as_of_col not in features.columns:
            problems.append(f"features have no {as_of_col!r} column")
        elif data_year_col in features.columns:
            late = pd.to_numeric(features[data_year_col]) > pd.to_numeric(features[as_of_col])
            if late.any():
                problems.append(f"{int(late.sum())} feature rows use data after their as-of year")
        leaked = sorted(TARGET_COLUMNS & set(features.columns))
        if leaked:
            problems.append(f"features carry outcome columns {leaked}")
    if labels is not None:
        _require(labels, [as_of_col, "outcome_year"], "labels")
        early = pd.to_numeric(labels["outcome_year"]) <= pd.to_numeric(labels[as_of_col])
        if early.any():
            problems.append(f"{int(early.sum())} label rows have an outcome year not after the as-of year")
    if problems:
        raise LeakageError("; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Warehouse loaders

_US_PANEL_COLUMNS = ["msha_id", "year", "gem_mine_id", "is_producing", "is_synthetic"]
_RELEASE_COLUMNS = ["gem_mine_id", "release", "status", "is_synthetic"]
_DIM_MINE_COLUMNS = [
    "gem_mine_id",
    "country_iso3",
    "status",
    "opening_year",
    "closing_year",
    "latest_release",
    "is_synthetic",
]
_COUNTRY_PANEL_COLUMNS = ["iso3", "year", "coal_production_twh", "coal_consumption_twh", "is_synthetic"]


def _read(wh: Warehouse, table: str, columns: list[str], sql: str | None = None) -> pd.DataFrame:
    if not wh.has_table("gold", table):
        return pd.DataFrame(columns=columns)
    return wh.query(sql or f"select {', '.join(columns)} from {wh.schema('gold')}.{table}")


def load_us_mine_panel(wh: Warehouse) -> pd.DataFrame:
    """The EIA mine-year panel from ``gold.fct_us_mine__yearly`` (empty when the table is absent)."""
    return _read(wh, "fct_us_mine__yearly", _US_PANEL_COLUMNS)


def load_gem_releases(wh: Warehouse) -> pd.DataFrame:
    """Statuses per release; the synthetic flag comes from dim_mine (the release table has none)."""
    gold = wh.schema("gold")
    sql = (
        f"select r.gem_mine_id, r.release, r.status, coalesce(d.is_synthetic, false) as is_synthetic "
        f"from {gold}.int_gem_mines__release r left join {gold}.dim_mine d on d.gem_mine_id = r.gem_mine_id"
    )
    if not wh.has_table("gold", "dim_mine"):
        sql = f"select gem_mine_id, release, status, false as is_synthetic from {gold}.int_gem_mines__release"
    return _read(wh, "int_gem_mines__release", _RELEASE_COLUMNS, sql)


def load_dim_mine(wh: Warehouse) -> pd.DataFrame:
    """GEM mines with status, opening and closing years from ``gold.dim_mine`` (empty when absent)."""
    return _read(wh, "dim_mine", _DIM_MINE_COLUMNS)


def load_country_panel(wh: Warehouse) -> pd.DataFrame:
    """Coal production and consumption (TWh) per country and year from ``gold.fct_country__yearly``."""
    return _read(wh, "fct_country__yearly", _COUNTRY_PANEL_COLUMNS)


def load_outcomes(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """All outcome tables, keyed by gold table name; a missing source gives an empty frame."""
    dim = load_dim_mine(wh)
    return {
        "fvi_outcome_us_mine": us_mine_labels(load_us_mine_panel(wh)),
        "fvi_outcome_gem_transition": gem_transition_labels(load_gem_releases(wh)),
        "fvi_outcome_gem_survival": gem_survival(dim),
        "fvi_outcome_gem_hazard": gem_hazard(dim),
        "fvi_outcome_country": country_labels(load_country_panel(wh)),
    }


def write_outcomes(wh: Warehouse) -> dict[str, int]:
    """Write the outcome tables to gold (the warehouse must be writable); rows per table."""
    frames = load_outcomes(wh)
    for name, frame in frames.items():
        wh.write_table("gold", name, frame)
    return {name: len(frame) for name, frame in frames.items()}


def _rates(frame: pd.DataFrame, by: str, label: str) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for key in sorted(frame[by].unique().tolist()):
        g = frame[frame[by] == key]
        out[key] = {"n": len(g), "rate": float(g[label].mean())}
        if "iso3" in g.columns:
            out[key]["countries"] = int(g["iso3"].nunique())
    return out


def _hazard_summary(frame: pd.DataFrame | None) -> dict[str, Any]:
    if frame is None or frame.empty:
        return {"mine_years": 0, "mines": 0, "events": 0}
    return {
        "mine_years": len(frame),
        "mines": int(frame["gem_mine_id"].nunique()),
        "events": int(frame["event"].sum()),
        "countries": int(frame["country_iso3"].nunique()),
        "years": f"{int(frame['year'].min())}-{int(frame['year'].max())}",
    }


def outcome_summary(frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Counts and positive rates per table and horizon (or label kind), for reports and back-tests."""
    survival = frames["fvi_outcome_gem_survival"]
    return {
        "us_mine_viable": _rates(frames["fvi_outcome_us_mine"], "horizon", "viable"),
        "gem_transition": _rates(frames["fvi_outcome_gem_transition"], "label_kind", "label"),
        "gem_survival": {"n": len(survival), "events": int(survival["event"].sum())},
        "gem_hazard": _hazard_summary(frames.get("fvi_outcome_gem_hazard")),
        "country_decline": _rates(frames["fvi_outcome_country"], "horizon", "decline"),
    }
