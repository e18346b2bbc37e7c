"""Sources and licences from the registry, with the releases the live build was made from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fvi.api import queries
from fvi.api.deps import OptionalReaderDep, PageDep
from fvi.api.schemas import Page

router = APIRouter(prefix="/sources", tags=["registry"])


@router.get("", response_model=Page[dict[str, Any]], summary="Sources and licences")
def list_sources(page: PageDep, reader: OptionalReaderDep) -> dict:
    """Producer, licence, citation and files of every source; ``releases`` from the latest ingest manifest."""
    from fvi.registry import load_sources

    manifest = queries.manifest_for_run(reader, "~") if reader is not None else []  # "~" sorts after every run id
    items = []
    for s in load_sources().values():
        item = s.model_dump(mode="json")
        item["releases"] = [row for row in manifest if row["source_id"] == s.id]
        items.append(item)
    note = None if reader is not None else "warehouse unavailable: releases omitted"
    return page.slice(items, note)
