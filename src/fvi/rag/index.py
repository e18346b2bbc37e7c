"""Hybrid retrieval: BM25 (bm25s) and exact cosine over the MiniLM vectors, fused by reciprocal rank.

The whole store is held in memory (a few thousand chunks: a 384-wide matrix product per query);
filters (entity, document kind) mask candidates before ranking, so a filtered search ranks only
what passes. ``VectorSearch`` is the dense half's interface: ``ExactCosine`` in memory over the
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
    """Exact cosine (vectors are unit length: a dot product) over the allowed rows."""

    def __init__(self, vectors: np.ndarray | None = None) -> None:
        self.vectors = vectors if vectors is not None else np.zeros((0, 384), np.float32)

    def attach(self, docs: pd.DataFrame, chunks: pd.DataFrame, vectors: np.ndarray, model: str = "") -> None:
        self.vectors = vectors

    def top(self, query: np.ndarray, allowed: np.ndarray, n: int, *, entity: tuple[str, str] | None = None,
            kinds: list[str] | None = None) -> list[int]:
        """``allowed`` already holds the entity and kind filters."""
        if not len(self.vectors):
            return []
        sims = self.vectors @ query
        sims = np.where(allowed, sims, -np.inf)
        n = min(n, int(allowed.sum()))
        if n <= 0:
            return []
        idx = np.argpartition(-sims, n - 1)[:n]
        return [int(i) for i in idx[np.argsort(-sims[idx])]]


def _tokens(texts: list[str]) -> Any:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", show_progress=False)


class SearchIndex:
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
        self.dense.attach(docs, chunks.reset_index(drop=True), vectors)
        meta = self.docs.reindex(self.chunks["doc_id"]) if len(docs) else pd.DataFrame(index=range(len(chunks)))
        self._kind = meta["kind"].to_numpy(dtype=object) if len(docs) else np.array([], dtype=object)
        self._etype = meta["entity_type"].to_numpy(dtype=object) if len(docs) else np.array([], dtype=object)
        self._eid = meta["entity_id"].to_numpy(dtype=object) if len(docs) else np.array([], dtype=object)
        self.bm25 = bm25s.BM25()
        if len(self.chunks):
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
        allowed = np.ones(len(self.chunks), dtype=bool)
        if entity is not None:
            allowed &= (self._etype == entity[0]) & (self._eid == entity[1])
        if kinds:
            allowed &= np.isin(self._kind, kinds)
        return allowed

    def bm25_top(self, query: str, allowed: np.ndarray, n: int) -> list[int]:
        import bm25s

        if not len(self.chunks):
            return []
        toks = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        if not toks:
            return []
        scores = self.bm25.get_scores(toks)
        scores = np.where(allowed & (scores > 0), scores, -np.inf)
        n = min(n, int(np.isfinite(scores).sum()))
        if n <= 0:
            return []
        idx = np.argpartition(-scores, n - 1)[:n]
        return [int(i) for i in idx[np.argsort(-scores[idx])]]

    def search(self, query: str, k: int = 5, *, entity: tuple[str, str] | None = None,
               kinds: list[str] | None = None, mode: Mode = "hybrid", notes: list[str] | None = None) -> list[Passage]:
        """The ``k`` best passages; ``notes`` (if given) learns when the vector store was unavailable."""
        from fvi.rag.pgvector import VectorStoreUnavailable

        allowed = self.mask(entity=entity, kinds=kinds)
        bm = self.bm25_top(query, allowed, CANDIDATES) if mode in ("hybrid", "bm25") else []
        de: list[int] = []
        if mode in ("hybrid", "dense") and self.embedder is not None and len(self.chunks):
            qv = self.embedder.embed([query])[0]
            try:
                de = self.dense.top(qv, allowed, CANDIDATES, entity=entity, kinds=kinds)
            except VectorStoreUnavailable as exc:
                if notes is not None:
                    notes.append(f"{exc}: BM25 only")
                if mode == "dense":
                    bm = self.bm25_top(query, allowed, CANDIDATES)
        fused: dict[int, float] = {}
        for ranks in (bm, de):
            for r, i in enumerate(ranks):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r + 1)
        bm_rank = {i: r + 1 for r, i in enumerate(bm)}
        de_rank = {i: r + 1 for r, i in enumerate(de)}
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [self.passage(i, fused[i], bm_rank.get(i), de_rank.get(i)) for i in best]

    def passage(self, i: int, score: float, bm_rank: int | None = None, de_rank: int | None = None) -> Passage:
        c = self.chunks.iloc[i]
        d = self.docs.loc[c["doc_id"]]

        def opt(v: Any) -> Any:
            return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v

        return Passage(
            chunk_id=c["chunk_id"], doc_id=c["doc_id"], title=d["title"], kind=d["kind"],
            source_url=opt(d["source_url"]), source_path=opt(d["source_path"]),
            page=None if opt(c["page"]) is None else int(c["page"]), section=opt(c["section"]), text=c["text"],
            licence=d["licence"], entity_type=opt(d["entity_type"]), entity_id=opt(d["entity_id"]),
            score=round(float(score), 6), bm25_rank=bm_rank, dense_rank=de_rank,
            char_start=int(c["char_start"]), char_end=int(c["char_end"]),
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
