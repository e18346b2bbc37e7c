"""The chat's document store: bronze documents (provenance), quarantine, silver chunks and their vectors.

Embedded default: one DuckDB file, ``FVI_HOME/rag/docs.duckdb``, beside the warehouse rather than
inside it: the warehouse file is rebuilt aside and swapped by every run and read-only in the API,
while the store must keep its vectors across runs so that only documents whose sha256 changed
are embedded again. Tables follow the warehouse grammar: ``bronze.raw_docs__documents`` (one row
per document), ``bronze.raw_docs__quarantine`` (one row per refusal), ``silver.stg_docs__chunks``
(one row per chunk, with its vector). Search runs in memory over ``load()`` (see ``index``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fvi.rag.documents import Chunk, Document
from fvi.rag.embed import DIM

DDL = [
    "create schema if not exists bronze",
    "create schema if not exists silver",
    """create table if not exists bronze.raw_docs__documents (
        doc_id varchar primary key, kind varchar not null, title varchar, collection varchar not null,
        source_path varchar, source_url varchar, sha256 varchar not null, licence varchar not null,
        entity_type varchar, entity_id varchar, retrieved_at varchar not null, run_id varchar,
        embed_model varchar, n_chunks integer, text_chars integer, meta varchar)""",
    """create table if not exists bronze.raw_docs__quarantine (
        source varchar not null, collection varchar, sha256 varchar, reason varchar not null,
        quarantined_at varchar not null)""",
    f"""create table if not exists silver.stg_docs__chunks (
        chunk_id varchar primary key, doc_id varchar not null, seq integer not null, page integer,
        section varchar, char_start integer not null, char_end integer not null, text varchar not null,
        vector float[{DIM}] not null, embed_key varchar)""",
    # stores written before vectors were reused by the text they embed
    "alter table silver.stg_docs__chunks add column if not exists embed_key varchar",
    """create table if not exists bronze.raw_docs__state (name varchar primary key, value varchar)""",
]


def store_path(home: Path) -> Path:
    return home / "rag" / "docs.duckdb"


class DocStore:
    """Read-write handle for ``fvi docs ingest``; ``load`` for the searchers."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        import duckdb

        self.path = path
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(path), read_only=read_only)
        if not read_only:
            for stmt in DDL:
                self.con.execute(stmt)

    def close(self) -> None:
        self.con.close()

    def known(self) -> dict[str, tuple[str, str | None]]:
        """doc_id -> (sha256, embed_model) of every stored document."""
        rows = self.con.execute("select doc_id, sha256, embed_model from bronze.raw_docs__documents").fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def collection_ids(self, collection: str) -> set[str]:
        rows = self.con.execute(
            "select doc_id from bronze.raw_docs__documents where collection = ?", [collection]
        ).fetchall()
        return {r[0] for r in rows}

    def touch(self, doc: Document) -> None:
        """An unchanged document: new retrieval time and run id, nothing re-embedded."""
        self.con.execute(
            "update bronze.raw_docs__documents set retrieved_at = ?, run_id = ? where doc_id = ?",
            [doc.retrieved_at, doc.run_id, doc.doc_id],
        )

    def vectors_for(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by ``embed_key`` (the model and the text it embedded): what need not be embedded again."""
        if not keys:
            return {}
        frame = pd.DataFrame({"embed_key": sorted(set(keys))})
        self.con.register("wanted_keys", frame)
        try:
            tbl = self.con.sql(
                "select c.embed_key, any_value(c.vector) as vector from silver.stg_docs__chunks c "
                "join wanted_keys w using (embed_key) group by c.embed_key"
            ).to_arrow_table()
        finally:
            self.con.unregister("wanted_keys")
        if not tbl.num_rows:
            return {}
        vecs = np.asarray(tbl.column("vector").combine_chunks().values.to_numpy(zero_copy_only=False),
                          dtype=np.float32).reshape(-1, DIM)
        return dict(zip(tbl.column("embed_key").to_pylist(), vecs, strict=True))

    def put(self, doc: Document, text: str, chunks: list[Chunk], vectors: np.ndarray, model: str,
            embed_keys: list[str] | None = None) -> None:
        """Replace one document and its chunks (one transaction)."""
        self.con.execute("begin")
        try:
            self._delete([doc.doc_id])
            self.con.execute(
                "insert into bronze.raw_docs__documents values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [doc.doc_id, doc.kind, doc.title, doc.collection, doc.source_path, doc.source_url, doc.sha256,
                 doc.licence, doc.entity_type, doc.entity_id, doc.retrieved_at, doc.run_id, model, len(chunks),
                 len(text), json.dumps(doc.meta, default=str)],
            )
            if chunks:
                frame = pd.DataFrame([{**asdict(c), "chunk_id": c.chunk_id} for c in chunks])
                frame["vector"] = list(vectors.astype(np.float32))
                keys: list[str | None] = list(embed_keys) if embed_keys is not None else [None] * len(chunks)
                frame["embed_key"] = keys
                self.con.register("new_chunks", frame)
                self.con.execute(
                    f"""insert into silver.stg_docs__chunks
                        (chunk_id, doc_id, seq, page, section, char_start, char_end, text, vector, embed_key)
                    select chunk_id, doc_id, seq, page, section, char_start, char_end, text,
                           vector::float[{DIM}], embed_key::varchar from new_chunks"""
                )
                self.con.unregister("new_chunks")
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise

    def _delete(self, doc_ids: list[str]) -> None:
        for table in ("silver.stg_docs__chunks", "bronze.raw_docs__documents"):
            self.con.execute(f"delete from {table} where doc_id in (select unnest(?::varchar[]))", [doc_ids])

    def remove(self, doc_ids: list[str]) -> None:
        if doc_ids:
            self._delete(doc_ids)

    def state(self, name: str) -> str | None:
        row = self.con.execute("select value from bronze.raw_docs__state where name = ?", [name]).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, name: str, value: str | None) -> None:
        self.con.execute("delete from bronze.raw_docs__state where name = ?", [name])
        if value is not None:
            self.con.execute("insert into bronze.raw_docs__state values (?, ?)", [name, value])

    def quarantine(self, source: str, collection: str, sha256: str | None, reason: str) -> None:
        self.con.execute(
            "insert into bronze.raw_docs__quarantine values (?,?,?,?,?)",
            [source, collection, sha256, reason, datetime.now(UTC).isoformat(timespec="seconds")],
        )

    def quarantined(self) -> pd.DataFrame:
        return self.con.execute("select * from bronze.raw_docs__quarantine order by quarantined_at").df()

    def documents(self) -> pd.DataFrame:
        return self.con.execute("select * from bronze.raw_docs__documents order by doc_id").df()

    def load(self) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """(documents, chunks without vectors, vectors as an (n, DIM) float32 matrix in chunk order)."""
        docs = self.documents()
        tbl = self.con.sql(
            "select chunk_id, doc_id, seq, page, section, char_start, char_end, text, vector "
            "from silver.stg_docs__chunks order by doc_id, seq"
        ).to_arrow_table()
        vec_col = tbl.column("vector").combine_chunks()
        vectors = np.asarray(vec_col.values.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, DIM)
        chunks = tbl.drop(["vector"]).to_pandas()
        return docs, chunks, vectors


@contextmanager
def open_store(home: Path, *, read_only: bool = False) -> Iterator[DocStore]:
    store = DocStore(store_path(home), read_only=read_only)
    try:
        yield store
    finally:
        store.close()


def summary(docs: pd.DataFrame) -> dict[str, Any]:
    return {"documents": len(docs), "by_kind": docs.groupby("kind").size().to_dict() if len(docs) else {}}
