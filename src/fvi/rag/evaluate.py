"""Evaluation of retrieval and answers on a question set (the tests' and ``bench/bench_chat.py``'s).

A question names where its answer is (``expect``: documents, with the page when the document has
pages; ``fact``: a warehouse fact), or that it must be refused, or the injected text that must
not come out. ``{mine}`` in a question is the n-th largest mine of the warehouse (``mine_rank``),
so the set follows whatever build it runs on. Metrics: recall@k and MRR of ``SearchIndex.search``
(BM25, dense, hybrid), and for the answers: citation precision (the cited passage holds the
cited sentence), citations of an expected source, refusals, injections, dropped sentences.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fvi.rag.index import Mode, Passage, SearchIndex


@dataclass
class Question:
    id: str
    category: str
    question: str
    expect: list[dict[str, Any]] = field(default_factory=list)
    fact: dict[str, str] | None = None
    entity: dict[str, str] | None = None
    refuse: bool = False
    injection: str | None = None

    def matches(self, doc_id: str, page: int | None) -> bool:
        for e in self.expect:
            if e["doc"] == doc_id and (e.get("page") is None or e["page"] == page):
                return True
        return False


def load_questions(path: Path, largest_mines: list[tuple[str, str]] | None = None) -> list[Question]:
    """The set, with ``{mine}`` filled from ``largest_mines`` ((id, name), largest first).

    A question about a mine the build does not have (fewer mines) is left out.
    """
    out = []
    for raw in yaml.safe_load(path.read_text()):
        q = dict(raw)
        rank = q.pop("mine_rank", None)
        if rank is not None:
            if not largest_mines or len(largest_mines) < rank:
                continue
            mine_id, name = largest_mines[rank - 1]
            q["question"] = q["question"].format(mine=name)
            q["entity"] = {"type": "mine", "id": mine_id}
            q["expect"] = [{"doc": f"factsheet-mine-{mine_id.lower()}"}]
            q["fact"] = {"table": "gold.fvi_scores", "entity": f"mine:{mine_id}"}
        out.append(Question(**q))
    return out


def largest_mines(wf: Any, n: int = 3) -> list[tuple[str, str]]:
    """(id, name) of the ``n`` largest mines by capacity that have a fact sheet's worth of scores."""
    r = wf.r
    rows = r.rows(f"select gem_mine_id, mine_name, capacity_mtpa from {r.table('gold', 'dim_mine')} "
                  "where capacity_mtpa is not null order by capacity_mtpa desc, gem_mine_id limit 50")
    names = [(row["gem_mine_id"], row["mine_name"]) for row in rows if row["mine_name"]]
    # a name shared by several mines cannot name one of them
    counts: dict[str, int] = {}
    for e in wf.entities():
        counts[e.name.lower()] = counts.get(e.name.lower(), 0) + 1
    return [(i, nm) for i, nm in names if counts.get(nm.lower(), 0) == 1][:n]


@dataclass
class RetrievalScore:
    mode: str
    recall: float
    mrr: float
    n: int
    misses: list[str]
    latencies_ms: list[float]


def retrieval(index: SearchIndex, questions: list[Question], mode: Mode, k: int = 5) -> RetrievalScore:
    """recall@k (a correct passage among the first k) and MRR over the questions with an ``expect``."""
    hits, rr, misses, lat = 0, 0.0, [], []
    asked = [q for q in questions if q.expect]
    for q in asked:
        t0 = time.perf_counter()
        found: list[Passage] = index.search(q.question, k, mode=mode)
        lat.append(1000 * (time.perf_counter() - t0))
        rank = next((i + 1 for i, p in enumerate(found) if q.matches(p.doc_id, p.page)), None)
        if rank is None:
            misses.append(q.id)
        else:
            hits += 1
            rr += 1.0 / rank
    n = len(asked)
    return RetrievalScore(mode, hits / n if n else 0.0, rr / n if n else 0.0, n, misses, lat)


_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().lower()


@dataclass
class AnswerScore:
    answered: int = 0
    citations: int = 0
    supported: int = 0
    expected_cited: int = 0
    with_expectation: int = 0
    with_dropped: int = 0
    refusals_ok: int = 0
    refusals: int = 0
    wrongly_refused: list[str] = field(default_factory=list)
    injections_ok: int = 0
    injections: int = 0
    facts_ok: int = 0
    facts: int = 0
    failures: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "citation_precision": self.supported / self.citations if self.citations else None,
            "cites_expected_source": self.expected_cited / self.with_expectation if self.with_expectation else None,
            "share_with_dropped_sentence": self.with_dropped / self.answered if self.answered else None,
            "refusals_correct": f"{self.refusals_ok}/{self.refusals}",
            "wrongly_refused": self.wrongly_refused,
            "injections_resisted": f"{self.injections_ok}/{self.injections}",
            "facts_cited": f"{self.facts_ok}/{self.facts}",
            "failures": self.failures,
        }


def answers(engine: Any, questions: list[Question]) -> AnswerScore:
    """Ask every question through ``engine.answer`` and score the answers and their citations."""
    s = AnswerScore()
    for q in questions:
        entity = (q.entity["type"], q.entity["id"]) if q.entity else None
        t0 = time.perf_counter()
        a = engine.answer(q.question, entity)
        s.latencies_ms.append(1000 * (time.perf_counter() - t0))
        if q.refuse:
            s.refusals += 1
            s.refusals_ok += bool(a.get("refused"))
            if not a.get("refused"):
                s.failures.append(f"{q.id}: not refused")
            continue
        if a.get("refused"):
            s.wrongly_refused.append(q.id)
            continue
        s.answered += 1
        s.with_dropped += bool(a.get("dropped_sentences"))
        cites = a.get("citations") or []
        for c in cites:
            if not c.get("chunk_id"):
                continue  # warehouse facts: checked below (``fact``)
            s.citations += 1
            # the cited passage holds the sentence that cites it (the supporting text)
            quote = _norm(c.get("quote") or "").rstrip(".!?;: ")
            s.supported += bool(quote) and quote in _norm(_source_text(engine, c))
        if q.expect:
            s.with_expectation += 1
            ok = any(q.matches(c["doc_id"], c.get("page")) for c in cites)
            s.expected_cited += ok
            if not ok:
                s.failures.append(f"{q.id}: no expected source cited")
        if q.fact:
            s.facts += 1
            etype, eid = q.fact["entity"].split(":", 1)
            want = f"/v1/{'mines' if etype == 'mine' else 'countries'}/{eid}"
            ok = any(c["kind"] == "warehouse" and c["doc_id"] == q.fact["table"] and c.get("source_url") == want
                     for c in cites)
            s.facts_ok += ok
            if not ok:
                s.failures.append(f"{q.id}: fact {q.fact['table']} of {q.fact['entity']} not cited")
        if q.injection:
            s.injections += 1
            ok = q.injection.lower() not in (a.get("answer") or "").lower()
            s.injections_ok += ok
            if not ok:
                s.failures.append(f"{q.id}: injected text in the answer")
    return s


def _source_text(engine: Any, citation: dict[str, Any]) -> str:
    """The full text of the cited chunk."""
    index = engine.holder.current()
    rows = index.chunks[index.chunks["chunk_id"] == citation["chunk_id"]]
    return str(rows.iloc[0]["text"]) if len(rows) else ""


def percentile(values: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(values, p)) if values else float("nan")
