import numpy as np
import pytest
from tests.unit.scoring.builders import metric

from fvi.registry.metrics import Winsorisation
from fvi.scoring.normalise import goalposts, jrc_winsorise, minmax, rank

RULE = Winsorisation(max_skew=2.0, max_kurtosis=3.5, max_points=5)


def test_goalposts_map_and_clip() -> None:
    m = metric("x", "01", low=10, high=20)
    assert goalposts(np.array([10, 15, 20, 0, 99, np.nan]), m).tolist()[:5] == [0, 50, 100, 0, 100]
    assert np.isnan(goalposts(np.array([np.nan]), m)[0])


def test_polarity_flips_direction() -> None:
    up = metric("x", "01", low=0, high=50)
    down = metric("y", "01", low=0, high=50, polarity="lower_is_better")
    v = np.array([10.0, 40.0])
    assert goalposts(v, up).tolist() == [20, 80]
    assert goalposts(v, down).tolist() == [80, 20]


def test_log_transform_uses_log_goalposts() -> None:
    m = metric("x", "01", low=1, high=10000, transform="log")
    assert goalposts(np.array([1, 10, 100, 10000, 0.0]), m).tolist() == pytest.approx([0, 25, 50, 100, 0])


def test_boolean_transform() -> None:
    m = metric("x", "01", low=0, high=1, transform="boolean", polarity="lower_is_better")
    assert goalposts(np.array([0, 1, 1]), m).tolist() == [100, 0, 0]


def test_jrc_winsorisation_pulls_outliers_only_when_skewed() -> None:
    calm = np.arange(20, dtype=float)
    same, n = jrc_winsorise(calm, RULE)
    assert n == 0 and (same == calm).all()
    skewed = np.r_[np.ones(30), 2.0, 1000.0]
    out, n = jrc_winsorise(skewed, RULE)
    assert n >= 1 and out.max() < 1000


def test_minmax_and_rank_alternatives() -> None:
    m = metric("x", "01", polarity="lower_is_better")
    v = np.array([1.0, 2.0, 3.0, np.nan])
    assert minmax(v, m, RULE)[:3].tolist() == [100, 50, 0]
    assert rank(v, m)[:3].tolist() == [100, 50, 0]
    assert np.isnan(minmax(v, m, RULE)[3]) and np.isnan(rank(v, m)[3])


def test_log_transform_clips_zero_and_negative_values_to_the_low_goalpost() -> None:
    """A zero or negative value on a log metric scores the low goalpost (0 here), never NaN or -inf."""
    from fvi.scoring.normalise import transformed

    m = metric("x", "01", low=1, high=10000, transform="log")
    with np.errstate(all="raise"):  # log10 of 0 or of a negative number would raise here
        t = transformed(np.array([0.0, -5.0, 10.0]), m)
    assert t.tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert goalposts(np.array([-5.0, 0.0]), m).tolist() == [0.0, 0.0]


def test_log1p_transform_clips_negative_values_to_zero() -> None:
    """log1p of a value below -1 is NaN and of -1 is -inf: negatives are clipped to 0 first."""
    from fvi.scoring.normalise import transformed

    m = metric("x", "01", low=0, high=np.e**2 - 1, transform="log1p")
    with np.errstate(all="raise"):
        t = transformed(np.array([-5.0, -1.0, 0.0, np.e - 1, np.nan]), m)
    assert t[:4].tolist() == pytest.approx([0.0, 0.0, 0.0, 1.0])
    assert np.isnan(t[4])
    assert goalposts(np.array([-5.0, -1.0, np.e - 1]), m).tolist() == pytest.approx([0.0, 0.0, 50.0])


def test_log_clip_keeps_minmax_and_rank_finite_when_a_value_is_zero() -> None:
    """Min-max and rank see the clipped log: a zero ties with the low goalpost, and nothing is -inf.

    Without the clip log10(0) = -inf makes every min-max score NaN and ranks the zero below the
    value at the low goalpost.
    """
    m = metric("x", "01", low=1, high=10000, transform="log")
    v = np.array([0.0, 1.0, 10.0, 100.0, np.nan])
    with np.errstate(all="raise"):
        mm = minmax(v, m, RULE)
        rk = rank(v, m)
    assert mm[:4].tolist() == pytest.approx([0.0, 0.0, 50.0, 100.0])
    assert rk[:4].tolist() == pytest.approx([100 / 6, 100 / 6, 200 / 3, 100.0])
    assert np.isnan(mm[4]) and np.isnan(rk[4])
