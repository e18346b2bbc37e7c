"""GEM mines worldwide as a discrete-time hazard frame: one row per mine and year at risk.

The GEM Coal Mine Tracker lists closed mines with their closing year beside the operating ones, so
one release already holds survival data for mines in every country. This module turns it into the
frame a yearly hazard model learns from (Singer & Willett's person-period layout):

* **At risk** in year y: a mine that had opened by y (``opening_year <= y``) and had not closed
  before y. The event is ``closing_year == y``; a closed or retired mine leaves the frame after its
  event year, an operating mine is censored at the last full year before the release.
* **Left truncation.** The tracker records closures densely only from ``observed_from`` (2015 in
  ``outcomes.yml``: a handful of closures before it against 100-190 a year after), so a mine enters
  the risk set at ``max(observed_from, opening_year)``; years before it are not at risk because a
  closure then would not have been seen. A mine closed before ``observed_from`` never enters.
* **Not placed.** A closed mine without a closing year, and a mothballed mine (the release gives no
  year in which it stopped), cannot be placed in time; they are left out and counted
  (:func:`frame_exclusions`), not guessed.

Back-test labels (:func:`closure_labels`): for an as-of year T and horizon H, every mine at risk in
T + 1 (so operating at the end of T) is ``viable`` unless it closed in T + 1 .. T + H; only pairs
with T + H inside the observed window are labelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from fvi import known

HAZARD_FRAME_COLUMNS: dict[str, str] = {
    "gem_mine_id": "object",
    "country_iso3": "object",
    "year": "int64",
    "event": "int64",
    "entry_year": "int64",
    "exit_year": "int64",
    "left_truncated": "bool",
    "is_synthetic": "bool",
}
CLOSURE_LABEL_COLUMNS: dict[str, str] = {
    "gem_mine_id": "object",
    "as_of_year": "int64",
    "horizon": "int64",
    "outcome_year": "int64",
    "viable": "int64",
}


def _empty(schema: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})


def _spells(
    dim_mine: pd.DataFrame,
    *,
    observed_from: int,
    release_year: int | None = None,
    opened_statuses: Iterable[str],
    event_statuses: Iterable[str],
    not_placed_statuses: Iterable[str] = (),
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One spell (entry, exit, event) per mine that can be placed in time, and the exclusion counts."""
    need = ["gem_mine_id", "status", "opening_year", "closing_year"]
    missing = [c for c in need if c not in dim_mine.columns]
    if missing:
        raise ValueError(f"dim_mine lacks columns {missing}")
    status = dim_mine["status"].astype("string").str.strip().str.lower()
    opened = status.isin([s.lower() for s in opened_statuses])
    events = status.isin([s.lower() for s in event_statuses])
    unplaced = status.isin([s.lower() for s in not_placed_statuses])
    if "latest_release" in dim_mine.columns:
        release = known.release_year(dim_mine[known.RELEASE_COLUMN])
        if release_year is not None:
            release = release.fillna(float(release_year))
    elif release_year is not None:
        release = pd.Series(float(release_year), index=dim_mine.index)
    else:
        raise ValueError("dim_mine has no latest_release column: pass release_year")
    last_full = release - 1  # the release year itself is only partly observed
    opening = pd.to_numeric(dim_mine["opening_year"], errors="coerce")
    closing = pd.to_numeric(dim_mine["closing_year"], errors="coerce")
    entry = np.maximum(opening.fillna(observed_from), observed_from)
    exit_ = closing.where(events & closing.notna() & (closing <= last_full), last_full)
    event = (events & closing.notna() & (closing <= last_full)).astype("int64")
    counts = {
        "not_opened": int((~opened & ~unplaced).sum()),
        "not_placed_status": int(unplaced.sum()),
        "closed_without_year": int((opened & events & closing.isna()).sum()),
        "closed_before_window": int((opened & events & closing.notna() & (closing < observed_from)).sum()),
        "opened_after_window": int((opened & (entry > last_full)).sum()),
    }
    keep = opened & ~unplaced & ~(events & closing.isna()) & ~(events & (closing < observed_from))
    keep &= release.notna() & (entry <= exit_)
    spells = pd.DataFrame(
        {
            "gem_mine_id": dim_mine["gem_mine_id"].astype(str),
            "country_iso3": dim_mine["country_iso3"] if "country_iso3" in dim_mine.columns else None,
            "entry_year": entry,
            "exit_year": exit_,
            "event": event,
            "left_truncated": opening.isna() | (opening < observed_from),
            "is_synthetic": (
                dim_mine["is_synthetic"].fillna(False).astype(bool) if "is_synthetic" in dim_mine.columns else False
            ),
        }
    )[keep]
    counts["spells"] = len(spells)
    return spells, counts


