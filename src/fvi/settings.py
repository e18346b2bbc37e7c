"""Runtime settings: one :class:`Settings`, nested by concern, read from ``FVI_*`` variables at the edge.

The command line, the API factory and the Dagster definitions build it once (``get_settings()``)
and pass it down; library code takes it (or the group it needs: ``settings.api``,
``settings.serving``) as an argument and never reads the environment itself. Each group keeps
the variable names operators already use (``FVI_API_*``, ``FVI_SERVING_*``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
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
    response_cache_ttl_seconds: float = Field(
        default=300.0,
        gt=0,
        validation_alias=AliasChoices("FVI_API_RESPONSE_CACHE_TTL_SECONDS", "FVI_API_CACHE_TTL_SECONDS"),
        description="How long GET responses stay cached (FVI_API_CACHE_TTL_SECONDS is read too).",
    )
    keys_path: Path | None = Field(default=None, description="API key store; unset means FVI_HOME/api/keys.sqlite3.")
    version_check_seconds: float = Field(
        default=5.0, ge=0, description="PostgreSQL only: how often to look for a newer run (DuckDB checks the file)."
    )
    tracing: bool = Field(
        default=True, description="OpenTelemetry spans (exported only with OTEL_EXPORTER_OTLP_ENDPOINT)."
    )
    metrics: bool = Field(
        default=True, description="Prometheus request latency and counts per route (/metrics keeps the rest)."
    )
    access_log_sample: float = Field(
        default=0.01, ge=0, le=1,
        description="Share of ordinary requests written to the access log (errors and slow ones always are).",
    )
    access_log_slow_ms: float = Field(default=500.0, ge=0, description="Requests at least this slow are always logged.")
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
        """The API key store: ``keys_path`` resolved, else ``<home>/api/keys.sqlite3``."""
        return self.keys_path.expanduser().resolve() if self.keys_path else home / "api" / "keys.sqlite3"


class ServingSettings(BaseSettings):
    """What an operator may change about predictions without touching code."""

    model_config = SettingsConfigDict(env_prefix="FVI_SERVING_", extra="ignore")

    prediction_cache_ttl_seconds: float = Field(
        default=3600.0, gt=0,
        validation_alias=AliasChoices("FVI_SERVING_PREDICTION_CACHE_TTL_SECONDS", "FVI_SERVING_CACHE_TTL_SECONDS"),
        description="How long a computed prediction stays cached (FVI_SERVING_CACHE_TTL_SECONDS is read too).",
    )
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
        """The A/B split file: ``ab_path`` resolved, else ``<home>/serving/ab.json``."""
        return self.ab_path.expanduser().resolve() if self.ab_path else home / "serving" / "ab.json"



class ChatSettings(BaseSettings):
    """The chat: answering backend, limits, documents, the GEM wiki spider (FVI_LLM_*, FVI_CHAT_*, OPENAI_API_KEY)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("FVI_LLM_BASE_URL"),
        description="An OpenAI-compatible server (vLLM, Ollama, llama.cpp): .../v1. Unset with a key: OpenAI.",
    )
    llm_model: str | None = Field(default=None, validation_alias=AliasChoices("FVI_LLM_MODEL"))
    llm_api_key: str | None = Field(default=None, validation_alias=AliasChoices("FVI_LLM_API_KEY", "OPENAI_API_KEY"))
    llm_timeout: float = Field(default=20.0, gt=0, validation_alias=AliasChoices("FVI_LLM_TIMEOUT"))
    top_k: int = Field(default=5, ge=1, le=20, validation_alias=AliasChoices("FVI_CHAT_TOP_K"))
    max_sentences: int = Field(default=4, ge=1, le=12, validation_alias=AliasChoices("FVI_CHAT_MAX_SENTENCES"))

    fact_sheet_mines: int = Field(
        default=300, ge=-1, validation_alias=AliasChoices("FVI_CHAT_FACT_SHEET_MINES"),
        description="Mines given a fact sheet (largest capacity first); -1 for all. Every country gets one.",
    )

    docs_in_run: bool = Field(
        default=True, validation_alias=AliasChoices("FVI_CHAT_DOCS_IN_RUN"),
        description="`fvi run` ingests and embeds the chat documents after the build (false: `fvi docs ingest` only).",
    )

    spider: bool = Field(
        default=False, validation_alias=AliasChoices("FVI_SPIDER"),
        description="`fvi run` and `fvi docs ingest` also crawl the GEM wiki (off: only with `--spider`).",
    )
    spider_max_pages: int = Field(default=200, ge=0, validation_alias=AliasChoices("FVI_SPIDER_MAX_PAGES"),
                                  description="Pages the spider requests per run at most.")
    spider_delay: float = Field(
        default=2.0, gt=0, validation_alias=AliasChoices("FVI_SPIDER_DELAY"),
        description="Seconds between two requests to one host (robots.txt Crawl-delay may raise it).",
    )
    spider_retries: int = Field(default=4, ge=0, le=10, validation_alias=AliasChoices("FVI_SPIDER_RETRIES"))
    spider_max_wait: float = Field(default=120.0, gt=0, validation_alias=AliasChoices("FVI_SPIDER_MAX_WAIT"),
                                   description="A 429/5xx asking to wait longer than this gives the page up.")
    spider_timeout: float = Field(default=20.0, gt=0, validation_alias=AliasChoices("FVI_SPIDER_TIMEOUT"))
    spider_hosts: str | None = Field(
        default=None, validation_alias=AliasChoices("FVI_SPIDER_HOSTS"),
        description="Comma-separated hosts the spider may crawl; unset: those in rag/spider.yml (gem.wiki).",
    )

    vector_store: Literal["auto", "embedded", "pgvector"] = Field(
        default="auto", validation_alias=AliasChoices("FVI_CHAT_VECTOR_STORE"),
        description="Dense retrieval: auto = pgvector when FVI_WAREHOUSE_URL is PostgreSQL (server profile), "
                    "else exact cosine in memory over the embedded DuckDB store.",
    )

    model_cache: Path | None = Field(
        default=None, validation_alias=AliasChoices("FVI_CHAT_MODEL_CACHE"),
        description="Where the ONNX export of the embedding model is kept; unset means FVI_HOME/rag/models.",
    )

    @property
    def llm_enabled(self) -> bool:
        """Whether answers may come from a language model (a server URL or an API key is set)."""
        return bool(self.llm_base_url or self.llm_api_key)

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root without a trailing slash (OpenAI's when none is set)."""
        return (self.llm_base_url or "https://api.openai.com/v1").rstrip("/")

    @property
    def model(self) -> str:
        """The model to ask: ``FVI_LLM_MODEL``, else ``gpt-4o`` on OpenAI or ``default`` on a local server."""
        return self.llm_model or ("gpt-4o" if not self.llm_base_url else "default")


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
    dbt_project_dir: Path | None = Field(
        default=None, description="The dbt project (warehouse/); unset means the one shipped beside the package."
    )

    api: ApiSettings = Field(default_factory=ApiSettings, description="The HTTP service (FVI_API_*).")
    serving: ServingSettings = Field(default_factory=ServingSettings, description="Predictions (FVI_SERVING_*).")
    chat: ChatSettings = Field(
        default_factory=ChatSettings, description="The chat and its documents (FVI_LLM_*, FVI_CHAT_*, FVI_SPIDER*)."
    )

    @property
    def home_abs(self) -> Path:
        """``FVI_HOME`` as an absolute path (``~`` expanded, symlinks resolved)."""
        return self.home.expanduser().resolve()

    @property
    def duckdb_path(self) -> Path:
        """The live DuckDB warehouse file: ``<FVI_HOME>/warehouse/fvi.duckdb``."""
        return self.home_abs / "warehouse" / "fvi.duckdb"

    @property
    def is_postgres(self) -> bool:
        """Whether the warehouse is PostgreSQL (``FVI_WAREHOUSE_URL`` starts ``postgres://`` or ``postgresql``)."""
        return bool(self.warehouse_url) and str(self.warehouse_url).startswith(("postgres://", "postgresql"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()


GROUPS: dict[str, tuple[type[BaseSettings], str]] = {
    "": (Settings, "FVI_"),
    "api": (ApiSettings, "FVI_API_"),
    "serving": (ServingSettings, "FVI_SERVING_"),
    "chat": (ChatSettings, "FVI_CHAT_"),
}
"""Each group of settings and the prefix of its variables (the nested groups are fields of Settings)."""


def env_names() -> Iterator[tuple[str, str]]:
    """(variable, description) of every setting of every group: what ``deploy/.env.example`` must list."""
    for group, (cls, prefix) in GROUPS.items():
        for name, field in cls.model_fields.items():
            if group == "" and name in GROUPS:
                continue
            alias = field.validation_alias
            first = alias.choices[0] if isinstance(alias, AliasChoices) else None
            yield (str(first) if first else f"{prefix}{name.upper()}"), field.description or ""

