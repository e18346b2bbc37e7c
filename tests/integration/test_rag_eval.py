"""The question set on the real corpus and fact sheets of the shared build: retrieval and answers."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from tests.integration.rag_eval_helpers import questions, shared_facts

from fvi.rag.answer import ChatEngine
from fvi.rag.evaluate import Question, answers, retrieval
from fvi.rag.index import IndexHolder, SearchIndex
from fvi.rag.service import make_embedder
from fvi.settings import ChatSettings, Settings


@pytest.fixture(scope="module")
def home(shared_docs: Path) -> Path:
    return shared_docs


@pytest.fixture(scope="module")
def qset(home: Path) -> list[Question]:
    return questions(home)


@pytest.fixture(scope="module")
def holder(home: Path) -> IndexHolder:
    return IndexHolder(home, lambda: make_embedder(Settings(home=home)))


def test_question_set_covers_every_category(qset: list[Question]) -> None:
    cats = {c: sum(q.category == c for q in qset) for c in
            ("methodology", "field", "entity", "comparison", "refusal", "injection")}
    assert len(qset) >= 40 and all(n >= 3 for n in cats.values()), cats
    assert sum(1 for q in qset if q.entity and q.entity["type"] == "mine") == 3  # the build's three largest mines


def test_hybrid_recall_at_5(holder: IndexHolder, qset: list[Question]) -> None:
    index: SearchIndex = holder.current()
    assert index.docs["kind"].eq("fact_sheet").sum() > 100 and index.docs["kind"].eq("pdf").sum() == 5
    hybrid = retrieval(index, qset, "hybrid")
    assert hybrid.n >= 35
    assert hybrid.recall >= 0.9, f"hybrid recall@5 {hybrid.recall:.2f}, missed {hybrid.misses}"
    bm25 = retrieval(index, qset, "bm25")
    assert hybrid.mrr >= bm25.mrr - 0.05, (hybrid.mrr, bm25.mrr)  # fusion does not cost ranking quality


def test_offline_answers_on_question_set(home: Path, holder: IndexHolder, qset: list[Question]) -> None:
    def facts() -> AbstractContextManager[Any]:
        return shared_facts(home)

    engine = ChatEngine(holder, facts, ChatSettings(FVI_LLM_BASE_URL=None, FVI_LLM_API_KEY=None))
    score = answers(engine, qset)
    out = score.to_json()
    assert score.refusals_ok == score.refusals >= 4, out
    assert not score.wrongly_refused, out
    assert score.injections_ok == score.injections >= 3, out
    assert score.facts_ok == score.facts >= 7, out  # every per-entity question cites its warehouse fact
    assert out["citation_precision"] is not None and out["citation_precision"] >= 0.95, out
    assert out["cites_expected_source"] >= 0.8, out
