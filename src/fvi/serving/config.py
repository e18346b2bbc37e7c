"""Settings of the prediction service, read from ``FVI_SERVING_*`` when asked for (never at import).

Kept apart from :class:`fvi.settings.Settings` (as ``fvi.api.config`` is) until they are merged
there; the cache URL and FVI_HOME still come from the core settings.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServingSettings(BaseSettings):
    """What an operator may change about predictions without touching code."""

    model_config = SettingsConfigDict(env_prefix="FVI_SERVING_", extra="ignore")

    cache_ttl_seconds: float = Field(default=3600.0, gt=0, description="How long a computed prediction stays cached.")
    cache_max_entries: int = Field(default=200_000, ge=1, description="In-process cache size (ignored with Redis).")
    batch_sync_limit: int = Field(default=100, ge=1, description="Largest batch answered in the request; above: a job.")
    batch_max_items: int = Field(default=10_000, ge=1, description="Largest batch accepted at all (422 above).")
    max_active_jobs: int = Field(default=8, ge=1, description="Queued or running jobs per worker (503 above).")
    job_ttl_seconds: float = Field(default=3600.0, gt=0, description="How long finished job results are kept.")
    refresh_seconds: float = Field(
        default=30.0, ge=0, description="How often to look for a new build, registry or A/B file (0: on every call)."
    )
    ab_path: Path | None = Field(default=None, description="A/B split file; unset means FVI_HOME/serving/ab.json.")
    default_challenger_share: float = Field(
        default=0.1, ge=0, le=1, description="Share of entities sent to a challenger until the A/B file says otherwise."
    )
    warm_cache: bool = Field(
        default=False,
        description="Compute every entity's prediction into the cache at start-up (background thread, ~1 s/10k).",
    )
    explain_top: int = Field(default=5, ge=1, le=50, description="Drivers put into plain words per explanation.")

    def ab_file(self, home: Path) -> Path:
        return self.ab_path.expanduser().resolve() if self.ab_path else home / "serving" / "ab.json"
