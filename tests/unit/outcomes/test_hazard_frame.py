"""The worldwide GEM hazard frame on hand-made mines: left truncation, censoring, closure years."""

from __future__ import annotations

import pandas as pd
import pytest

from fvi.outcomes.hazard_frame import closure_labels, frame_exclusions, gem_hazard_frame
from fvi.outcomes.labels import gem_hazard, load_config

KW = {
    "observed_from": 2015,
    "opened_statuses": ["operating", "closed", "retired"],
    "event_statuses": ["closed", "retired"],
    "not_placed_statuses": ["mothballed"],
}


def _dim(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["gem_mine_id", "status", "opening_year", "closing_year", "latest_release"]
    ).assign(country_iso3="AUS", is_synthetic=False)


def _years(frame: pd.DataFrame, mine: str) -> list[int]:
    return frame.loc[frame["gem_mine_id"] == mine, "year"].tolist()


def test_left_truncation_censoring_and_closure_year() -> None:
    dim = _dim(
        [
            ("OLD", "operating", 1970, None, "2024-04"),  # opened long before the window
            ("NEW", "operating", 2019, None, "2024-04"),  # opened inside it
            ("CL", "closed", None, 2017, "2024-04"),  # opening unknown, closed 2017
            ("EARLY", "closed", 1990, 2010, "2024-04"),  # closed before anything was observed
            ("NOYEAR", "closed", 1990, None, "2024-04"),  # cannot be placed
            ("MOTH", "mothballed", 2000, None, "2024-04"),  # stopped, year unknown
            ("LATE", "closed", 2000, 2024, "2024-04"),  # closed in the release year: censored at 2023
            ("PROP", "proposed", None, None, "2024-04"),
        ]
    )
    f = gem_hazard_frame(dim, **KW)
    assert _years(f, "OLD") == list(range(2015, 2024))  # enters at the window, censored at 2023
    assert _years(f, "NEW") == list(range(2019, 2024))  # enters at its opening year
    assert _years(f, "CL") == [2015, 2016, 2017]
    assert f.loc[f["gem_mine_id"] == "CL", "event"].tolist() == [0, 0, 1]  # event only in the closing year
    assert f.loc[f["gem_mine_id"] == "OLD", "event"].sum() == 0
    assert _years(f, "LATE") == list(range(2015, 2024)) and f.loc[f["gem_mine_id"] == "LATE", "event"].sum() == 0
    for absent in ("EARLY", "NOYEAR", "MOTH", "PROP"):
        assert absent not in set(f["gem_mine_id"])
    assert f.loc[f["gem_mine_id"] == "OLD", "left_truncated"].all()
    assert not f.loc[f["gem_mine_id"] == "NEW", "left_truncated"].any()
    counts = frame_exclusions(dim, **KW)
    assert counts["closed_before_window"] == 1
    assert counts["closed_without_year"] == 1
    assert counts["not_placed_status"] == 1
    assert counts["not_opened"] == 1
    assert counts["spells"] == 4


def test_closure_labels_only_inside_the_window() -> None:
    dim = _dim(
        [
            ("A", "closed", 2000, 2019, "2024-04"),
            ("B", "operating", 2000, None, "2024-04"),
            ("C", "closed", 2000, 2017, "2024-04"),  # closed before the as-of year: not at risk
        ]
    )
    f = gem_hazard_frame(dim, **KW)
    lab = closure_labels(f, horizons=[1, 2, 5, 6], as_of_years=[2018])
    a = lab[lab["gem_mine_id"] == "A"].set_index("horizon")["viable"].to_dict()
    assert a == {1: 0, 2: 0, 5: 0}  # closed in 2019 = T + 1; H=6 would need 2024, outside the frame
    assert set(lab.loc[lab["gem_mine_id"] == "B", "viable"]) == {1}
    assert "C" not in set(lab["gem_mine_id"])
    assert (lab["outcome_year"] == lab["as_of_year"] + lab["horizon"]).all()
    assert lab["outcome_year"].max() <= f["year"].max()


def test_config_driven_frame_and_unknown_layout() -> None:
    cfg = load_config().gem_hazard
    assert cfg.observed_from == 2015
    dim = _dim([("X", "operating", 2010, None, "2024-04")])
    assert _years(gem_hazard(dim), "X")[0] == cfg.observed_from
    with pytest.raises(ValueError, match="closing_year"):
        gem_hazard_frame(dim.drop(columns="closing_year"), **KW)
