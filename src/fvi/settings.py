"""Runtime settings, read from ``FVI_*`` environment variables when asked for (never at import)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One typed place for everything the environment may change."""

    model_config = SettingsConfigDict(env_prefix="FVI_", extra="ignore")

    home: Path = Field(default=Path(".fvi"), description="Working directory for runs, caches, the warehouse.")
    data_dir: Path | None = Field(default=None, description="Local folder laid out like shared/data.")
    warehouse_url: str | None = Field(
        default=None,
        description="postgresql://… for the server profile; unset means DuckDB under FVI_HOME.",
    )
    shared_data: Path = Field(default=Path("../shared/data"), description="Real samples for tests.")
    http_timeout: float = Field(default=60.0, description="Seconds per HTTP request.")
    http_retries: int = Field(default=4, description="Attempts per download before giving up.")
    offline: bool = Field(default=False, description="Never try the live URLs.")
    cache_url: str | None = Field(default=None, description="redis://… for a shared cache; unset means in-process.")
    spark_master: str | None = Field(default=None, description="Spark master URL for batch jobs; unset means local[2].")
    online_store_url: str | None = Field(
        default=None, description="redis://… for the Feast online store; unset means SQLite under FVI_HOME."
    )
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking server; unset means a SQLite store under FVI_HOME/mlflow."
    )
    schedule_cron: str = Field(default="0 2 * * *", description="When the nightly Dagster run starts (cron, UTC).")
    sensor_interval_seconds: int = Field(
        default=3600, ge=60, description="How often the Dagster sensor asks the publishers for ETag/Last-Modified."
    )

    lock_timeout: float = Field(
        default=1800.0, description="Seconds a writer waits for another writer of FVI_HOME before giving up."
    )
    accept_implausible: bool = Field(
        default=False, description="Load a release the plausibility checks refuse (truncated, large row drop)."
    )
    lock_no_wait: bool = Field(default=False, description="Refuse at once when another writer holds FVI_HOME.")

    @property
    def home_abs(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def duckdb_path(self) -> Path:
        return self.home_abs / "warehouse" / "fvi.duckdb"

    @property
    def is_postgres(self) -> bool:
        return bool(self.warehouse_url) and str(self.warehouse_url).startswith(("postgres://", "postgresql"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
