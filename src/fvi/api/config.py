"""Settings of the API service, read from ``FVI_API_*`` when asked for (never at import).

Kept apart from :class:`fvi.settings.Settings` until they are merged there; the core settings
(home, warehouse, cache URL) still come from ``fvi.settings.get_settings()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ApiSettings(BaseSettings):
    """What an operator may change about the service without touching code."""

    model_config = SettingsConfigDict(env_prefix="FVI_API_", extra="ignore")

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed by CORS, comma-separated; empty means no cross-origin access.",
    )
    rate_per_minute: int = Field(default=300, ge=1, description="Requests per minute per anonymous client IP.")
    key_rate_per_minute: int = Field(default=1200, ge=1, description="Requests per minute per API key.")
    rate_burst: int = Field(default=60, ge=1, description="Requests a client may make at once before throttling.")
    whatif_rate_per_minute: int = Field(default=60, ge=1, description="What-if rescorings per minute per client.")
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="Largest request body accepted (413 above).")
    cache_ttl_seconds: float = Field(default=300.0, gt=0, description="How long GET responses stay cached.")
    keys_path: Path | None = Field(default=None, description="API key store; unset means FVI_HOME/api/keys.sqlite3.")
    version_check_seconds: float = Field(
        default=5.0, ge=0, description="PostgreSQL only: how often to look for a newer run (DuckDB checks the file)."
    )
    tracing: bool = Field(
        default=True, description="OpenTelemetry spans (exported only with OTEL_EXPORTER_OTLP_ENDPOINT)."
    )
    warm_whatif: bool = Field(
        default=True, description="Build the what-if scorer in the background at start-up (first call fast)."
    )
    service_name: str = Field(default="fvi-api", description="service.name on traces.")
    web_dir: Path | None = Field(
        default=None, description="Built dashboard served at / (unset: the package's static/web, built by make setup)."
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    def keys_file(self, home: Path) -> Path:
        return self.keys_path.expanduser().resolve() if self.keys_path else home / "api" / "keys.sqlite3"
