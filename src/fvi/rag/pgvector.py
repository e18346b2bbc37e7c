"""The dense half of retrieval in the server profile: PostgreSQL with pgvector and an HNSW index.

The DuckDB document store (``store``) stays the one the ingest writes: it keeps documents,
provenance and chunks for both profiles. In the server profile its vectors are mirrored into the
warehouse database (schema ``rag``: ``rag.documents`` with each document's sha256 and embedding
model, ``rag.chunks`` with the vector, kind and entity of each chunk, an HNSW cosine index), and
nearest neighbours are asked of PostgreSQL. ``sync`` is idempotent and copies only documents whose
sha256 or model changed, so it runs after every ingest and whenever the API loads a changed store.

Filters (entity, document kind) go into the SQL, with pgvector 0.8's iterative index scan so a
filtered query still returns ``n`` rows; the candidates are re-sorted by exact distance. A database
that cannot be reached raises ``VectorStoreUnavailable``: the caller answers from BM25 alone and
says so.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

from fvi.rag.embed import DIM

SCHEMA = "rag"
EF_SEARCH = 400
RETRY_AFTER_S = 30.0  # after a failure, BM25 alone for this long (no connect timeout on every question)
HNSW = "with (m = 32, ef_construction = 256)"  # fact sheets are near-duplicates: a denser graph
DDL = [
    "create extension if not exists vector",
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.documents (
        doc_id text primary key, sha256 text not null, embed_model text, kind text,
        entity_type text, entity_id text)""",
    f"""create table if not exists {SCHEMA}.chunks (
        chunk_id text primary key, doc_id text not null references {SCHEMA}.documents (doc_id) on delete cascade,
        kind text, entity_type text, entity_id text, embedding vector({DIM}) not null)""",
    f"create index if not exists chunks_entity on {SCHEMA}.chunks (entity_type, entity_id)",
    f"create index if not exists chunks_doc on {SCHEMA}.chunks (doc_id)",
]


INDEX = "chunks_embedding_hnsw"


class VectorStoreUnavailable(RuntimeError):
    """PostgreSQL or its pgvector extension cannot be used right now."""


def _vec(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in v.tolist()) + "]"


def _opt(v: Any) -> Any:
    return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v


