"""The held-back message the pipeline writes reads back as checks with their failing rows."""

from __future__ import annotations

from fvi.held_back import checks, silver_message, silver_test


def test_silver_tests_read_back_with_their_rows() -> None:
    msg = silver_message([silver_test("range_stg_x__a__0", 1, "fail"), silver_test("stg_x__a", None, "error")],
                         carried=False)
    assert msg == "silver tests failed: range_stg_x__a__0 (1 rows); stg_x__a (error) (no previous build: left empty)"
    assert checks(msg) == [
        {"check": "range_stg_x__a__0", "rows": 1, "detail": "failing rows"},
        {"check": "stg_x__a", "rows": None, "detail": "error"},
    ]


def test_a_refused_release_reads_back_as_plausibility_problems() -> None:
    msg = ("gcp: release refused: gcp.csv: last line cut short; table co2: 10 rows against 100 in the previous "
           "release — previous bronze kept for: co2")
    assert checks(msg) == [
        {"check": "plausibility", "rows": None, "detail": "gcp.csv: last line cut short"},
        {"check": "plausibility", "rows": None, "detail": "table co2: 10 rows against 100 in the previous release"},
    ]


def test_any_other_failure_is_the_ingest_check_and_nothing_is_nothing() -> None:
    assert checks("x.csv: missing required columns: ['iso3']") == [
        {"check": "ingest", "rows": None, "detail": "x.csv: missing required columns: ['iso3']"}]
    assert checks("") == [] and checks(None) == []
