"""Hybrid retrieval: BM25 (bm25s) and exact cosine over the MiniLM vectors, fused by reciprocal rank.

The whole store is held in memory (up to ~60k chunks with a fact sheet for every mine): an
exhaustive inner-product scan by faiss per query, BM25 from bm25s's precomputed score matrix;
filters (entity, document kind) are precomputed row sets applied before ranking, so a filtered
search ranks only what passes. ``VectorSearch`` is the dense half's interface: ``ExactCosine`` in memory over the
embedded DuckDB store (default), ``PgVectorSearch`` (``rag.pgvector``) in PostgreSQL with an HNSW
index in the server profile. A vector store that cannot be reached leaves BM25 alone, and the
search says so in its notes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from fvi.rag.embed import Embedder
from fvi.rag.store import open_store, store_path

RRF_K = 60
Mode = Literal["hybrid", "bm25", "dense"]
CANDIDATES = 50
# Lucene's 33 English stopwords (bm25s "en"). NLTK's 179 ("en_plus", which drops the question words
# "what", "does", "which") was measured on the question set with every fact sheet: hybrid recall@5
# the same (0.915), MRR 0.815 instead of 0.825 (bench/README.md), so it was not taken
STOPWORDS = "en"
QUERY_CACHE = 8  # question vectors kept: an answer searches twice with one question (not a cross-request cache)


@dataclass
class Passage:
    """One retrieved chunk with everything a citation needs."""

    chunk_id: str
    doc_id: str
    title: str
    kind: str
    source_url: str | None
    source_path: str | None
    page: int | None
    section: str | None
    text: str
    licence: str
    entity_type: str | None
    entity_id: str | None
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None
    char_start: int | None = None
    char_end: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class VectorSearch(Protocol):
    def attach(self, docs: pd.DataFrame, chunks: pd.DataFrame, vectors: np.ndarray, model: str = "") -> None: ...

    def top(self, query: np.ndarray, allowed: np.ndarray, n: int, *, entity: tuple[str, str] | None = None,
            kinds: list[str] | None = None) -> list[int]: ...


class ExactCosine:
    """Exact cosine (vectors are unit length: an inner product) over the allowed rows, by faiss.

    ``faiss.IndexFlatIP`` is an exhaustive scan with SIMD kernels: the same ranking as a NumPy
    matrix-vector product, about 3x less CPU on 60k x 384 (OpenBLAS's gemv is no match for it on
    one query). Chunks that share a vector (the chunks of one fact sheet carry its title's) are
    scanned once: the index holds each distinct vector, and a hit expands to its chunks in store
    order. A filter that leaves few rows (one entity's chunks) ranks just those rows in NumPy; a
    wider filter goes through faiss with a bitmap selector over the distinct vectors.
    """

    SUBSET = 4096  # at most this many allowed rows: gather them and rank them directly

    def __init__(self, vectors: np.ndarray | None = None) -> None:
        self.vectors = np.zeros((0, 384), np.float32)
        self._flat: Any = None
        if vectors is not None:
            self.attach(pd.DataFrame(), pd.DataFrame(), vectors)

    def attach(self, docs: pd.DataFrame, chunks: pd.DataFrame, vectors: np.ndarray, model: str = "") -> None:
        import faiss

        # one query at a time: faiss's OpenMP workers only spin against the API's other threads
        # (2 threads cost 5x the CPU of 1 for the same scan on the 2-core machine)
        faiss.omp_set_num_threads(1)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._flat = None
        if not len(self.vectors):
            return
        raw = self.vectors.view(np.dtype((np.void, self.vectors.shape[1] * 4))).ravel()
        _u, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
        self._inverse = inverse.ravel()
        self._group_rows = np.argsort(self._inverse, kind="stable")  # rows of each distinct vector, in order
        self._group_start = np.searchsorted(self._inverse[self._group_rows], np.arange(len(first) + 1))
        self._flat = faiss.IndexFlatIP(self.vectors.shape[1])
        self._flat.add(self.vectors[first])

    def top(self, query: np.ndarray, allowed: np.ndarray, n: int, *, entity: tuple[str, str] | None = None,
            kinds: list[str] | None = None) -> list[int]:
        """``allowed`` already holds the entity and kind filters."""
        if self._flat is None:
            return []
        count = int(np.count_nonzero(allowed))
        n = min(n, count)
        if n <= 0:
            return []
        if count <= self.SUBSET:
            rows = np.flatnonzero(allowed)
            sims = self.vectors[rows] @ query
            best = np.argpartition(-sims, n - 1)[:n] if n < len(rows) else np.arange(len(rows))
            return [int(rows[i]) for i in best[np.argsort(-sims[best], kind="stable")]]
        import faiss

        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        every = count == len(allowed)
        params = None
        distinct = self._flat.ntotal
        if not every:
            ok = np.zeros(distinct, dtype=bool)
            ok[self._inverse[allowed]] = True
            distinct = int(ok.sum())
            params = faiss.SearchParameters()
            # faiss's Python wrapper takes the packed bitmap (its SWIG signature says (n, pointer))
            params.sel = faiss.IDSelectorBitmap(np.packbits(ok, bitorder="little"))  # type: ignore[call-arg,arg-type]
        m = n
        while True:
            _d, ids = self._flat.search(q, min(m, distinct), params=params)
            out: list[int] = []
            for u in ids[0]:
                if u < 0:
                    break
                rows = self._group_rows[self._group_start[u] : self._group_start[u + 1]]
                out.extend(int(r) for r in (rows if every else rows[allowed[rows]]))
                if len(out) >= n:
                    return out[:n]
            if m >= distinct:
                return out
            m *= 2


def _tokens(texts: list[str]) -> Any:
    import bm25s

    return bm25s.tokenize(texts, stopwords=STOPWORDS, show_progress=False)


@dataclass(frozen=True)
class _DocMeta:
    title: str
    kind: str
    source_url: str | None
    source_path: str | None
    licence: str
    entity_type: str | None
    entity_id: str | None


def _opt(v: Any) -> Any:
    return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v


class SearchIndex:
    """The store in memory for search: BM25 over the chunk texts, the vectors, and plain lists for passages.

    Filters are precomputed as row arrays (per entity, per kind), so a filtered search costs no
    scan of 60k object columns; a passage is built from plain Python lists, not a pandas row.
    """

    def __init__(self, docs: pd.DataFrame, chunks: pd.DataFrame, vectors: np.ndarray, embedder: Embedder | None,
                 *, version: str = "", dense: VectorSearch | None = None) -> None:
        import bm25s

        self.version = version
        self.embedder = embedder
        self.docs = docs.set_index("doc_id", drop=False) if len(docs) else docs
        self.docs.index.name = None
        self.chunks = chunks.reset_index(drop=True)
        self.vectors = vectors
        self.dense: VectorSearch = dense if dense is not None else ExactCosine()
        self.dense.attach(docs, self.chunks, vectors)
        n = len(self.chunks)
        self._meta: dict[str, _DocMeta] = {}
        if len(docs):
            for row in self.docs[["doc_id", "title", "kind", "source_url", "source_path", "licence",
                                  "entity_type", "entity_id"]].itertuples(index=False):
                self._meta[str(row.doc_id)] = _DocMeta(
                    str(row.title), str(row.kind), _opt(row.source_url), _opt(row.source_path), str(row.licence),
                    _opt(row.entity_type), _opt(row.entity_id))
        cols = {c: (self.chunks[c].tolist() if c in self.chunks else [None] * n)
                for c in ("chunk_id", "doc_id", "page", "section", "text", "char_start", "char_end")}
        self._cols = cols
        # filters: rows of each entity and of each kind
        by_entity: dict[tuple[str, str], list[int]] = {}
        by_kind: dict[str, list[int]] = {}
        for i, doc_id in enumerate(cols["doc_id"]):
            m = self._meta.get(doc_id)
            if m is None:
                continue
            by_kind.setdefault(m.kind, []).append(i)
            if m.entity_type is not None and m.entity_id is not None:
                by_entity.setdefault((m.entity_type, m.entity_id), []).append(i)
        self._by_entity = {k: np.asarray(v, dtype=np.int64) for k, v in by_entity.items()}
        self._by_kind = {k: np.asarray(v, dtype=np.int64) for k, v in by_kind.items()}
        self._all = np.ones(n, dtype=bool)
        self._all.flags.writeable = False
        self._qcache: dict[str, np.ndarray] = {}
        self._qlock = threading.Lock()
        self.bm25 = bm25s.BM25()
        if n:
            # the section title is searchable text too (field names, headings)
            texts = (self.chunks["section"].fillna("") + "\n" + self.chunks["text"]).tolist()
            self.bm25.index(_tokens(texts), show_progress=False)

    @classmethod
    def from_store(cls, home: Path, embedder: Embedder | None, dense: VectorSearch | None = None) -> SearchIndex:
        path = store_path(home)
        if not path.exists():
            return cls(pd.DataFrame(), pd.DataFrame(columns=["chunk_id", "doc_id", "text", "section"]),
                       np.zeros((0, 384), np.float32), embedder, version="empty", dense=dense)
        st = os.stat(path)
        with open_store(home, read_only=True) as store:
            docs, chunks, vectors = store.load()
        return cls(docs, chunks, vectors, embedder, version=f"{st.st_mtime_ns}-{st.st_size}", dense=dense)

    def __len__(self) -> int:
        return len(self.chunks)

    def mask(self, *, entity: tuple[str, str] | None = None, kinds: list[str] | None = None) -> np.ndarray:
        """Rows that pass the filters (read-only when there is no filter)."""
        if entity is None and not kinds:
            return self._all
        allowed = np.zeros(len(self.chunks), dtype=bool)
        empty = np.zeros(0, dtype=np.int64)
        if entity is not None:
            allowed[self._by_entity.get(entity, empty)] = True
            if kinds:
                keep = np.zeros(len(self.chunks), dtype=bool)
                for k in kinds:
                    keep[self._by_kind.get(k, empty)] = True
                allowed &= keep
        else:
            for k in kinds or []:
                allowed[self._by_kind.get(k, empty)] = True
        return allowed

    def bm25_top(self, query: str, allowed: np.ndarray, n: int) -> list[int]:
        import bm25s

        if not len(self.chunks):
            return []
        toks = bm25s.tokenize([query], stopwords=STOPWORDS, return_ids=False, show_progress=False)[0]
        ids = self.bm25.get_tokens_ids(toks)
        if not ids:
            return []
        scores = self.bm25.get_scores_from_ids(ids)
        cand = np.flatnonzero(scores > 0)
        if allowed is not self._all:
            cand = cand[allowed[cand]]
        n = min(n, len(cand))
        if n <= 0:
            return []
        s = scores[cand]
        best = np.argpartition(-s, n - 1)[:n] if n < len(cand) else np.arange(len(cand))
        # ties in score go to the earlier row (the order of the store)
        best = best[np.lexsort((cand[best], -s[best]))]
        return [int(cand[i]) for i in best]

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last few are kept (a chat answer searches twice with the same question)."""
        assert self.embedder is not None
        hit = self._qcache.get(query)
        if hit is not None:
            return hit
        vec = self.embedder.embed([query])[0]
        with self._qlock:
            if len(self._qcache) >= QUERY_CACHE:
                self._qcache.pop(next(iter(self._qcache)))
            self._qcache[query] = vec
        return vec

    def clear_query_cache(self) -> None:
        """Forget the kept query vectors (a benchmark timing questions from cold)."""
        with self._qlock:
            self._qcache.clear()

    def search(self, query: str, k: int = 5, *, entity: tuple[str, str] | None = None,
               kinds: list[str] | None = None, mode: Mode = "hybrid", notes: list[str] | None = None) -> list[Passage]:
        """The ``k`` best passages; ``notes`` (if given) learns when the vector store was unavailable."""
        from fvi.rag.pgvector import VectorStoreUnavailable

        allowed = self.mask(entity=entity, kinds=kinds)
        bm = self.bm25_top(query, allowed, CANDIDATES) if mode in ("hybrid", "bm25") else []
        de: list[int] = []
        qv = np.zeros(0, np.float32)
        if mode in ("hybrid", "dense") and self.embedder is not None and len(self.chunks):
            qv = self.query_vector(query)
            try:
                de = self.dense.top(qv, allowed, CANDIDATES, entity=entity, kinds=kinds)
            except VectorStoreUnavailable as exc:
                if notes is not None:
                    notes.append(f"{exc}: BM25 only")
                if mode == "dense":
                    bm = self.bm25_top(query, allowed, CANDIDATES)
        bm_rank = {i: r + 1 for r, i in enumerate(bm)}
        de_rank = self._tied_ranks(de, qv) if de else {}
        fused: dict[int, float] = {}
        for ranks in (bm_rank, de_rank):
            for i, r in ranks.items():
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r)
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [self.passage(i, fused[i], bm_rank.get(i), de_rank.get(i)) for i in best]

    def _tied_ranks(self, rows: list[int], query: np.ndarray) -> dict[int, int]:
        """Dense ranks (1-based) where chunks with the same similarity share a rank.

        The chunks of one fact sheet share one vector (their title's): none of them is nearer to the
        question than another, so none gets a better dense rank and BM25 alone orders them.
        """
        if len(self.vectors) != len(self.chunks):  # a vector store without the vectors in memory
            return {i: r + 1 for r, i in enumerate(rows)}
        sims = self.vectors[np.asarray(rows)] @ query
        out: dict[int, int] = {}
        rank, prev = 0, None
        for pos, (i, sim) in enumerate(zip(rows, sims.tolist(), strict=True)):
            if prev is None or abs(sim - prev) > 1e-6:
                rank, prev = pos + 1, sim
            out[i] = rank
        return out

    def passage(self, i: int, score: float, bm_rank: int | None = None, de_rank: int | None = None) -> Passage:
        c = self._cols
        d = self._meta[c["doc_id"][i]]
        page = _opt(c["page"][i])
        return Passage(
            chunk_id=c["chunk_id"][i], doc_id=c["doc_id"][i], title=d.title, kind=d.kind,
            source_url=d.source_url, source_path=d.source_path,
            page=None if page is None else int(page), section=_opt(c["section"][i]), text=c["text"][i],
            licence=d.licence, entity_type=d.entity_type, entity_id=d.entity_id,
            score=round(float(score), 6), bm25_rank=bm_rank, dense_rank=de_rank,
            char_start=int(c["char_start"][i]), char_end=int(c["char_end"][i]),
        )


class IndexHolder:
    """The index of the store as it is now: reloaded when the store file changes (after an ingest)."""

    def __init__(self, home: Path, embedder_factory: Any, dense: VectorSearch | None = None) -> None:
        self.home = home
        self._factory = embedder_factory
        self.dense = dense  # one vector store for every reload (pgvector keeps its connection)
        self._embedder: Embedder | None = None
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._factory()
        return self._embedder

    def current(self) -> SearchIndex:
        path = store_path(self.home)
        ver = "empty"
        if path.exists():
            st = os.stat(path)
            ver = f"{st.st_mtime_ns}-{st.st_size}"
        idx = self._index
        if idx is not None and idx.version == ver:
            return idx
        with self._lock:
            if self._index is None or self._index.version != ver:
                self._index = SearchIndex.from_store(self.home, self.embedder, self.dense)
            return self._index
