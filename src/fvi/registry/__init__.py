"""The registry: sources, metrics and personas as versioned, schema-validated YAML.

Everything else reads these files through this module; nothing restates them.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema
import yaml
from pydantic import BaseModel, Field


class RegistryError(ValueError):
    """A registry file does not satisfy its schema."""


class Licence(BaseModel):
    """A licence by name and the URL of its text."""

    name: str
    url: str


class SourceFile(BaseModel):
    """One published file (or API endpoint) of a source."""

    dataset: str
    url: str
    local_glob: str = Field(
        description="Where the file sits in a data dir laid out like shared/data."
    )
    format: str
    licence: Licence | None = None
    manual: bool = Field(
        default=False,
        description="The URL is a gated page (form); the file must be placed by hand.",
    )
    note: str | None = None


class Source(BaseModel):
    """One public source in ``sources.yml``: who publishes it, under which licence, how often, and its files."""

    id: str
    title: str
    producer: str
    landing_page: str
    licence: Licence
    citation: str
    cadence: str
    format: str
    files: list[SourceFile]
    used_for: str | None = Field(default=None, description="What the FVI uses the source for.")
    notes: str | None = None

    def licence_for(self, dataset: str | None) -> Licence:
        """The licence of ``dataset``'s file when it declares its own, else the source's licence."""
        for f in self.files:
            if f.dataset == dataset and f.licence is not None:
                return f.licence
        return self.licence


def _read(name: str) -> tuple[str, Any]:
    text = resources.files("fvi.registry").joinpath(name).read_text("utf-8")
    return text, yaml.safe_load(text)


def validate(doc: Any, schema_name: str, what: str) -> None:
    """Raise RegistryError with the path of the first schema violation."""
    schema = yaml.safe_load(
        resources.files("fvi.registry").joinpath(schema_name).read_text("utf-8")
    )
    try:
        jsonschema.validate(doc, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise RegistryError(f"{what}: {where}: {exc.message}") from exc


def check_sources(doc: Any) -> None:
    """Rules JSON Schema cannot state: unique source ids, no file entry listed twice.

    Raise RegistryError naming the offending path. Assumes ``doc`` already passed the schema.
    """
    seen_ids: dict[str, int] = {}
    for i, src in enumerate(doc["sources"]):
        if src["id"] in seen_ids:
            raise RegistryError(
                f"sources.yml: sources/{i}/id: duplicate id {src['id']!r} "
                f"(first at sources/{seen_ids[src['id']]})"
            )
        seen_ids[src["id"]] = i
        seen_files: dict[tuple[str, str], int] = {}
        for j, f in enumerate(src["files"]):
            key = (f["dataset"], f["local_glob"])
            if key in seen_files:
                raise RegistryError(
                    f"sources.yml: sources/{i}/files/{j}: dataset {f['dataset']!r} lists "
                    f"local_glob {f['local_glob']!r} twice (first at files/{seen_files[key]})"
                )
            seen_files[key] = j


def validate_sources(doc: Any) -> None:
    """Schema plus cross-entry checks for a sources document."""
    validate(doc, "sources.schema.yml", "sources.yml")
    check_sources(doc)


@lru_cache(maxsize=1)
def load_sources() -> dict[str, Source]:
    """All sources by id, validated against ``sources.schema.yml``."""
    _, doc = _read("sources.yml")
    validate_sources(doc)
    return {s["id"]: Source.model_validate(s) for s in doc["sources"]}


def _cell(text: str) -> str:
    """One markdown cell: single line; pipes and angle brackets escaped so they render as text."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def sources_markdown() -> str:
    """docs/sources.md, generated from sources.yml so the human table never drifts from it."""
    sources = load_sources()
    lines = [
        "# Sources",
        "",
        "<!-- Generated from src/fvi/registry/sources.yml by fvi.registry.sources_markdown();",
        "     do not edit by hand. A test fails when this file and the registry disagree. -->",
        "",
        "Every input of the FVI, its producer, licence and release cadence, and what the",
        "index uses it for. File URLs, local globs and notes: `src/fvi/registry/sources.yml`.",
        "",
        "| id | title | producer | licence | cadence | used for |",
        "|---|---|---|---|---|---|",
    ]
    for s in sources.values():
        licence = f"[{_cell(s.licence.name)}]({s.licence.url})"
        title = f"[{_cell(s.title)}]({s.landing_page})"
        cadence = s.cadence.replace("_", "-")
        lines.append(
            f"| `{s.id}` | {title} | {_cell(s.producer)} | {licence} | {cadence} "
            f"| {_cell(s.used_for or '')} |"
        )
    overrides = [(s, f) for s in sources.values() for f in s.files if f.licence is not None]
    if overrides:
        lines += [
            "",
            "## Files under another licence than their source",
            "",
            "| source | dataset | file | licence |",
            "|---|---|---|---|",
        ]
        for s, f in overrides:
            assert f.licence is not None
            lines.append(
                f"| `{s.id}` | `{f.dataset}` | `{f.local_glob}` "
                f"| [{_cell(f.licence.name)}]({f.licence.url}) |"
            )
    manual = [(s, f) for s in sources.values() for f in s.files if f.manual]
    if manual:
        lines += [
            "",
            "## Files that must be downloaded by hand",
            "",
            "The publisher gates these behind a form or a page; place them at the local glob.",
            "",
            "| source | dataset | download page | local glob |",
            "|---|---|---|---|",
        ]
        for s, f in manual:
            lines.append(f"| `{s.id}` | `{f.dataset}` | <{f.url}> | `{f.local_glob}` |")
    notes = [s for s in sources.values() if s.notes]
    if notes:
        lines += ["", "## Notes", ""]
        for s in notes:
            lines.append(f"- **`{s.id}`**: {_cell(s.notes or '')}")
    return "\n".join(lines) + "\n"


def registry_hash() -> str:
    """SHA-256 over the registry files, carried with every published result."""
    h = hashlib.sha256()
    for name in sorted(
        p.name for p in resources.files("fvi.registry").iterdir() if p.name.endswith(".yml")
    ):
        h.update(name.encode())
        h.update(resources.files("fvi.registry").joinpath(name).read_bytes())
    return h.hexdigest()
