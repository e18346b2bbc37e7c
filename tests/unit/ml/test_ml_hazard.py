import numpy as np
import pandas as pd
import pytest

from fvi.ml.hazard import (
    K_FEATURE,
    extend_hazards,
    hazard_matrix,
    person_period,
    survival_at,
    survival_from_hazards,
)


def test_person_period_stops_at_first_stop_and_at_gaps():
    labels = pd.DataFrame(
        {
            "msha_id": [1, 1, 1, 1, 2, 2, 2, 3, 3],
            "as_of_year": [2008] * 4 + [2009] * 3 + [2008] * 2,
            "horizon": [1, 2, 3, 4, 1, 2, 3, 1, 3],
            "viable": [1, 1, 0, 1, 1, 1, 1, 1, 0],
        }
    )
    pp = person_period(labels)
    # mine 1: stops in year 3 (the restart in year 4 is ignored); mine 2: censored after 3 years;
    # mine 3: year 2 is not covered, so what follows the gap is not used
    assert pp[["msha_id", "k", "event"]].values.tolist() == [
        [1, 1, 0],
        [1, 2, 0],
        [1, 3, 1],
        [2, 1, 0],
        [2, 2, 0],
        [2, 3, 0],
        [3, 1, 0],
    ]
    assert (pp["outcome_year"] == pp["as_of_year"] + pp["k"]).all()


def test_survival_compounds_and_holds_the_last_hazard():
    # hazards h1 = 0.1, h2 = 0.2 estimated; k > 2 held at 0.2 (hand-checked products)
    def predict(frame: pd.DataFrame) -> np.ndarray:
        return 0.1 * frame[K_FEATURE].to_numpy()

    x = pd.DataFrame({"a": [1.0, 2.0]})
    s = survival_at(predict, x, [1, 2, 3, 5, 10], k_max=2)
    assert s[1] == pytest.approx([0.9, 0.9])
    assert s[2] == pytest.approx([0.72, 0.72])
    assert s[3] == pytest.approx([0.576, 0.576])
    assert s[5] == pytest.approx([0.72 * 0.8**3] * 2)
    assert s[10] == pytest.approx([0.72 * 0.8**8] * 2)


def test_hazard_matrix_never_asks_beyond_k_max():
    seen: list[float] = []

    def predict(frame: pd.DataFrame) -> np.ndarray:
        seen.append(float(frame[K_FEATURE].iloc[0]))
        return np.full(len(frame), 0.5)

    h = hazard_matrix(predict, pd.DataFrame({"a": [0.0]}), horizon=6, k_max=3)
    assert seen == [1.0, 2.0, 3.0]
    assert h.shape == (1, 6)
    assert survival_from_hazards(h)[0, -1] == pytest.approx(0.5**6)


def test_extend_hazards_shapes():
    h = np.array([[0.1, 0.3]])
    assert extend_hazards(h, 1).tolist() == [[0.1]]
    assert extend_hazards(h, 4).tolist() == [[0.1, 0.3, 0.3, 0.3]]
    with pytest.raises(ValueError):
        extend_hazards(np.empty((1, 0)), 3)
