"""One full pipeline run on the real samples, shared by every integration test that only reads it.

pytest-xdist runs a process per worker; a file lock in the session's common temp folder makes the
first worker build and the others wait and reuse the result (one build per test session).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock
from tests.integration.helpers import env

from fvi.settings import Settings


@pytest.fixture(scope="session")
def shared_build(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(FVI_HOME, run report as JSON) of one `run_pipeline` on ../shared/data (DuckDB)."""
    from fvi.pipeline import run_pipeline

    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's basetemp sits in the session's folder; without xdist basetemp is that folder
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "fvi_shared_build"
    root.mkdir(parents=True, exist_ok=True)
    home = root / "home"
    done = root / "report.json"
    with FileLock(str(root / ".lock")):
        if not done.exists():
            with env(FVI_HOME=str(home), FVI_WAREHOUSE_URL=None, FVI_DATA_DIR=None, FVI_CACHE_URL=None) as settings:
                report = run_pipeline(settings, data_dir=shared_data, say=lambda _m: None)
            done.write_text(json.dumps(report.to_json(), default=str))
    return home, json.loads(done.read_text())


@pytest.fixture(scope="session")
def shared_docs(shared_build: tuple[Path, dict], shared_data: Path) -> Path:
    """The shared build with the chat's documents ingested once (corpus + fact sheets; ~2 min quiet).

    `run_pipeline` builds no document store (`fvi run` embeds it after the build), so the chat's
    tests add it here, under the same lock discipline as the build.
    """
    from fvi.rag.jobs import ingest_documents

    home, _ = shared_build
    root = Path(home).parent
    done = root / "docs.done"
    with FileLock(str(root / ".docs.lock")):
        if not done.exists():
            with env(FVI_HOME=str(home), FVI_WAREHOUSE_URL=None, FVI_DATA_DIR=None, FVI_CACHE_URL=None) as settings:
                ingest_documents(settings, data_dir=shared_data, say=lambda _m: None)
            done.write_text("ok")
    return Path(home)


@pytest.fixture()
def shared_settings(shared_build, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at the shared build (read it; never write to it)."""
    from fvi.settings import get_settings

    home, _ = shared_build
    monkeypatch.setenv("FVI_HOME", str(home))
    monkeypatch.delenv("FVI_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("FVI_CACHE_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
