"""Fact sheets are rebuilt only when the run that built gold changed (a re-run costs no profile reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fvi.rag import facts as F
from fvi.rag.documents import Document, Section, sha256_bytes
from fvi.rag.ingest import Ingestor
from fvi.rag.jobs import add_fact_sheets
from fvi.rag.store import open_store


class Reader:
    """The two run ids ``warehouse_key`` reads (a test double of the API reader)."""

    def __init__(self) -> None:
        self.run = "run-1"

    def has_table(self, layer: str, name: str) -> bool:
        return True

    def table(self, layer: str, name: str) -> str:
        return f"{layer}.{name}"

    def one(self, sql: str) -> dict[str, Any]:
        return {"v": self.run}


class Facts:
    def __init__(self) -> None:
        self.r = Reader()


def sheet(eid: str, text: str) -> Document:
    return Document(doc_id=f"factsheet-country-{eid.lower()}", kind="fact_sheet", title=f"FVI fact sheet: {eid}",
                    source_path=None, source_url=f"/v1/countries/{eid}", sha256=sha256_bytes(text.encode()),
                    licence="CC BY 4.0", collection="fact_sheets", sections=[Section(text=text)],
                    entity_type="country", entity_id=eid)


def test_fact_sheets_skipped_when_the_run_is_the_same(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001, E501
    built: list[int] = []

    def fake_sheets(wf: Any, run_id: Any, max_mines: int) -> list[Document]:
        built.append(max_mines)
        return [sheet("POL", f"Poland coal, {wf.r.run}."), sheet("IDN", "Indonesia coal.")]

    monkeypatch.setattr(F, "fact_sheets", fake_sheets)
    wf = Facts()

    def ingest(max_mines: int = 300) -> dict[str, Any]:
        with open_store(tmp_path) as st:
            ing = Ingestor(st, embedder, say=lambda _m: None)
            add_fact_sheets(ing, wf, max_mines, say=lambda _m: None)
            return ing.finish().to_json()

    assert ingest()["embedded"] == 2 and built == [300]
    again = ingest()
    assert again["embedded"] == 0 and again["unchanged"] == 2 and built == [300]  # not even rebuilt
    wf.r.run = "run-2"  # a new build: sheets rebuilt, only the changed one embedded
    changed = ingest()
    assert built == [300, 300] and changed["embedded"] == 1 and changed["unchanged"] == 1
    assert ingest(-1)["unchanged"] == 2 and built == [300, 300, -1]  # another mine cap: rebuilt too
    with open_store(tmp_path, read_only=True) as st:
        assert set(st.documents()["doc_id"]) == {"factsheet-country-pol", "factsheet-country-idn"}
