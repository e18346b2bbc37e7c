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
    name: str
    url: str


class SourceFile(BaseModel):
    """One published file (or API endpoint) of a source."""

    dataset: str
    url: str
    local_glob: str = Field(description="Where the file sits in a data dir laid out like shared/data.")
    format: str
    licence: Licence | None = None
    note: str | None = None


class Source(BaseModel):
    id: str
    title: str
    producer: str
    landing_page: str
    licence: Licence
    citation: str
    cadence: str
    format: str
    files: list[SourceFile]
    notes: str | None = None

    def licence_for(self, dataset: str | None) -> Licence:
        for f in self.files:
            if f.dataset == dataset and f.licence is not None:
                return f.licence
        return self.licence


def _read(name: str) -> tuple[str, Any]:
    text = resources.files("fvi.registry").joinpath(name).read_text("utf-8")
    return text, yaml.safe_load(text)


def validate(doc: Any, schema_name: str, what: str) -> None:
    """Raise RegistryError with the path of the first schema violation."""
    schema = yaml.safe_load(resources.files("fvi.registry").joinpath(schema_name).read_text("utf-8"))
    try:
        jsonschema.validate(doc, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise RegistryError(f"{what}: {where}: {exc.message}") from exc


@lru_cache(maxsize=1)
def load_sources() -> dict[str, Source]:
    """All sources by id, validated against ``sources.schema.yml``."""
    _, doc = _read("sources.yml")
    validate(doc, "sources.schema.yml", "sources.yml")
    return {s["id"]: Source.model_validate(s) for s in doc["sources"]}


def registry_hash() -> str:
    """SHA-256 over the registry files, carried with every published result."""
    h = hashlib.sha256()
    for name in sorted(p.name for p in resources.files("fvi.registry").iterdir() if p.name.endswith(".yml")):
        h.update(name.encode())
        h.update(resources.files("fvi.registry").joinpath(name).read_bytes())
    return h.hexdigest()
