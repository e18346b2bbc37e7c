"""The Feast feature store: generated from the metric registry, fed from the gold tables.

Built on request only (``fvi features``, Dagster job ``fvi_feature_store``): neither training nor
serving reads it yet (``docs/models.md``). The store holds no logic of its own, only what the
registry names (see :mod:`fvi.feature_store.store`).
"""

from fvi.feature_store.store import (
    apply_and_materialize,
    build_feature_store,
    export_offline,
    feast_dir,
    generate_repo,
    online_features,
    open_store,
)

__all__ = [
    "apply_and_materialize",
    "build_feature_store",
    "export_offline",
    "feast_dir",
    "generate_repo",
    "online_features",
    "open_store",
]
