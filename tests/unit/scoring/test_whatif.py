import pandas as pd
import pytest
from tests.unit.scoring.builders import tiny_world

from fvi.scoring.config import ScoringError
from fvi.scoring.engine import Scorer, build_panels
from fvi.scoring.whatif import WhatIf

EQUAL = {"01": 0.5, "02": 0.5}


@pytest.fixture()
def whatif() -> WhatIf:
    s, countries, mines = tiny_world()
    return WhatIf(Scorer(s, build_panels(countries, mines, s)))


def test_changed_mine_metric_moves_its_own_pillar(whatif: WhatIf) -> None:
    out = whatif.rescore("mine", "x", weights=EQUAL, metric_values={"m1": 70}, horizons=["H10"])["horizons"]["H10"]
    assert out["fvi_baseline"] == pytest.approx(62.0)
    assert out["pillars"]["02"] == pytest.approx(74.0)  # 0.6 * 70 + 0.4 * 80
    assert out["fvi"] == pytest.approx(77.0) and out["delta"] == pytest.approx(15.0)


def test_changed_country_metric_reaches_the_mine(whatif: WhatIf) -> None:
    out = whatif.rescore("mine", "x", weights=EQUAL, metric_values={"c1": 40}, horizons=["H5"])["horizons"]["H5"]
    assert out["pillars"]["01"] == pytest.approx(40.0) and out["fvi"] == pytest.approx(42.0)


def test_custom_weights_and_rank(whatif: WhatIf) -> None:
    out = whatif.rescore("country", "B", weights={"01": 1.0}, horizons=["H20"])
    h = out["horizons"]["H20"]
    assert out["persona"] == "custom" and h["fvi"] == pytest.approx(40.0) and h["rank"] == 2 and h["n_ranked"] == 2


def test_bad_requests_are_refused_with_reasons(whatif: WhatIf) -> None:
    with pytest.raises(ScoringError, match="does not apply"):
        whatif.rescore("country", "A", weights=EQUAL, metric_values={"m1": 1})
    with pytest.raises(ScoringError, match="sum to 1"):
        whatif.rescore("country", "A", weights={"01": 0.2})
    with pytest.raises(ScoringError, match="finite"):
        whatif.rescore("mine", "x", weights=EQUAL, metric_values={"m1": float("nan")})
    with pytest.raises(KeyError, match="nope"):
        whatif.rescore("mine", "nope", weights=EQUAL)
    with pytest.raises(ScoringError, match="entity type"):
        whatif.rescore("plant", "x", weights=EQUAL)


def test_what_if_ranks_among_the_rows_the_stored_ranks_use() -> None:
    """A non-producing country that would lead on its score takes no rank, in the what-if as in the store."""
    s, countries, mines = tiny_world()
    countries["status"] = ["producer", "non_producer"]
    countries.loc[1, "c1"] = 100.0
    countries.loc[1, "c2"] = 0.0
    scorer = Scorer(s, build_panels(countries, mines, s))
    stored = scorer.score_frame({"eq": EQUAL}, horizons=["H10"]).set_index(["entity_type", "entity_id"])
    w = WhatIf(scorer)
    a = w.rescore("country", "A", weights=EQUAL, horizons=["H10"])["horizons"]["H10"]
    b = w.rescore("country", "B", weights=EQUAL, horizons=["H10"])["horizons"]["H10"]
    assert a["rank"] == stored.loc[("country", "A"), "rank"] == 1 and a["n_ranked"] == 1
    assert b["rank"] is None and pd.isna(stored.loc[("country", "B"), "rank"])


def test_custom_weights_are_compared_with_the_published_persona_score() -> None:
    """`what-if --weights` must not report a delta of 0: the published persona score is the baseline too."""
    s, countries, mines = tiny_world()
    w = WhatIf(Scorer(s, build_panels(countries, mines, s)), presets={"analyst": EQUAL})
    out = w.rescore("mine", "x", weights={"01": 1.0}, horizons=["H10"])
    h = out["horizons"]["H10"]
    assert out["published_persona"] == "analyst"
    assert h["delta"] == 0  # no metric changed
    assert h["fvi_published"] == pytest.approx(62.0)  # the equal-weight (published) score
    assert h["delta_vs_published"] == pytest.approx(h["fvi"] - 62.0) and h["delta_vs_published"] != 0
