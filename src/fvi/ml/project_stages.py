"""P(operating) of GEM mines that do not operate at the release, from how coal projects actually moved on.

A proposal, a shelved or cancelled project and a mothballed mine have no closure record, and the
US models (which learned from producing mines) said 0.58 for a cancelled mine. What FVI does
observe is two releases of the GEM Coal Plant Tracker (2017 and 2023): for each stage a project was
in (announced, pre-permit, permitted, construction, shelved, cancelled) the share of units that
were operating one release later. Measured on the real samples: construction 78 %, permitted 21 %,
pre-permit 10 %, shelved 11 %, announced 5 %, cancelled 0.3 %.

A mine at stage s then operates at t + H with probability conversion(s) x S(H), S being the
mine's own survival from the worldwide closure model once it operates, so the answer never rises
with H. Two approximations, stated in every row's note: the plant conversion stands in for mines
(the same permitting, finance and policy pipeline), and it is measured over the releases' span
(about six years) and applied at every horizon (it does not grow with H).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fvi import known
from fvi.registry.vocabulary import MODELS
from fvi.warehouse import Warehouse

MODEL_NAME = next(m.name for m in MODELS if m.estimator == "stage_conversion")  # models.yml
METHOD = "stage_conversion"


@dataclass(frozen=True)
class StageRates:
    """Conversion per plant-tracker stage between two releases."""

    rates: pd.DataFrame  # stage, n, matched, operating_later, rate
    from_release: str
    to_release: str
    years_between: float

    def rate(self, stage: str) -> float:
        """The share of ``stage``'s units operating one release later (0 to 1); NaN for a stage not measured."""
        row = self.rates[self.rates["stage"] == stage]
        return float(row["rate"].iloc[0]) if len(row) else float("nan")


def stage_rates(units: pd.DataFrame) -> StageRates | None:
    """Share of each first-release stage operating at the last release (units in both releases only)."""
    need = {"gem_unit_id", "release", "release_year", "status"}
    if units.empty or not need <= set(units.columns):
        return None
    if "is_duplicate_unit_id" in units:
        units = units[~units["is_duplicate_unit_id"].fillna(False).astype(bool)]
    releases = sorted(units["release"].dropna().astype(str).unique())
    if len(releases) < 2:
        return None
    first, last = releases[0], releases[-1]
    a = units[units["release"] == first][["gem_unit_id", "status"]].drop_duplicates("gem_unit_id")
    b = units[units["release"] == last][["gem_unit_id", "status"]].drop_duplicates("gem_unit_id")
    pair = a.merge(b, on="gem_unit_id", how="left", suffixes=("_from", "_to"))
    pair["status_from"] = pair["status_from"].astype(str).str.strip().str.lower()
    matched = pair["status_to"].notna()
    pair["operating_later"] = pair["status_to"].astype(str).str.strip().str.lower().eq("operating") & matched
    rates = (
        pair.assign(matched=matched)
        .groupby("status_from")
        .agg(n=("gem_unit_id", "size"), matched=("matched", "sum"), operating_later=("operating_later", "sum"))
        .reset_index()
        .rename(columns={"status_from": "stage"})
    )
    rates["rate"] = rates["operating_later"] / rates["matched"].where(rates["matched"] > 0)
    years = units.groupby("release")["release_year"].first()
    return StageRates(rates, first, last, float(years[last] - years[first]))


def stage_of(status: pd.Series, detail: pd.Series, config: Any) -> pd.Series:
    """The plant-tracker stage of each mine (NaN for statuses the config does not map)."""
    st = status.astype("string").str.strip().str.lower()
    de = detail.astype("string").str.strip().str.lower()
    by_detail = de.map({k.lower(): v for k, v in config.by_detail.items()})
    by_status = st.map({k.lower(): v for k, v in config.by_status.items()})
    use_detail = st.isin([s.lower() for s in config.detail_statuses]) & by_detail.notna()
    return by_detail.where(use_detail, by_status)


