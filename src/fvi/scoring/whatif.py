"""What-if: rescore one entity (or every entity of a type) under custom weights or changed metric values.

Works on a :class:`~fvi.scoring.engine.Scorer` held in memory (the API keeps one per process), with
the nominal modelling choices (goalposts, declared imputation); one entity takes well under a
millisecond, so it can sit behind an API call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fvi.registry.vocabulary import DEFAULT_PERSONA
from fvi.scoring.aggregate import Aggregation, blend, weighted
from fvi.scoring.config import ScoringError, load_personas
from fvi.scoring.engine import ENTITY_METRICS, Scorer, group_ranks
from fvi.scoring.normalise import goalposts


class WhatIf:
    """Rescoring of entities held by a :class:`Scorer` under custom weights or changed metric values."""

    def __init__(self, scorer: Scorer, presets: Mapping[str, Mapping[str, float]] | None = None) -> None:
        """``presets``: persona id -> pillar weights (default: the registry's personas)."""
        self.scorer = scorer
        self._presets = presets
        self.spec = scorer.spec
        self._index = {
            et: {(e, int(y)): i for i, (e, y) in enumerate(zip(p.keys["entity_id"], p.keys["as_of_year"], strict=True))}
            for et, p in scorer.panels.items()
        }

    def _weights(self, persona: str | None, weights: Mapping[str, float] | None) -> tuple[str, np.ndarray]:
        if weights is not None:
            return "custom", self.spec.weight_vector(weights)
        presets = (
            dict(self._presets) if self._presets is not None else {k: p.weights for k, p in load_personas().items()}
        )
        pid = persona or DEFAULT_PERSONA
        if pid not in presets:
            raise ScoringError(f"unknown persona {pid!r}; known: {sorted(presets)}")
        return pid, self.spec.weight_vector(presets[pid])

    def row(self, entity_type: str, entity_id: str, as_of_year: int | None = None) -> int:
        """The panel row of an entity at ``as_of_year`` (None: its latest scored year).

        Raises ScoringError for an unknown entity type and KeyError when the entity has no scores then.
        """
        if entity_type not in self.scorer.panels:
            raise ScoringError(f"unknown entity type {entity_type!r}; use 'mine' or 'country'")
        panel = self.scorer.panels[entity_type]
        if as_of_year is None:
            years = panel.keys.loc[panel.keys["entity_id"] == entity_id, "as_of_year"]
            if years.empty:
                raise KeyError(f"{entity_type} {entity_id!r} has no scores")
            as_of_year = int(years.max())
        i = self._index[entity_type].get((entity_id, int(as_of_year)))
        if i is None:
            raise KeyError(f"{entity_type} {entity_id!r} has no scores for {as_of_year}")
        return i

    def _own_pillars(
        self, entity_type: str, row: int, horizon: str, overrides: Mapping[str, float], agg: Aggregation
    ) -> np.ndarray:
        panel = self.scorer.panels[entity_type]
        scores = self.scorer.metric_scores(entity_type)[row].copy()
        for mid, value in overrides.items():
            j = panel.column(mid)
            scores[j] = goalposts(np.array([float(value)]), self.spec.metrics[mid])[0]
        w = self.spec.entities[ENTITY_METRICS[entity_type]].weight_matrix(horizon, len(self.spec.pillar_ids))
        return weighted(scores[None, :], w, agg, self.scorer.floor)[0][0]

    def pillars(
        self, entity_type: str, row: int, horizon: str, overrides: Mapping[str, float], agg: Aggregation
    ) -> np.ndarray:
        """[P] pillar scores of one row with ``overrides`` (metric id -> value) applied."""
        own_ids = set(self.spec.entities[ENTITY_METRICS[entity_type]].metric_ids)
        mine_over = {k: v for k, v in overrides.items() if k in own_ids}
        if entity_type == "country":
            return self._own_pillars("country", row, horizon, mine_over, agg)
        own = self._own_pillars(entity_type, row, horizon, mine_over, agg)
        country_over = {k: v for k, v in overrides.items() if k not in own_ids}
        context = self.scorer.panels[entity_type].context_row
        ctx_row = int(context[row]) if context is not None else -1
        if ctx_row < 0:
            ctx = np.full(own.shape, np.nan)
        elif country_over:
            ctx = self._own_pillars("country", ctx_row, horizon, country_over, agg)
        else:
            ctx = self.scorer.pillar_scores("country", horizon, "goalposts", "declared", agg)[ctx_row]
        return blend(own[None, :], ctx[None, :], self.spec.blend, agg, self.scorer.floor)[0]

    def rescore(
        self,
        entity_type: str,
        entity_id: str,
        *,
        as_of_year: int | None = None,
        horizons: list[str] | None = None,
        persona: str | None = None,
        weights: Mapping[str, float] | None = None,
        metric_values: Mapping[str, float] | None = None,
        aggregation: Aggregation | None = None,
    ) -> dict[str, Any]:
        """What-if FVI, pillars, rank and percentile of one entity per horizon.

        ``fvi_baseline`` uses the same weights on the unchanged metric values, so ``delta`` is the
        effect of ``metric_values`` alone; ``fvi_published`` is the persona's stored score (its preset
        weights on unchanged values) and ``delta_vs_published`` the effect of the weights and the
        values together (what ``--weights`` asks about).
        """
        overrides = dict(metric_values or {})
        if entity_type not in self.scorer.panels:
            raise ScoringError(f"unknown entity type {entity_type!r}; use one of {sorted(self.scorer.panels)}")
        allowed = set(self.spec.entities[ENTITY_METRICS[entity_type]].metric_ids)
        if entity_type != "country":
            allowed |= set(self.spec.entities["country"].metric_ids)
        for mid, value in overrides.items():
            if mid not in allowed:
                raise ScoringError(f"metric {mid!r} does not apply to a {entity_type}")
            if not np.isfinite(float(value)):
                raise ScoringError(f"metric {mid!r}: value must be a finite number")
        row = self.row(entity_type, entity_id, as_of_year)
        agg: Aggregation = aggregation or self.spec.defaults.aggregation
        label, w = self._weights(persona, weights)
        # the published score it is compared with: the persona's preset weights on unchanged values
        published_label: str = label
        published_w: np.ndarray | None = w
        if weights is not None:
            try:
                published_label, published_w = self._weights(persona, None)
            except ScoringError:  # presets that do not fit this spec (a test world): no published baseline
                published_label, published_w = "", None
        panel = self.scorer.panels[entity_type]
        year = int(panel.keys["as_of_year"].iloc[row])
        same_year = np.flatnonzero(panel.keys["as_of_year"].to_numpy() == year)
        out: dict[str, Any] = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "as_of_year": year,
            "persona": label,
            "published_persona": published_label or None,
            "aggregation": agg,
            "overrides": overrides,
            "horizons": {},
        }
        for h in horizons or self.spec.horizons:
            if h not in self.spec.horizons:
                raise ScoringError(f"unknown horizon {h!r}; use one of {self.spec.horizons}")
            base_pillars = self.scorer.pillar_scores(entity_type, h, "goalposts", "declared", agg)
            new_p = self.pillars(entity_type, row, h, overrides, agg) if overrides else base_pillars[row]
            base_fvi = self.scorer.composite(base_pillars[row][None, :], w, agg)[0][0, 0]
            pub_fvi = (
                self.scorer.composite(base_pillars[row][None, :], published_w, agg)[0][0, 0]
                if published_w is not None
                else np.nan
            )
            new_fvi = self.scorer.composite(new_p[None, :], w, agg)[0][0, 0]
            others = self.scorer.composite(base_pillars[same_year], w, agg)[0][:, 0]
            others[same_year == row] = new_fvi
            # ranked among the same rows as the stored ranks: closed mines and non-producers sit out
            ok = ~np.isnan(others) & self.scorer.rankable(entity_type)[same_year]
            rank, pct = group_ranks(others[ok], np.zeros(int(ok.sum()), dtype=np.int64))
            pos = np.flatnonzero(same_year[ok] == row)
            out["horizons"][h] = {
                "fvi_baseline": _num(base_fvi),
                "fvi": _num(new_fvi),
                "delta": _num(new_fvi - base_fvi) if np.isfinite(new_fvi) and np.isfinite(base_fvi) else None,
                "fvi_published": _num(pub_fvi),
                "delta_vs_published": _num(new_fvi - pub_fvi) if np.isfinite(new_fvi * pub_fvi) else None,
                "pillars": {p: _num(v) for p, v in zip(self.spec.pillar_ids, new_p, strict=True)},
                "rank": int(rank[pos[0]]) if len(pos) else None,
                "percentile": _num(pct[pos[0]]) if len(pos) else None,
                "n_ranked": int(ok.sum()),
            }
        return out


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)
