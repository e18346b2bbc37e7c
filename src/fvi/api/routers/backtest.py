"""The track record: the strict back-test of the latest build (``gold.fvi_backtest``), pooled per level and horizon."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from fvi.api.db import clean
from fvi.api.deps import OptionalReaderDep
from fvi.ml.backtest_data import LEVEL_LABELS, THIN_EVENTS

router = APIRouter(prefix="/backtest", tags=["models"])
log = logging.getLogger(__name__)

TABLE = "fvi_backtest"
FIELDS = (
    "scorer", "model_name", "model_version", "fvi_horizon", "as_of_years", "outcome_years", "n", "n_positive",
    "auc", "brier", "brier_base_rate", "ece", "lift_riskiest_decile", "auc_minus_size", "auc_minus_size_lo",
    "auc_minus_size_hi",
)  # fmt: skip


@router.get("", summary="The back-test: how each scorer ranked what happened, per level and horizon")
def backtest(reader: OptionalReaderDep) -> dict[str, Any]:
    """``levels`` is {level: {description, horizons: {years: [row per scorer]}}} from the pooled rows.

    Each row: AUC, Brier (and the base rate's), expected calibration error, lift in the riskiest
    10 %, and the paired AUC difference against size with its 90 % cluster-bootstrap interval;
    ``thin`` marks rows with fewer than 30 non-viable outcomes.
    """
    out: dict[str, Any] = {"available": False, "note": None, "run_id": None, "levels": {}}
    if reader is None:
        out["note"] = "warehouse unavailable"
        return out
    if not reader.has_table("gold", TABLE):
        out["note"] = "no back-test yet: run `fvi run` (or `fvi backtest`)"
        return out
    rows = reader.rows(
        f"select * from {reader.table('gold', TABLE)} where as_of_year is null order by level, horizon, auc desc"
    )
    levels: dict[str, Any] = {}
    for r in rows:
        level = levels.setdefault(
            str(r["level"]), {"description": LEVEL_LABELS.get(str(r["level"]), ""), "horizons": {}}
        )
        item = {k: clean(r.get(k)) for k in FIELDS if k in r}
        n, pos = item.get("n"), item.get("n_positive")
        item["thin"] = bool(n is not None and pos is not None and int(n) - int(pos) < THIN_EVENTS)
        level["horizons"].setdefault(str(int(r["horizon"])), []).append(item)
    out.update(
        available=bool(levels),
        note=None if levels else "the back-test table is empty",
        run_id=clean(rows[0].get("run_id")) if rows else None,
        levels=levels,
    )
    return out
