"""The chat's documents and embeddings are staged with the warehouse (issue 16, item 3).

Before: ``fvi run`` ingested the chat documents after the warehouse swap, in place, into the live
store, with fact sheets read from the live warehouse: a run killed or failing in that step had
already written half its documents, and a run that failed before the swap still changed nothing
there, so the store and the warehouse could describe different builds. Now the run writes into a
copy of the store (fact sheets from its own staging warehouse) that replaces the live store in the
same journaled commit as the warehouse; a dead run's copy is removed by the next writer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fvi import staged
from fvi.cli import _staged_documents
from fvi.pipeline import step_documents
from fvi.rag.jobs import ingest_documents, staged_facts
from fvi.rag.store import DocStore, store_path
from fvi.settings import get_settings
from fvi.warehouse import Staging
from tests.unit.api.tiny_warehouse import write_warehouse
from tests.unit.rag.conftest import chat_env, model_cache  # noqa: F401 - fixtures
from tests.unit.rag.helpers import write_corpus


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _collections(path: Path) -> dict[str, int]:
    store = DocStore(path, read_only=True)
    try:
        rows = store.con.execute(
            "select collection, count(*) from bronze.raw_docs__documents group by 1"
        ).fetchall()
    finally:
        store.close()
    return {str(c): int(n) for c, n in rows}


def _stage(run_id: str) -> Staging:
    staging = Staging(get_settings(), run_id)
    assert staging.path is not None
    write_warehouse(staging.path)  # the run's own build (the tiny gold layer)
    return staging


def _documents(staging: Staging, data: Path) -> dict[str, object]:
    report = ingest_documents(get_settings(), data_dir=data, say=lambda _m: None, store=staging.docs_store,
                              facts=lambda: staged_facts(staging), sync=False)
    return report.to_json()


def test_documents_are_written_aside_and_swap_in_with_the_warehouse(
    fvi_home: Path, chat_env: Path, tmp_path: Path  # noqa: F811
) -> None:
    data = tmp_path / "data"
    corpus = write_corpus(data / "rag_corpus")
    ingest_documents(get_settings(), data_dir=data, fact_sheets=False, say=lambda _m: None)  # the live store
    live = store_path(fvi_home)
    before, digest = _collections(live), _sha(live)
    assert "fact_sheets" not in before
    (corpus / "new_note.md").write_text("# A new note\n\nCoal mine methane is measured by satellites.\n")

    # a run that dies after writing its documents: nothing live moved; the next writer clears it
    dead = _stage("20261208T000000Z_dead00")
    _documents(dead, data)
    assert _sha(live) == digest
    assert staged.staged_docs(fvi_home, dead.run_id).exists()
    Staging(get_settings(), "20261208T000001Z_next00")  # what every writer does first
    assert not list(live.parent.glob("docs.*.building.duckdb*")) and _sha(live) == digest

    # a run whose document step fails: its copy is dropped, the live store stays, the run goes on
    failing = _stage("20261208T000002Z_fail00")

    def broken(staging: Staging) -> dict[str, object]:
        _documents(staging, data)
        raise OSError("embedding model unreadable")

    step = step_documents(failing, broken, say=lambda _m: None)
    assert step["status"] == "failed" and "embedding model unreadable" in str(step["error"])
    assert not list(live.parent.glob("docs.*.building.duckdb*")) and _sha(live) == digest
    failing.discard()

    # a run that finishes: documents and fact sheets of its own build swap in with the warehouse
    good = _stage("20261208T000003Z_good00")
    step = step_documents(good, _staged_documents(data), say=lambda _m: None)  # what `fvi run` passes
    assert step["status"] == "staged"
    assert _sha(live) == digest  # still nothing live before the commit
    good.commit()
    after = _collections(live)
    assert after["fact_sheets"] > 0  # read from the staging warehouse: there was no live one
    assert sum(after.values()) > sum(before.values())
    assert not list(live.parent.glob("docs.*.building.duckdb*"))
    assert get_settings().duckdb_path.exists() and not (fvi_home / staged.JOURNAL).exists()


def test_a_store_left_with_a_write_ahead_log_is_copied_with_it_and_not_swapped_unfinished(
    fvi_home: Path, tmp_path: Path
) -> None:
    live = store_path(fvi_home)
    store = DocStore(live)
    store.con.execute("insert into bronze.raw_docs__state values ('k', 'v')")
    store.close()
    (live.parent / (live.name + ".wal")).write_bytes(b"")  # a writer that died left its log
    staging = Staging(get_settings(), "20261208T000004Z_walwal")
    copy = staging.docs_store
    assert copy.exists() and (copy.parent / (copy.name + ".wal")).exists()
    with pytest.raises(RuntimeError, match="write-ahead log still present"):
        staged.docs_steps(fvi_home, staging.run_id)
