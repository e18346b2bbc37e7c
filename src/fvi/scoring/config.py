"""What scoring needs from the registry, as arrays: metric order, pillar membership, weights, personas."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from fvi.registry import _read, validate
from fvi.registry.metrics import Defaults, Metric, Pillar, load_defaults, load_metrics, load_pillars

ENTITY_TYPES = ("mine", "country")
WEIGHT_SUM_TOLERANCE = 1e-6


class ScoringError(ValueError):
    """Invalid scoring input (weights, persona, entity, metric); the message says what and why."""


@dataclass(frozen=True)
class Persona:
    """A named set of pillar weights (pillar id -> weight, summing to 1; empty for a learnt persona)."""

    id: str
    name: str
    description: str
    weights: dict[str, float]


def validate_weights(weights: Mapping[str, float], pillars: Iterable[str]) -> dict[str, float]:
    """Pillar weights checked (known pillars, finite, non-negative, sum 1); absent pillars get 0."""
    known = list(pillars)
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise ScoringError(f"unknown pillar(s) {unknown}; pillars are {known}")
    out: dict[str, float] = {}
    for p in known:
        w = float(weights.get(p, 0.0))
        if not math.isfinite(w) or w < 0:
            raise ScoringError(f"weight for pillar {p} must be a finite number >= 0 (got {weights.get(p)})")
        out[p] = w
    total = sum(out.values())
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise ScoringError(f"pillar weights must sum to 1 (got {total:.6g})")
    return out


def check_personas(doc: object, pillars: Iterable[str]) -> dict[str, Persona]:
    """Validate a parsed ``personas.yml`` (schema, unique ids, weights, default); personas by id.

    Raises ScoringError naming the persona whose weights are wrong, or a default persona that is not one of them.
    """
    validate(doc, "personas.schema.yml", "personas.yml")
    assert isinstance(doc, dict)
    known = list(pillars)
    out: dict[str, Persona] = {}
    for raw in doc["personas"]:
        if raw["id"] in out:
            raise ScoringError(f"personas.yml: duplicate persona {raw['id']}")
        try:
            weights = validate_weights(raw["pillar_weights"], known)
        except ScoringError as exc:
            raise ScoringError(f"personas.yml: {raw['id']}: {exc}") from exc
        out[raw["id"]] = Persona(raw["id"], raw["name"], raw["description"], weights)
    if "default" in doc and doc["default"] not in out:
        raise ScoringError(f"personas.yml: default persona {doc['default']!r} is not one of {list(out)}")
    return out


@lru_cache(maxsize=1)
def _personas() -> dict[str, Persona]:
    _, doc = _read("personas.yml")
    return check_personas(doc, load_pillars())


def load_personas() -> dict[str, Persona]:
    """Persona presets by id, in file order."""
    return dict(_personas())


def load_learnt_personas() -> dict[str, Persona]:
    """Personas whose weights are learnt per horizon (``learnt`` in personas.yml); ``weights`` is empty."""
    return dict(_learnt_personas())


@lru_cache(maxsize=1)
def _learnt_personas() -> dict[str, Persona]:
    """Read once, like ``_personas`` (the API checks every request's persona: 4 ms a YAML parse)."""
    _, doc = _read("personas.yml")
    presets = _personas()
    out: dict[str, Persona] = {}
    for raw in doc.get("learnt") or []:
        if raw["id"] in presets or raw["id"] in out:
            raise ScoringError(f"personas.yml: duplicate persona {raw['id']}")
        out[raw["id"]] = Persona(raw["id"], raw["name"], raw["description"], {})
    return out


@dataclass
class EntitySpec:
    """Metric arrays for one entity type (mine metrics for mines, country metrics for countries)."""

    metric_ids: list[str]
    pillar_index: np.ndarray  # [M] index into ScoringSpec.pillar_ids
    horizon_weights: dict[str, np.ndarray]  # horizon -> [M]

    def weight_matrix(self, horizon: str, n_pillars: int) -> np.ndarray:
        """[M, P]: the metric's horizon weight in its pillar's column, 0 elsewhere."""
        w = np.zeros((len(self.metric_ids), n_pillars))
        if self.metric_ids:
            w[np.arange(len(self.metric_ids)), self.pillar_index] = self.horizon_weights[horizon]
        return w


@dataclass
class ScoringSpec:
    """The registry, arranged for vectorised scoring."""

    metrics: dict[str, Metric]
    pillars: dict[str, Pillar]
    defaults: Defaults
    pillar_ids: list[str] = field(init=False)
    entities: dict[str, EntitySpec] = field(init=False)

    def __post_init__(self) -> None:
        self.pillar_ids = list(self.pillars)
        index = {p: i for i, p in enumerate(self.pillar_ids)}
        self.entities = {}
        for et in ENTITY_TYPES:
            ms = [m for m in self.metrics.values() if m.entity == et]
            self.entities[et] = EntitySpec(
                metric_ids=[m.id for m in ms],
                pillar_index=np.array([index[m.pillar] for m in ms], dtype=np.int64),
                horizon_weights={
                    h: np.array([getattr(m.horizon_weights, h) for m in ms], dtype=float) for h in self.horizons
                },
            )

    @property
    def horizons(self) -> list[str]:
        """The scored horizons (``H5``, ``H10``, ``H20``), in registry order."""
        return list(self.defaults.horizons)

    @property
    def blend(self) -> np.ndarray:
        """[P] weight of the country pillar score inside a mine's pillar score."""
        base = self.defaults.scoring.mine_country_blend
        return np.array([base if p.mine_country_blend is None else p.mine_country_blend for p in self.pillars.values()])

    def weight_vector(self, weights: Mapping[str, float]) -> np.ndarray:
        """[P] pillar weights in ``pillar_ids`` order, after :func:`validate_weights` (absent pillars 0)."""
        w = validate_weights(weights, self.pillar_ids)
        return np.array([w[p] for p in self.pillar_ids])

    @classmethod
    def from_registry(cls) -> ScoringSpec:
        """The spec of the packaged registry: its metrics, pillars and defaults."""
        return cls(load_metrics(), load_pillars(), load_defaults())
