"""The data world a build, a score table or a model version came from.

A *data world* is whether the data is real or synthetic plus the release of every source the
build loaded (from ``bronze.ingest_manifest``, latest run). Its ``fingerprint`` is a short hash of
both. Two things built from different worlds are not comparable: a model trained on the synthetic
demo world is never compared with, promoted over or served for the real one, and a model trained
on older releases is not compared by CV AUC with one trained on newer releases (the AUCs come
from different label sets).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

SYNTHETIC, REAL, UNKNOWN = "synthetic", "real", "unknown"


@dataclass(frozen=True)
class DataWorld:
    """``kind`` (real | synthetic | unknown), the releases per source/dataset, and their fingerprint."""

    kind: str
    releases: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None

    @property
    def fingerprint(self) -> str:
        """The first 16 hex digits of the SHA-256 of the kind and releases (the run id is not part of it)."""
        doc = json.dumps({"kind": self.kind, "releases": self.releases}, sort_keys=True)
        return hashlib.sha256(doc.encode("utf-8")).hexdigest()[:16]

    @property
    def label(self) -> str:
        """Short words for a person: ``real data (gem_mines 2025-04, ...)``."""
        shown = ", ".join(f"{k} {v}" for k, v in sorted(self.releases.items())[:4])
        more = f", +{len(self.releases) - 4} more" if len(self.releases) > 4 else ""
        return f"{self.kind} data ({shown}{more})" if shown else f"{self.kind} data"

    def to_json(self) -> dict[str, Any]:
        """The world as a JSON-ready dict, fingerprint included (stored with model versions and scores)."""
        return {**asdict(self), "fingerprint": self.fingerprint}

    @classmethod
    def from_json(cls, doc: dict[str, Any] | None) -> DataWorld | None:
        """The world stored by :meth:`to_json`; None for an empty or missing record."""
        if not doc:
            return None
        return cls(kind=str(doc.get("kind") or UNKNOWN), releases=dict(doc.get("releases") or {}),
                   run_id=doc.get("run_id"))


def data_world(wh: Any) -> DataWorld:
    """The world of the warehouse ``wh``: the latest ingest run's sources and releases."""
    if not wh.has_table("bronze", "ingest_manifest"):
        return DataWorld(UNKNOWN)
    manifest = f"{wh.schema('bronze')}.ingest_manifest"
    rows = wh.query(
        f"select run_id, source_id, dataset, release, sha256, is_synthetic from {manifest} "
        f"where run_id = (select max(run_id) from {manifest})"
    )
    if not len(rows):
        return DataWorld(UNKNOWN)
    releases: dict[str, str] = {}
    for r in rows.itertuples(index=False):
        key = f"{r.source_id}/{r.dataset}" if r.dataset and str(r.dataset) != str(r.source_id) else str(r.source_id)
        value = r.release if isinstance(r.release, str) and r.release else (str(r.sha256)[:12] if r.sha256 else "")
        if value:
            releases[key] = value
    synthetic = rows["is_synthetic"].astype("boolean").fillna(False).any()
    return DataWorld(SYNTHETIC if synthetic else REAL, releases, str(rows["run_id"].iloc[0]))


def same_world(a: DataWorld | dict[str, Any] | None, b: DataWorld | dict[str, Any] | None) -> bool:
    """True when both worlds are known and equal (kind and every release)."""
    wa = a if isinstance(a, DataWorld) or a is None else DataWorld.from_json(a)
    wb = b if isinstance(b, DataWorld) or b is None else DataWorld.from_json(b)
    if wa is None or wb is None or UNKNOWN in (wa.kind, wb.kind):
        return False
    return wa.fingerprint == wb.fingerprint