class PgVectorSearch:
    """``VectorSearch`` over ``rag.chunks``; rows are mapped back to the in-memory chunk order."""

    def __init__(self, url: str, *, connect_timeout: float = 3.0) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._con: Any = None
        self._lock = threading.Lock()
        self._row_of: dict[str, int] = {}
        self._pending: tuple[pd.DataFrame, pd.DataFrame, np.ndarray, str] | None = None
        self._down_until = 0.0
        self._down_reason = ""

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> Any:
        import psycopg

        if self._con is not None and not self._con.closed:
            return self._con
        try:
            con = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)))
            for stmt in DDL:
                con.execute(stmt)
        except psycopg.Error as exc:
            raise VectorStoreUnavailable(f"pgvector store unavailable: {_first_line(exc)}") from exc
        self._con = con
        return con

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    # -- the mirror of the embedded store ----------------------------------------------------
    def attach(self, docs: pd.DataFrame, chunks: pd.DataFrame, vectors: np.ndarray, model: str = "") -> None:
        """The store as loaded in memory; synced into PostgreSQL on first use (and retried if it failed)."""
        self._row_of = {cid: i for i, cid in enumerate(chunks["chunk_id"].tolist())} if len(chunks) else {}
        self._pending = (docs, chunks, vectors, model)

    def _ensure_synced(self) -> None:
        pending = self._pending
        if pending is not None:
            docs, chunks, vectors, _model = pending
            self.sync(docs, chunks, vectors)
            self._pending = None

    def sync(self, docs: pd.DataFrame, chunks: pd.DataFrame, vectors: np.ndarray) -> dict[str, int]:
        """Make ``rag.*`` hold exactly these documents' chunks: copy the changed, delete the gone."""
        import psycopg

        with self._lock:
            con = self._connect()
            try:
                rows = con.execute(f"select doc_id, sha256, embed_model from {SCHEMA}.documents").fetchall()
                have = {r[0]: (r[1], r[2]) for r in rows}
                want = {} if not len(docs) else {
                    r["doc_id"]: (r["sha256"], _opt(r.get("embed_model"))) for r in docs.to_dict("records")
                }
                stale = sorted(d for d in have if want.get(d) != have[d])
                new = sorted(d for d in want if have.get(d) != want[d])
                if not stale and not new:
                    return {"copied": 0, "deleted": 0, "chunks": 0}
                with con.transaction():
                    if stale:
                        con.execute(f"delete from {SCHEMA}.documents where doc_id = any(%s)", [stale])
                    # a bulk load builds a better graph (and faster) into an empty index: build it after
                    big = len(new) > max(50, len(have) // 5)
                    if big:
                        con.execute(f"drop index if exists {SCHEMA}.{INDEX}")
                    n_chunks = self._copy(con, docs, chunks, vectors, set(new))
                    con.execute(f"create index if not exists {INDEX} on {SCHEMA}.chunks "
                                f"using hnsw (embedding vector_cosine_ops) {HNSW}")
                if stale:  # deleted rows stay in the HNSW graph until vacuumed: repair it now
                    con.execute(f"vacuum (analyze) {SCHEMA}.chunks")
                return {"copied": len(new), "deleted": len(stale), "chunks": n_chunks}
            except psycopg.Error as exc:
                self._drop_connection()
                raise VectorStoreUnavailable(f"pgvector sync failed: {_first_line(exc)}") from exc

    @staticmethod
    def _copy(con: Any, docs: pd.DataFrame, chunks: pd.DataFrame, vectors: np.ndarray, new: set[str]) -> int:
        if not new:
            return 0
        meta = docs.set_index("doc_id", drop=False)
        with con.cursor() as cur:
            with cur.copy(f"copy {SCHEMA}.documents (doc_id, sha256, embed_model, kind, entity_type, entity_id) "
                          "from stdin") as cp:
                for d in sorted(new):
                    r = meta.loc[d]
                    cp.write_row([d, r["sha256"], _opt(r.get("embed_model")), _opt(r["kind"]),
                                  _opt(r["entity_type"]), _opt(r["entity_id"])])
            rows = np.flatnonzero(chunks["doc_id"].isin(new).to_numpy())
            if not len(rows):
                return 0
            buf = io.StringIO()
            ids = chunks["chunk_id"].to_numpy()
            doc_of = chunks["doc_id"].to_numpy()
            for i in rows:
                r = meta.loc[doc_of[i]]
                fields = [ids[i], doc_of[i], _opt(r["kind"]), _opt(r["entity_type"]), _opt(r["entity_id"])]
                cols = ["\\N" if f is None else str(f).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
                        for f in fields]
                buf.write("\t".join(cols) + "\t" + _vec(vectors[i]) + "\n")
            with cur.copy(f"copy {SCHEMA}.chunks (chunk_id, doc_id, kind, entity_type, entity_id, embedding) "
                          "from stdin") as cp:
                cp.write(buf.getvalue())
        return len(rows)

    def _drop_connection(self) -> None:
        try:
            if self._con is not None:
                self._con.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
            pass
        self._con = None

    # -- search -------------------------------------------------------------------------------
    def top(self, query: np.ndarray, allowed: np.ndarray, n: int, *, entity: tuple[str, str] | None = None,
            kinds: list[str] | None = None) -> list[int]:
        """Nearest chunks by cosine through the HNSW index, as rows of the in-memory chunk table."""
        if n <= 0 or not self._row_of:
            return []
        where: list[str] = []
        params: list[Any] = []
        if entity is not None:
            where.append("entity_type = %s and entity_id = %s")
            params += [entity[0], entity[1]]
        if kinds:
            where.append("kind = any(%s)")
            params.append(list(kinds))
        cond = ("where " + " and ".join(where)) if where else ""
        sql = (f"select chunk_id from (select chunk_id, embedding <=> %s::vector as d from {SCHEMA}.chunks {cond} "
               f"order by embedding <=> %s::vector limit %s) c order by d, chunk_id")
        q = _vec(np.asarray(query, dtype=np.float32))
        if time.monotonic() < self._down_until:
            raise VectorStoreUnavailable(self._down_reason)
        try:
            self._ensure_synced()
            return self._query(sql, q, params, n, allowed)
        except VectorStoreUnavailable as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_S
            self._down_reason = str(exc)
            raise

    def _query(self, sql: str, q: str, params: list[Any], n: int, allowed: np.ndarray) -> list[int]:
        import psycopg

        with self._lock:
            try:
                con = self._connect()
                with con.transaction():
                    con.execute(f"set local hnsw.ef_search = {max(EF_SEARCH, n)}")
                    con.execute("set local hnsw.iterative_scan = relaxed_order")
                    rows = con.execute(sql, [q, *params, q, n]).fetchall()
            except psycopg.Error as exc:
                self._drop_connection()
                raise VectorStoreUnavailable(f"pgvector query failed: {_first_line(exc)}") from exc
        out = [self._row_of.get(r[0]) for r in rows]
        return [i for i in out if i is not None and bool(allowed[i])]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
