"""What one running service holds: the live warehouse, registry facts, cache, keys, limits, metrics.

Built by ``create_app`` and closed by its lifespan. Other parts of the service hang their own
long-lived objects on ``extras`` and their readiness on ``add_ready_check`` (from a startup hook,
see ``fvi.api.app.STARTUP_HOOKS``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fvi.api.db import LiveWarehouse, Reader
from fvi.api.keys import KeyStore
from fvi.api.security import RateLimiter
from fvi.cache import Cache, make_cache
from fvi.obs.metrics import ApiMetrics
from fvi.obs.ops_metrics import OpsCollector
from fvi.obs.telemetry import span
from fvi.registry import registry_hash
from fvi.settings import ApiSettings, Settings

if TYPE_CHECKING:
    from fvi.scoring.whatif import WhatIf

log = logging.getLogger(__name__)

CACHE_NAMESPACE = "fvi-api"


@dataclass(frozen=True)
class Check:
    """One readiness answer; ``ok`` False makes ``/ready`` answer 503 with ``detail`` as the reason."""

    ok: bool
    detail: str = "ok"


ReadyCheck = Callable[["AppState"], Check]
WhatIfFactory = Callable[[Reader], "WhatIf"]


def default_whatif(reader: Reader) -> WhatIf:
    """The scorer from the live gold tables (~1-2 s on the real build)."""
    from fvi.scoring.run import scorer_from_warehouse
    from fvi.scoring.whatif import WhatIf

    return WhatIf(scorer_from_warehouse(reader))


class WhatIfUnavailable(RuntimeError):
    """The what-if scorer cannot be built from this warehouse (scoring inputs missing or broken)."""


def _warehouse_check(state: AppState) -> Check:
    with state.warehouse.reader() as r:
        if not r.has_table("gold", "fvi_scores"):
            return Check(False, "the warehouse has no gold.fvi_scores yet: run `fvi run` or `fvi score`")
        r.scalar("select 1")
    return Check(True, f"build {state.warehouse.version()}")


def _cache_check(state: AppState) -> Check:
    """A set/get round trip; a cache outage degrades speed, not answers, so it never fails readiness."""
    probe = "ready:probe"
    state.cache.set(probe, "ok", ttl=5)
    if state.cache.get(probe) == "ok":
        return Check(True, state.cache.backend)
    return Check(True, f"{state.cache.backend} unreachable: serving without a cache (degraded)")


def _sources_check(state: AppState) -> Check:
    """Sources the live build did not load fresh (held back, carried forward, failed), and why.

    Never fails readiness: a held-back source serves its previous good data; this says which.
    """
    from fvi.errors import scrub_paths

    with state.warehouse.reader() as r:
        if not r.has_table("bronze", "ingest_manifest"):
            return Check(True, "no ingest manifest in this build")
        t = r.table("bronze", "ingest_manifest")
        rows = r.rows(
            f"select source_id, status, min(message) as message from {t} "
            f"where run_id = (select max(run_id) from {t}) and status <> 'loaded' "
            "group by source_id, status order by source_id"
        )
    if not rows:
        return Check(True, "every source loaded in the latest run")
    held = "; ".join(f"{x['source_id']} {x['status']}: {scrub_paths(str(x['message'] or ''))[:300]}" for x in rows)
    return Check(True, f"not loaded fresh in the latest run: {held}")


def _model_check(state: AppState) -> Check:
    """Placeholder until the prediction service registers its own check under ``model``."""
    return Check(True, "no prediction model configured in this service yet")


@dataclass
class AppState:
    settings: Settings
    api: ApiSettings
    warehouse: LiveWarehouse
    cache: Cache
    keys: KeyStore
    limiter: RateLimiter
    metrics: ApiMetrics
    whatif_factory: WhatIfFactory = default_whatif
    registry_hash: str = ""
    ready_checks: dict[str, ReadyCheck] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    _whatif: tuple[str, WhatIf] | None = None
    _whatif_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls,
        settings: Settings,
        api: ApiSettings,
        *,
        whatif_factory: WhatIfFactory | None = None,
        cache: Cache | None = None,
    ) -> AppState:
        limiter = RateLimiter(
            {
                "default": (api.rate_per_minute, api.key_rate_per_minute, api.rate_burst),
                "compute": (api.whatif_rate_per_minute, api.whatif_rate_per_minute * 4, max(1, api.rate_burst // 4)),
            }
        )
        state = cls(
            settings=settings,
            api=api,
            warehouse=LiveWarehouse(settings, version_check_seconds=api.version_check_seconds),
            cache=cache or make_cache(settings.cache_url, CACHE_NAMESPACE, default_ttl=api.response_cache_ttl_seconds),
            keys=KeyStore(api.keys_file(settings.home_abs)),
            limiter=limiter,
            metrics=ApiMetrics(),
            whatif_factory=whatif_factory or default_whatif,
            registry_hash=registry_hash(),
        )
        state.metrics.watch_cache(state.cache.stats)
        state.metrics.registry.register(OpsCollector(state))
        state.ready_checks.update({"warehouse": _warehouse_check, "cache": _cache_check, "sources": _sources_check,
                                   "model": _model_check})
        return state

    def add_ready_check(self, name: str, check: ReadyCheck) -> None:
        """Add (or replace, e.g. ``model``) a readiness check."""
        self.ready_checks[name] = check

    def readiness(self) -> dict[str, Check]:
        out: dict[str, Check] = {}
        for name, check in self.ready_checks.items():
            try:
                out[name] = check(self)
            except Exception as exc:  # noqa: BLE001 - a failing check is an answer, not a crash
                log.warning("ready check %s failed: %s", name, exc)
                out[name] = Check(False, _reason(exc))
        return out

    def whatif(self, reader: Reader) -> WhatIf:
        """The what-if scorer of the build ``reader`` reads, built on first use and after every swap."""
        current = self._whatif
        if current is not None and current[0] == reader.version:
            return current[1]
        with self._whatif_lock:
            current = self._whatif
            if current is not None and current[0] == reader.version:
                return current[1]
            with span("scoring.build_scorer", version=reader.version):
                try:
                    built = self.whatif_factory(reader)
                except Exception as exc:
                    log.exception("what-if: cannot build the scorer from build %s", reader.version)
                    raise WhatIfUnavailable(
                        "what-if is unavailable: this warehouse lacks the inputs the scorer needs"
                    ) from exc
            self._whatif = (reader.version, built)
            return built

    def warm(self) -> None:
        """Build the what-if scorer now (called in a background thread at start-up); failures only log."""
        try:
            with self.warehouse.reader() as reader:
                self.whatif(reader)
            log.info("what-if: scorer ready")
        except Exception as exc:  # noqa: BLE001 - a cold start is not an outage; the route answers 503 itself
            log.warning("what-if: scorer not warmed (%s)", exc)

    def close(self) -> None:
        self.warehouse.close()
        self.cache.close()
        self._whatif = None


def _reason(exc: BaseException) -> str:
    from fvi.warehouse import WarehouseUnavailable

    if isinstance(exc, WarehouseUnavailable):
        return f"warehouse unavailable: {exc}"
    return f"{type(exc).__name__} (see the service log)"
