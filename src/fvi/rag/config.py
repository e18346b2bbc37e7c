"""Settings of the chat, read from the environment when asked for (never at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RagSettings(BaseSettings):
    """The answering backend and the chat's limits (``FVI_LLM_*``, ``FVI_CHAT_*``, ``OPENAI_API_KEY``)."""

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
        return bool(self.llm_base_url or self.llm_api_key)

    @property
    def base_url(self) -> str:
        return (self.llm_base_url or "https://api.openai.com/v1").rstrip("/")

    @property
    def model(self) -> str:
        return self.llm_model or ("gpt-4o" if not self.llm_base_url else "default")
