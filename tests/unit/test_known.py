"""The one "known by year t" rule: scoring, ML features, the worldwide model and Feast date values alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fvi import known
from fvi.feature_store.store import EVENT_TIMESTAMP, VIEWS, _offline_frame
from fvi.ml import global_mines
from fvi.ml.features import date_cells
from fvi.scoring.config import ScoringSpec
from fvi.warehouse import DuckDBWarehouse


def test_release_years_are_read_from_the_label() -> None:
    got = known.release_year(pd.Series(["2024-04", "2017-01", None, "n/a"]))
    assert got.iloc[:2].tolist() == [2024.0, 2017.0] and got.iloc[2:].isna().all()


def test_release_dated_attributes_are_null_before_the_release_fixed_facts_are_not(tmp_path) -> None:
    dim = pd.DataFrame(
        {"gem_mine_id": ["M1"], "opening_year": [1990], "latitude": [51.5], "latest_release": ["2020-06"]}
    )
    years = pd.DataFrame({"year": [2019, 2020, 2021]})
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        wh.write_table("gold", "dim_mine", dim)
        wh.write_table("gold", "years", years)
        got = wh.query(
            f"select y.year, {known.dim_known_sql('opening_year', 'd', 'y.year')} as opening, "
            f"{known.dim_known_sql('latitude', 'd', 'y.year')} as lat "
            "from gold.years y cross join gold.dim_mine d order by y.year"
        )
    assert pd.isna(got.loc[0, "opening"]) and got["opening"].iloc[1:].tolist() == [1990, 1990]
    assert got["lat"].tolist() == [51.5] * 3


def test_a_reader_of_earlier_years_may_only_take_fixed_attributes() -> None:
    with pytest.raises(ValueError, match="opening_year"):
        known.fixed_columns(["latitude", "opening_year"])
    assert set(global_mines.ATTRIBUTE_COLUMNS) <= set(known.FIXED_ATTRIBUTES)
    assert not known.is_fixed("workforce_size") and not known.is_fixed("status")


def test_snapshot_dates_come_from_the_registry_once() -> None:
    spec = ScoringSpec.from_registry()
    dates = known.snapshot_dates(spec)
    assert dates == {
        m.gold.column: m.known_from_column for m in spec.metrics.values() if m.known_from_column
    } and len(dates) >= 4


def test_ml_cells_and_feast_rows_take_the_release_date_scoring_uses() -> None:
    """One mine whose record is GEM's 2020 release: the ML cell and the Feast row are dated 2020 too."""
    spec = ScoringSpec.from_registry()
    opening = next(m for m in spec.metrics.values() if m.gold.column == "opening_year")
    cells = pd.DataFrame(
        {
            "entity_type": ["mine", "mine"],
            "entity_id": ["M1", "M1"],
            "as_of_year": [2019, 2021],
            "metric_id": [opening.id, opening.id],
            "raw_value": [1990.0, 1990.0],
            "score": [50.0, 50.0],
            "imputation": ["observed", "observed"],
        }
    )
    dated = date_cells(cells, spec, mine_release_year=pd.Series({"M1": 2020.0}), gem_release_year=2020)
    assert dated["data_year"].tolist() == [2020.0, 2021.0]
    assert known.known_at(dated["data_year"], dated["as_of_year"]).tolist() == [False, True]

    view = next(v for v in VIEWS if v.table == "dim_mine")
    dim = pd.DataFrame({"gem_mine_id": ["M1", "M2"], "opening_year": [1990, 2001], "latest_release": ["2020-06", None]})
    rows = _offline_frame(view, dim)
    assert rows[EVENT_TIMESTAMP].iloc[0] == pd.Timestamp("2020-12-31", tz="UTC")
    assert rows[EVENT_TIMESTAMP].iloc[1] == pd.Timestamp("1970-01-01", tz="UTC")  # release unreadable
    assert np.isnan(known.dim_data_year("latitude", pd.Series([2020.0]))).all()
