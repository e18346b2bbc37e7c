"""The FVI's calibrated P(viable): increasing in the FVI, strictly time-correct, honest band."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fvi.ml import fvi_calibration as fc


def _level(seed: int = 1, years: range = range(2000, 2012), horizon: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for t in years:
        fvi = rng.uniform(0, 100, 80)
        viable = (rng.uniform(0, 1, 80) < 0.2 + 0.6 * fvi / 100).astype(int)
        rows.append(
            pd.DataFrame(
                {
                    "entity_id": [f"E{i}" for i in range(80)],
                    "as_of_year": t,
                    "horizon": horizon,
                    "outcome_year": t + horizon,
                    "viable": viable,
                    "fvi": fvi,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_the_map_never_gives_a_higher_fvi_a_lower_probability() -> None:
    frame = _level()
    iso = fc.fit_map(frame["fvi"], frame["viable"])
    grid = np.linspace(-10, 110, 200)
    p = iso.predict(grid)
    assert (np.diff(p) >= 0).all() and p.min() >= 0 and p.max() <= 1
    assert p[-1] - p[0] > 0.3  # it learnt the slope


def test_a_row_at_t_is_read_through_labels_known_by_t_only() -> None:
    frame = _level()
    col = fc.strict_column(frame)
    # as-of 2000-2004: no label has an outcome year <= t yet (2005 is the first)
    assert col[frame["as_of_year"] < 2005].isna().all()
    assert col[frame["as_of_year"] >= 2006].notna().all()
    # changing outcomes that resolve after 2008 does not move any row at as-of <= 2008
    future = frame["outcome_year"] > 2008
    flipped = frame.assign(viable=np.where(future, 1 - frame["viable"], frame["viable"]))
    early = frame["as_of_year"] <= 2008
    pd.testing.assert_series_equal(fc.strict_column(flipped)[early], col[early])
    assert not fc.strict_column(flipped)[~early].equals(col[~early])


def test_published_rows_hold_their_point_inside_the_band_and_count_their_labels() -> None:
    frame = _level()
    latest = pd.DataFrame(
        {"entity_id": ["A", "B", "C"], "as_of_year": 2015, "fvi_horizon": "H5", "fvi": [5.0, 50.0, 95.0]}
    )
    out = fc.viability_table("country", "country", frame, latest, persona="analyst", n_boot=50)
    assert list(out.columns) == fc.VIABILITY_COLUMNS and len(out) == 3
    assert (out["p_viable_lo"] <= out["p_viable"]).all() and (out["p_viable"] <= out["p_viable_hi"]).all()
    assert out["p_viable"].is_monotonic_increasing and out["p_viable"].iloc[-1] > out["p_viable"].iloc[0]
    assert (out["n_labels"] == len(frame)).all() and out["label_years"].iloc[0] == "2005-2016"
    # too few labels: nothing published rather than a guess
    assert fc.viability_table("country", "country", frame.head(50), latest, persona="analyst").empty
