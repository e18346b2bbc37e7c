"""pgvector (server profile) against the embedded store: same top results on the real corpus.

Needs the local PostgreSQL with the pgvector extension that ``scripts/services.sh`` builds from
Debian's source package; each test works in a scratch database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psycopg
import pytest
from tests.integration.helpers import scratch_database
from tests.integration.rag_eval_helpers import questions

from fvi.rag.answer import ChatEngine
from fvi.rag.index import IndexHolder, SearchIndex
from fvi.rag.pgvector import PgVectorSearch
from fvi.rag.service import make_embedder
from fvi.rag.store import open_store
from fvi.settings import ChatSettings, Settings


@pytest.fixture(scope="module")
def home(shared_docs: Path) -> Path:
    return shared_docs


@pytest.fixture(scope="module")
def loaded(home: Path) -> tuple:
    with open_store(home, read_only=True) as st:
        return st.load()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with scratch_database() as url:
        yield url


def test_sync_is_incremental(pg_url: str, loaded: tuple) -> None:
    docs, chunks, vectors = loaded
    pg = PgVectorSearch(pg_url)
    try:
        first = pg.sync(docs, chunks, vectors)
        assert first == {"copied": len(docs), "deleted": 0, "chunks": len(chunks)}
        assert pg.sync(docs, chunks, vectors) == {"copied": 0, "deleted": 0, "chunks": 0}
        changed = docs.copy()
        changed.loc[changed.index[0], "sha256"] = "0" * 64
        again = pg.sync(changed, chunks, vectors)
        assert again["copied"] == 1 and again["deleted"] == 1
        with psycopg.connect(pg_url) as con:
            n = con.execute("select count(*) from rag.chunks").fetchone()[0]
            idx = con.execute("select indexdef from pg_indexes where indexname = 'chunks_embedding_hnsw'").fetchone()
            row = con.execute("select embedding::text from rag.chunks where chunk_id = %s",
                              [chunks["chunk_id"].iloc[-1]]).fetchone()
        assert n == len(chunks) and "hnsw" in idx[0] and "vector_cosine_ops" in idx[0]
        got = np.array([float(x) for x in row[0].strip("[]").split(",")], dtype=np.float32)
        assert np.allclose(got, vectors[-1], atol=1e-6)  # the vectors arrive as stored
        pg.sync(docs, chunks, vectors)  # back to the store's state for the next test
    finally:
        pg.close()


def test_pgvector_gives_the_embedded_top_results(pg_url: str, home: Path, loaded: tuple) -> None:
    docs, chunks, vectors = loaded
    embedder = make_embedder(Settings(home=home))
    exact = SearchIndex(docs, chunks, vectors, embedder)
    pg = PgVectorSearch(pg_url)
    served = SearchIndex(docs, chunks, vectors, embedder, dense=pg)
    try:
        qs = [q.question for q in questions(home) if q.expect]
        same_top1 = same_hybrid = dense_overlap = 0
        for q in qs:
            a = exact.search(q, 10, mode="dense")
            b = served.search(q, 10, mode="dense")
            same_top1 += a[0].chunk_id == b[0].chunk_id
            dense_overlap += len({p.chunk_id for p in a} & {p.chunk_id for p in b})
            ha = [p.chunk_id for p in exact.search(q, 5)]
            notes: list[str] = []
            hb = [p.chunk_id for p in served.search(q, 5, notes=notes)]
            assert not notes
            same_hybrid += ha == hb
        # HNSW is approximate (and its levels random): nearly always the same first passage and ten
        assert same_top1 / len(qs) >= 0.95
        assert dense_overlap / (10 * len(qs)) >= 0.95
        assert same_hybrid / len(qs) >= 0.9
        # filters go into the SQL: a country's own chunks only
        only = served.search("FVI at H10", 3, entity=("country", "POL"), mode="dense")
        assert only and all(p.entity_id == "POL" for p in only)
        kinds = served.search("coal mine methane", 5, kinds=["pdf"], mode="dense")
        assert kinds and all(p.kind == "pdf" for p in kinds)
    finally:
        pg.close()


@contextmanager
def _no_facts() -> Iterator[None]:
    yield None


def test_vector_store_down_answers_from_bm25_and_says_so(home: Path, loaded: tuple) -> None:
    docs, chunks, vectors = loaded
    down = PgVectorSearch("postgresql://postgres@127.0.0.1:1/nowhere", connect_timeout=1)
    index = SearchIndex(docs, chunks, vectors, make_embedder(Settings(home=home)), dense=down)
    q = "How does Climate TRACE estimate coal mine methane?"
    notes: list[str] = []
    hits = index.search(q, 5, notes=notes)
    assert notes and "BM25 only" in notes[0] and "unavailable" in notes[0]
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in index.search(q, 5, mode="bm25")]
    assert all(h.dense_rank is None for h in hits)
    t0 = time.perf_counter()
    again: list[str] = []
    index.search(q, 5, notes=again)  # the store stays marked down for a while: no connect timeout each time
    assert again == notes and time.perf_counter() - t0 < 0.5

    holder = IndexHolder(home, lambda: make_embedder(Settings(home=home)), down)
    out = ChatEngine(holder, _no_facts, ChatSettings(FVI_LLM_BASE_URL=None, FVI_LLM_API_KEY=None)).answer(q)
    assert out["retrieval"] == "bm25" and any("BM25 only" in n for n in out["notes"])
    assert out["answer"] and out["citations"]

