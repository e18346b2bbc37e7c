"""The chat's evaluation over the shared build (its documents, fact sheets and warehouse), loaded once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

QUESTIONS = Path(__file__).with_name("rag_questions.yml")


@contextmanager
def shared_facts(home: Path) -> Iterator[Any]:
    """WarehouseFacts over a built home (read-only)."""
    from tests.integration.helpers import env

    from fvi.rag.jobs import live_facts

    with env(FVI_HOME=str(home), FVI_WAREHOUSE_URL=None, FVI_CACHE_URL=None) as settings, \
            live_facts(settings) as wf:
        yield wf


def questions(home: Path) -> list[Any]:
    from fvi.rag.evaluate import largest_mines, load_questions

    with shared_facts(home) as wf:
        assert wf is not None, "the shared build has no warehouse"
        return load_questions(QUESTIONS, largest_mines(wf))
