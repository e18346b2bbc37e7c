"""A/B split between each model's champion and its challenger, by a stable hash of the entity id.

The same entity always lands in the same arm (for every model that has a challenger), so one mine
never flips between two answers from one request to the next, and every worker agrees without
talking to the others. The split lives in a small JSON file under FVI_HOME (``ab.json``) that an
admin changes through the API; workers pick a change up on their next refresh. Every prediction
served is counted per model, version and arm, in memory and in Prometheus.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections import Counter as Tally
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CHAMPION, CHALLENGER = "champion", "challenger"
_SCALE = float(1 << 64)


class ABConfig(BaseModel):
    """The split: share of entities (0-1) whose predictions come from the challenger, when one exists."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="False sends everything to the champion.")
    challenger_share: float = Field(default=0.1, ge=0.0, le=1.0, description="0.1 = 90/10 champion/challenger.")
    salt: str = Field(
        default="fvi-ab-1", min_length=1, max_length=64, description="Changing it reshuffles who is in which arm."
    )
    updated_at: str | None = None
    updated_by: str | None = None


def bucket(salt: str, entity_id: str) -> float:
    """A number in [0, 1) fixed by (salt, entity id): the entity's place in the split."""
    digest = hashlib.sha256(f"{salt}\x1f{entity_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


class ABRouter:
    """Assigns arms, stores the split in ``path``, counts what was served.

    ``counter`` is a Prometheus counter with labels ``model_version`` and ``variant``
    (``fvi_predictions_total``); its ``model_version`` label reads ``<model name>:<version>``
    because version numbers repeat across models.
    """

    def __init__(self, path: Path, *, default_share: float = 0.1, counter: Any = None) -> None:
        self.path = Path(path)
        self._default = ABConfig(challenger_share=default_share)
        self._counter = counter
        self._children: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._buckets: dict[str, float] = {}
        self._tally: Tally[tuple[str, str, str]] = Tally()
        self._mtime: int | None = None
        self.config = self._default
        self.reload()

    # -- the split ---------------------------------------------------------------------------

    def reload(self) -> bool:
        """Read the file if it changed (or vanished); True when the split changed."""
        try:
            mtime: int | None = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime == self._mtime:
            return False
        config = self._default
        if mtime is not None:
            try:
                config = ABConfig.model_validate(json.loads(self.path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                return False  # half-written or hand-broken: keep serving the split we have
        self._set(config, mtime)
        return True

    def _set(self, config: ABConfig, mtime: int | None) -> None:
        with self._lock:
            if config.salt != self.config.salt:
                self._buckets = {}
            self.config = config
            self._mtime = mtime

    def save(self, config: ABConfig, *, by: str | None = None) -> ABConfig:
        """Write the split atomically (readers never see half a file) and use it at once."""
        stamped = config.model_copy(
            update={"updated_at": datetime.now(UTC).isoformat(timespec="seconds"), "updated_by": by}
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ab.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(stamped.model_dump(), fh, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._set(stamped, self.path.stat().st_mtime_ns)
        return stamped

    def assign(self, entity_id: str, has_challenger: bool) -> str:
        """``challenger`` for the configured share of entities (stable), else ``champion``."""
        config = self.config
        if not has_challenger or not config.enabled or config.challenger_share <= 0.0:
            return CHAMPION
        b = self._buckets.get(entity_id)
        if b is None:
            b = bucket(config.salt, entity_id)
            if len(self._buckets) < 1_000_000:
                self._buckets[entity_id] = b
        return CHALLENGER if b < config.challenger_share else CHAMPION

    # -- counting ----------------------------------------------------------------------------

    def record(self, name: str, version: str, variant: str, n: int = 1) -> None:
        """Count ``n`` predictions of ``name`` ``version`` served from arm ``variant``."""
        key = (name, version, variant)
        self._tally[key] += n  # a lost increment under a race is acceptable for a stats view
        if self._counter is not None:
            child = self._children.get((f"{name}:{version}", variant))
            if child is None:
                child = self._counter.labels(model_version=f"{name}:{version}", variant=variant)
                self._children[(f"{name}:{version}", variant)] = child
            child.inc(n)

    def stats(self) -> dict[str, Any]:
        """Predictions served per model, arm and version since this worker started."""
        by_model: dict[str, dict[str, Any]] = {}
        for (name, version, variant), n in sorted(self._tally.items()):
            m = by_model.setdefault(name, {"total": 0, "variants": {}})
            arm = m["variants"].setdefault(variant, {"total": 0, "versions": {}})
            arm["versions"][version] = arm["versions"].get(version, 0) + n
            arm["total"] += n
            m["total"] += n
        for m in by_model.values():
            for arm in m["variants"].values():
                arm["share"] = arm["total"] / m["total"] if m["total"] else 0.0
        return by_model
