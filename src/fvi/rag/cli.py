"""``fvi docs ingest`` and ``fvi ask``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

docs_app = typer.Typer(help="Documents for the chat: ingest the corpus, folders and fact sheets.")
console = Console(stderr=True)


@docs_app.command("ingest")
def ingest(
    folders: Annotated[list[Path] | None, typer.Argument(help="Extra folders (PDF, markdown, HTML, text).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Folder with rag_corpus/.")] = None,
    no_fact_sheets: Annotated[bool, typer.Option("--no-fact-sheets", help="Skip the generated fact sheets.")] = False,
    spider: Annotated[bool, typer.Option(
        "--spider", help="Also crawl the GEM wiki page of every mine and plant (network; FVI_SPIDER_* settings).",
    )] = False,
) -> None:
    """Chunk and embed every document whose sha256 changed; unreadable ones go to quarantine."""
    from fvi.rag.jobs import ingest_documents
    from fvi.settings import get_settings

    for f in folders or []:
        if not f.is_dir():
            console.print(f"[red]not a folder: {f}[/]")
            raise typer.Exit(2)
    report = ingest_documents(get_settings(), data_dir=data_dir, folders=list(folders or []),
                              fact_sheets=not no_fact_sheets, say=console.print,
                              spider=True if spider else None)
    console.print_json(json.dumps(report.to_json()))


def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    mine: Annotated[str | None, typer.Option(help="Ask about this GEM mine id.")] = None,
    country: Annotated[str | None, typer.Option(help="Ask about this ISO3 country.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole response as JSON.")] = False,
) -> None:
    """Answer a question with a citation on every sentence (offline: extractive)."""
    from fvi.api.errors import NotFound
    from fvi.rag.jobs import ask as run_ask
    from fvi.settings import get_settings

    entity = ("mine", mine) if mine else ("country", country.upper()) if country else None
    try:
        result = run_ask(get_settings(), question, entity)
    except NotFound as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(result, indent=1, default=str))
        return
    print(result["answer"])
    print()
    for c in result["citations"]:
        where = f"p. {c['page']}" if c.get("page") else (c.get("section") or "")
        print(f"[{c['n']}] {c['title']} {where} ({c['kind']}; {c['licence']}) {c.get('source_url') or ''}".rstrip())
    for note in result.get("notes", []):
        print(f"note: {note}")
    for d in result.get("dropped_sentences", []):
        print(f"dropped: {d['sentence']} ({d['reason']})")