def gem_hazard_frame(
    dim_mine: pd.DataFrame,
    *,
    observed_from: int,
    opened_statuses: Iterable[str],
    event_statuses: Iterable[str],
    not_placed_statuses: Iterable[str] = (),
    release_year: int | None = None,
) -> pd.DataFrame:
    """Mine x year rows at risk with ``event`` = 1 in the closing year (see the module docstring)."""
    if dim_mine.empty:
        return _empty(HAZARD_FRAME_COLUMNS)
    spells, _ = _spells(
        dim_mine,
        observed_from=observed_from,
        release_year=release_year,
        opened_statuses=opened_statuses,
        event_statuses=event_statuses,
        not_placed_statuses=not_placed_statuses,
    )
    if spells.empty:
        return _empty(HAZARD_FRAME_COLUMNS)
    n_years = (spells["exit_year"] - spells["entry_year"] + 1).astype("int64").to_numpy()
    rows = spells.loc[spells.index.repeat(n_years)].reset_index(drop=True)
    offset = rows.groupby("gem_mine_id", sort=False).cumcount().to_numpy()
    rows["year"] = rows["entry_year"].astype("int64").to_numpy() + offset
    rows["event"] = ((rows["event"] == 1) & (rows["year"] == rows["exit_year"])).astype("int64")
    rows = rows.sort_values(["gem_mine_id", "year"], kind="stable").reset_index(drop=True)
    return rows.astype(HAZARD_FRAME_COLUMNS)[list(HAZARD_FRAME_COLUMNS)]


def frame_exclusions(dim_mine: pd.DataFrame, **settings: Any) -> dict[str, int]:
    """How many mines the frame holds and why the others are not in it (same settings as the frame)."""
    if dim_mine.empty:
        return {"spells": 0}
    return _spells(dim_mine, **settings)[1]


def closure_labels(frame: pd.DataFrame, horizons: Iterable[int], as_of_years: Iterable[int]) -> pd.DataFrame:
    """Per (mine, as-of T, H): viable = 1 unless the mine closed in T+1..T+H; only T+H inside the frame."""
    if frame.empty:
        return _empty(CLOSURE_LABEL_COLUMNS)
    last = int(frame["year"].max())
    first_event = frame[frame["event"] == 1].groupby("gem_mine_id")["year"].min()
    out = []
    for t in as_of_years:
        at_risk = frame.loc[frame["year"] == int(t) + 1, "gem_mine_id"].drop_duplicates()
        closed = at_risk.map(first_event)
        for h in horizons:
            if int(t) + int(h) > last:
                continue
            out.append(
                pd.DataFrame(
                    {
                        "gem_mine_id": at_risk.to_numpy(),
                        "as_of_year": int(t),
                        "horizon": int(h),
                        "outcome_year": int(t) + int(h),
                        "viable": (~(closed <= int(t) + int(h))).astype("int64").to_numpy(),
                    }
                )
            )
    if not out:
        return _empty(CLOSURE_LABEL_COLUMNS)
    return pd.concat(out, ignore_index=True).astype(CLOSURE_LABEL_COLUMNS)
