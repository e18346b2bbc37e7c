"""Scoring: normalise metrics, aggregate pillars and the composite FVI, audit it, measure its uncertainty.

Follows the OECD/JRC Handbook on Constructing Composite Indicators (Nardo et al., 2008; see
``docs/scoring.md``); every constant comes from the registry (``metrics.yml`` defaults,
``personas.yml``), none is a literal here.
"""

from fvi.scoring.config import Persona, ScoringError, ScoringSpec, load_personas, validate_weights

__all__ = ["Persona", "ScoringError", "ScoringSpec", "load_personas", "validate_weights"]
