"""Observed outcomes (labels) for back-testing the index, strictly time-correct."""

from fvi.outcomes.labels import (
    OUTCOME_TABLES,
    LeakageError,
    assert_no_leakage,
    country_labels,
    feature_panel_asof,
    features_asof,
    gem_survival,
    gem_transition_dropouts,
    gem_transition_labels,
    load_config,
    load_outcomes,
    outcome_summary,
    us_mine_labels,
    write_outcomes,
)

__all__ = [
    "OUTCOME_TABLES",
    "LeakageError",
    "assert_no_leakage",
    "country_labels",
    "feature_panel_asof",
    "features_asof",
    "gem_survival",
    "gem_transition_dropouts",
    "gem_transition_labels",
    "load_config",
    "load_outcomes",
    "outcome_summary",
    "us_mine_labels",
    "write_outcomes",
]