def load_units(wh: Warehouse) -> pd.DataFrame:
    """The plant-tracker units of every release (silver), or an empty frame."""
    if not wh.has_table("silver", "stg_gem_plants__units"):
        return pd.DataFrame()
    cols = "gem_unit_id, release, release_year, status, is_duplicate_unit_id"
    return wh.query(f"select {cols} from {wh.schema('silver')}.stg_gem_plants__units")


def rate_interval(k: float, n: float, level: float = 0.90) -> tuple[float, float]:
    """Jeffreys interval of a binomial rate (Beta(k + 1/2, n - k + 1/2) quantiles)."""
    from scipy.stats import beta

    if n <= 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k + 0.5, n - k + 0.5))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 0.5, n - k + 0.5))
    return lo, hi


def predictions(
    dim_mine: pd.DataFrame,
    rates: StageRates,
    survival: dict[str, np.ndarray],
    config: Any,
    *,
    version: str,
    bands: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Rows of ``fvi_predictions`` for mines with a mapped stage; ``survival``: horizon label -> S(H) per row.

    The band multiplies the stage rate's Jeffreys 90 % interval by the survival band (``bands``,
    horizon label -> (lo, hi) per row; the point survival when absent).
    """
    stage = stage_of(dim_mine["status"], dim_mine.get("status_detail", pd.Series(index=dim_mine.index)), config)
    rate = stage.map(lambda s: rates.rate(s) if pd.notna(s) else np.nan).astype(float)
    keep = rate.notna().to_numpy()
    if not keep.any():
        return pd.DataFrame()
    table = rates.rates.set_index("stage")
    ci = {st: rate_interval(float(r["operating_later"]), float(r["matched"])) for st, r in table.iterrows()}
    r_lo = stage.map(lambda v: ci.get(v, (np.nan, np.nan))[0] if pd.notna(v) else np.nan).astype(float).to_numpy()
    r_hi = stage.map(lambda v: ci.get(v, (np.nan, np.nan))[1] if pd.notna(v) else np.nan).astype(float).to_numpy()
    as_of = known.release_year(dim_mine[known.RELEASE_COLUMN]).astype(int)
    out = []
    for label, s in survival.items():
        s = np.asarray(s, dtype=float)
        p = rate.to_numpy() * s
        s_lo, s_hi = (bands or {}).get(label, (s, s))
        out.append(
            pd.DataFrame(
                {
                    "entity_type": "mine",
                    "entity_id": dim_mine["gem_mine_id"].astype(str).to_numpy(),
                    "as_of_year": as_of.to_numpy(dtype="int64"),
                    "horizon": label,
                    "target": "operating",
                    "p": p,
                    "p_raw": p,
                    "p_lo": np.fmin(r_lo * np.asarray(s_lo, dtype=float), p),
                    "p_hi": np.fmax(r_hi * np.asarray(s_hi, dtype=float), p),
                    "interval_method": "Jeffreys 90 % interval of the stage rate x the survival band",
                    "model_name": MODEL_NAME,
                    "model_version": version,
                    "method": METHOD,
                    "mlflow_run_id": None,
                    "note": stage.map(lambda v: note(rates, v) if pd.notna(v) else None).to_numpy(),
                }
            )[keep]
        )
    return pd.concat(out, ignore_index=True)


def note(rates: StageRates, stage: str) -> str:
    """The plain-words reason shown beside a stage-based probability."""
    row = rates.rates[rates.rates["stage"] == stage]
    if row.empty:
        return ""
    r = row.iloc[0]
    return (
        f"not operating at the release: {float(r['rate']):.1%} of coal-plant units at stage '{stage}' in GEM "
        f"{rates.from_release} were operating in {rates.to_release} ({int(r['operating_later'])} of "
        f"{int(r['matched'])}), times this mine's survival once operating"
    )
