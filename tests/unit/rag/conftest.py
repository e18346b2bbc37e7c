"""One ONNX export of the embedding model per test session (the build takes seconds), shared by workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fvi.rag.embed import Embedder

    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "fvi_rag_models"
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".lock")):
        Embedder(root)
    return root


@pytest.fixture()
def embedder(model_cache: Path):  # noqa: ANN201
    from fvi.rag.embed import Embedder

    return Embedder(model_cache)


@pytest.fixture()
def chat_env(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The model cache for code that builds its own embedder; no LLM configured."""
    monkeypatch.setenv("FVI_CHAT_MODEL_CACHE", str(model_cache))
    for var in ("FVI_LLM_BASE_URL", "FVI_LLM_MODEL", "FVI_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return model_cache
