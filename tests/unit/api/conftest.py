"""Fixtures: a fresh FVI_HOME holding a copy of the tiny warehouse, and apps (TestClient) serving it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.unit.api.tiny_warehouse import write_runs, write_warehouse

from fvi.api.app import create_app
from fvi.settings import ApiSettings, Settings, get_settings

APP_KEYWORDS = ("routers", "extra_routers", "startup_hooks", "whatif_factory", "cache")


def api_settings(**overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {"rate_per_minute": 10_000, "key_rate_per_minute": 10_000, "rate_burst": 10_000}
    values |= {"whatif_rate_per_minute": 10_000, "warm_whatif": False}
    return ApiSettings(**{**values, **overrides})


@pytest.fixture()
def settings(fvi_home: Path) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def template_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny warehouse built once per session; each test gets its own copy."""
    path = tmp_path_factory.mktemp("api_template") / "fvi.duckdb"
    write_warehouse(path)
    return path


@pytest.fixture()
def warehouse(settings: Settings, template_warehouse: Path) -> Path:
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_warehouse, settings.duckdb_path)
    write_runs(settings.home_abs)
    return settings.duckdb_path


@pytest.fixture()
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Build an app with overrides (ApiSettings fields and create_app keywords) and enter its lifespan."""
    opened: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        create_kw = {k: kwargs.pop(k) for k in list(kwargs) if k in APP_KEYWORDS}
        app = create_app(settings, api_settings=api_settings(**kwargs), **create_kw)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture()
def client(warehouse: Path, make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
