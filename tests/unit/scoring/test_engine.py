import numpy as np
import pandas as pd
import pytest
from tests.unit.scoring.builders import EQUAL, country_frame, metric, spec, tiny_world

from fvi.scoring.engine import Scorer, build_panels, group_ranks, metric_frame


def _scores(**scoring):
    s, countries, mines = tiny_world(**scoring)
    scorer = Scorer(s, build_panels(countries, mines, s))
    frame = scorer.score_frame(EQUAL, horizons=["H10"])
    return scorer, frame.set_index(["entity_type", "entity_id"])


def test_hand_computed_country_and_mine_scores() -> None:
    _, f = _scores()
    assert f.loc[("country", "A"), "fvi"] == pytest.approx(80.0)
    assert f.loc[("country", "B"), "fvi"] == pytest.approx(40.0)
    assert f.loc[("mine", "x"), "pillar_02"] == pytest.approx(44.0)
    assert f.loc[("mine", "x"), "fvi"] == pytest.approx(62.0)


def test_coverage_floor_leaves_thin_entities_unscored() -> None:
    _, f = _scores(min_pillar_coverage=0.5)
    assert f.loc[("mine", "y"), "fvi"] == pytest.approx(90.0)  # only its own pillar 02
    _, f = _scores(min_pillar_coverage=0.6)
    assert ("mine", "y") not in f.index


def test_ranks_and_percentiles() -> None:
    _, f = _scores()
    assert f.loc[("country", "A"), "rank"] == 1 and f.loc[("country", "B"), "rank"] == 2
    assert f.loc[("country", "A"), "percentile"] == 100 and f.loc[("country", "B"), "percentile"] == 50
    assert pd.isna(f.loc[("country", "A"), "rank_in_country"])
    assert f.loc[("mine", "x"), "rank_in_country"] == 1


def test_group_ranks_ties_share_the_best_rank() -> None:
    rank, pct = group_ranks(np.array([5.0, 7.0, 7.0, 1.0, 3.0]), np.array([0, 0, 0, 1, 1]))
    assert rank.tolist() == [3, 1, 1, 2, 1]
    assert pct.tolist() == pytest.approx([100 / 3, 100, 100, 50, 100])


def test_horizon_weights_change_the_pillar_mix() -> None:
    s = spec([metric("a", "01", weights=(1, 1, 0)), metric("b", "01", weights=(0, 1, 1))], ["01"])
    countries = country_frame([{"entity_id": "A", "year": 2020, "a": 100.0, "b": 0.0}])
    scorer = Scorer(s, build_panels(countries, countries.iloc[0:0].assign(status=None), s))
    f = scorer.score_frame({"one": {"01": 1.0}}).set_index("horizon")["fvi"]
    assert f["H5"] == pytest.approx(100) and f["H10"] == pytest.approx(50) and f["H20"] == pytest.approx(0)


def test_imputations_are_carried_into_scores_and_metric_table() -> None:
    s = spec([metric("c1", "01", rule="carry_forward_years", max_years=3), metric("c2", "01")], ["01"], as_of_from=2020)
    countries = country_frame(
        [
            {"entity_id": "A", "year": 2019, "c1": 50.0, "c2": 10.0},
            {"entity_id": "A", "year": 2020, "c1": None, "c2": 30.0},
        ]
    )
    scorer = Scorer(s, build_panels(countries, countries.iloc[0:0].assign(status=None), s))
    f = scorer.score_frame({"one": {"01": 1.0}}, horizons=["H5"])
    assert f["imputed_share"].tolist() == [0.5]
    assert f["fvi"].tolist() == pytest.approx([40.0])
    m = metric_frame(scorer).set_index("metric_id")
    assert m.loc["c1", "imputation"] == "carry_forward" and np.isnan(m.loc["c1", "raw_value"])
    assert m.loc["c1", "value_used"] == 50.0 and m.loc["c2", "imputation"] == "observed"


def test_geometric_run_is_declared_and_lower() -> None:
    s, countries, mines = tiny_world()
    scorer = Scorer(s, build_panels(countries, mines, s))
    a = scorer.score_frame(EQUAL, aggregation="arithmetic").set_index(["entity_type", "entity_id", "horizon"])
    g = scorer.score_frame(EQUAL, aggregation="geometric").set_index(["entity_type", "entity_id", "horizon"])
    assert set(g["aggregation"]) == {"geometric"}
    assert (g["fvi"] <= a.loc[g.index, "fvi"] + 1e-9).all()
    assert g.loc[("mine", "x", "H5"), "fvi"] < a.loc[("mine", "x", "H5"), "fvi"]


def test_closed_mines_and_non_producers_are_never_ranked_among_the_viable() -> None:
    """A closed mine scoring highest still gets no global rank; nor does a country producing no coal."""
    s, countries, mines = tiny_world()
    mines = pd.concat(
        [mines, pd.DataFrame({"entity_id": ["z"], "entity_name": ["z"], "country_iso3": ["A"], "status": ["closed"],
                              "year": [2020], "m1": [100.0]})],
        ignore_index=True,
    )
    countries["status"] = ["producer", "non_producer"]
    countries.loc[1, "c1"] = 100.0  # the non-producer would lead the ranking on its score
    countries.loc[1, "c2"] = 0.0
    scorer = Scorer(s, build_panels(countries, mines, s))
    f = scorer.score_frame(EQUAL, horizons=["H10"]).set_index(["entity_type", "entity_id"])
    assert f.loc[("mine", "z"), "fvi"] > f.loc[("mine", "x"), "fvi"]
    assert pd.isna(f.loc[("mine", "z"), "rank"]) and pd.isna(f.loc[("mine", "z"), "rank_in_country"])
    assert f.loc[("mine", "z"), "rank_in_status"] == 1  # ranked among the closed
    assert f.loc[("mine", "x"), "rank"] in (1, 2) and f.loc[("mine", "x"), "rank_in_country"] == 1
    assert f.loc[("country", "B"), "fvi"] > f.loc[("country", "A"), "fvi"]
    assert pd.isna(f.loc[("country", "B"), "rank"]) and f.loc[("country", "A"), "rank"] == 1
