"""Online predictions: champion and challenger ONNX sessions and the latest feature rows, held in memory.

One :class:`Predictor` per worker loads every model's champion (and challenger) once, with
:func:`fvi.ml.model_registry.load_bundle` (the registry refuses a missing or corrupt ONNX file), and
keeps each entity's latest feature row as a prebuilt float32 row per model. A prediction is then a
dict lookup, a cache lookup and, on a miss, one ``InferenceSession.run`` on one row (classifiers) or
on ``min(H, k_max)`` rows (the mine hazard model's survival S(H)); no pandas on that path.

Which model answers: a classifier answers its own horizon for its entity group (``fvi_mine_h5``:
mines at H5; ``fvi_country_h10``: countries at H10); the hazard model answers the mine horizons no
classifier covers (H10, H20), as ``fvi_predictions`` does.

Cache keys are the SHA-256 of (model name, version, build, entity, as-of year, horizon, canonical
overrides): the stored features of an entity are fixed by the build, so naming them is as exact as
hashing them and ~30x cheaper. Everything that changes a prediction (a new build, a promotion, an
override) changes the key; stale entries simply expire.

Reloads (a new build, a promotion by another worker, a new training run) are noticed on a timer
driven by requests, done in a background thread and swapped in as one new :class:`Snapshot`, so a
request sees either the old or the new models and rows, never a mix.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fvi.cache import Cache
from fvi.ml.model_registry import (
    CHALLENGER,
    CHAMPION,
    REGISTRY_FILE,
    Calibration,
    ModelBundle,
    ModelRegistry,
    load_bundle,
)
from fvi.provenance import DataWorld, data_world
from fvi.serving.ab import ABRouter
from fvi.serving.rows import GROUP_OF, FeatureRows, cached_rows
from fvi.warehouse import Warehouse

log = logging.getLogger(__name__)

HORIZONS = ("H5", "H10", "H20")
ALIASES = (CHAMPION, CHALLENGER)
_F32_MAX = float(np.finfo(np.float32).max)
_EPS = 1e-6  # as Calibration's logit


class UnknownEntity(LookupError):
    """No feature row for this entity in the served build (the message names it)."""


class InvalidOverride(ValueError):
    """An override names no model feature, or is not a finite float32; ``field`` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ModelUnavailable(RuntimeError):
    """No model, or no feature rows, to answer with (the message says why)."""


# ---------------------------------------------------------------------------------------------
# One model version, ready to score single rows


class ScalarCalibration:
    """:class:`Calibration` on one float without numpy (the same numbers, ~20x faster per call)."""

    def __init__(self, cal: Calibration) -> None:
        self.method = cal.method
        self.a = float(cal.params.get("a", 1.0))
        self.b = float(cal.params.get("b", 0.0))
        self.x = [float(v) for v in cal.params.get("x", [])]
        self.y = [float(v) for v in cal.params.get("y", [])]
        if self.method not in ("none", "sigmoid", "isotonic"):
            raise ValueError(f"unknown calibration method {self.method!r}")

    def __call__(self, p: float) -> float:
        """The calibrated probability for raw probability ``p``."""
        if self.method == "none":
            return p
        if self.method == "sigmoid":
            q = min(max(p, _EPS), 1.0 - _EPS)
            z = self.a * math.log(q / (1.0 - q)) + self.b
            return 1.0 / (1.0 + math.exp(-z))
        x, y = self.x, self.y  # np.interp: clamp outside, linear inside
        if p <= x[0]:
            return y[0]
        if p >= x[-1]:
            return y[-1]
        j = bisect.bisect_right(x, p)
        x0, x1, y0, y1 = x[j - 1], x[j], y[j - 1], y[j]
        return y0 if x1 == x0 else y0 + (p - x0) * (y1 - y0) / (x1 - x0)


@dataclass
class ServingModel:
    """A loaded version: ONNX session, feature order and calibration, scoring one prebuilt row."""

    bundle: ModelBundle
    name: str
    version: str
    kind: str
    group: str
    target: str
    feature_horizon: str
    horizon_years: int | None
    k_max: int
    feature_order: list[str]
    columns: dict[str, int]
    k_col: int | None
    calibrate: ScalarCalibration
    session: Any
    input_name: str
    outputs: list[str]
    _steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    explain_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, models_dir: Path, name: str, ref: str) -> ServingModel:
        """Load version ``ref`` (alias or number) of model ``name`` from ``models_dir``, ready to score rows."""
        b = load_bundle(models_dir, name, ref)
        meta = b.meta
        order = b.feature_order
        k_feature = meta.get("k_feature")
        kind = b.kind
        if kind not in ("classifier", "hazard"):
            raise ValueError(f"{name} v{b.version}: unknown model kind {kind!r}")
        k_max = int(meta.get("k_max") or 1)
        sess = b.session
        return cls(
            bundle=b,
            name=name,
            version=str(b.version),
            kind=kind,
            group=str(meta.get("entity", "mine")),
            target=str(meta.get("target", "")),
            feature_horizon=str(meta.get("feature_horizon") or "H5"),
            horizon_years=int(meta["horizon_years"]) if meta.get("horizon_years") else None,
            k_max=k_max,
            feature_order=order,
            columns={f: j for j, f in enumerate(order)},
            k_col=order.index(k_feature) if kind == "hazard" and k_feature in order else None,
            calibrate=ScalarCalibration(b.calibration),
            session=sess,
            input_name=str(meta.get("input_name") or sess.get_inputs()[0].name),
            outputs=[str(meta.get("output_name") or "probabilities")],
            _steps=np.arange(1, k_max + 1, dtype=np.float32),
        )

    @property
    def output(self) -> str:
        """What the model's raw output means (``meta.json``'s ``output``, e.g. the log-odds of a target)."""
        return str(self.bundle.meta.get("output", "log_odds"))

    @property
    def overridable(self) -> list[str]:
        """Features a what-if may set (the hazard step is the model's own)."""
        return [f for j, f in enumerate(self.feature_order) if j != self.k_col]

    def run(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated P(class 1) per row of a float32 [n, F] matrix."""
        return self.session.run(self.outputs, {self.input_name: x})[0][:, 1]

    def score(self, row: np.ndarray, years: int) -> tuple[float, float]:
        """(calibrated, raw) probability for one float32 row; a hazard model's S(``years``)."""
        if self.k_col is None:
            raw = float(self.session.run(self.outputs, {self.input_name: row.reshape(1, -1)})[0][0, 1])
            return self.calibrate(raw), raw
        return self.survival(row, (years,))[0]

    def survival(self, row: np.ndarray, years: tuple[int, ...]) -> list[tuple[float, float]]:
        """(calibrated, raw) S(H) for each H in ``years`` (ascending) from one pass over k = 1..min(max H, k_max).

        Survival is prod(1 - h_k); the hazard of k > k_max is held at k_max, as in training.
        """
        k = min(years[-1], self.k_max)
        x = np.empty((k, row.shape[0]), dtype=np.float32)
        x[:] = row
        x[:, self.k_col] = self._steps[:k]
        hazards = self.session.run(self.outputs, {self.input_name: x})[0][:, 1].tolist()
        cal = self.calibrate
        if cal.method == "none":  # the usual case for the hazard model: no second product to keep
            return self._survival_raw(hazards, years, k)
        out = []
        s_raw = s_cal = 1.0
        step = 0
        for h_years in years:
            while step < min(h_years, k):
                h = hazards[step]
                s_raw *= 1.0 - min(max(h, 0.0), 1.0)
                s_cal *= 1.0 - min(max(cal(h), 0.0), 1.0)
                step += 1
            if h_years > k:
                last = hazards[-1]
                out.append(
                    (
                        s_cal * (1.0 - min(max(cal(last), 0.0), 1.0)) ** (h_years - k),
                        s_raw * (1.0 - min(max(last, 0.0), 1.0)) ** (h_years - k),
                    )
                )
            else:
                out.append((s_cal, s_raw))
        return out

    @staticmethod
    def _survival_raw(hazards: list[float], years: tuple[int, ...], k: int) -> list[tuple[float, float]]:
        out = []
        s = 1.0
        step = 0
        for h_years in years:
            while step < min(h_years, k):
                s *= 1.0 - min(max(hazards[step], 0.0), 1.0)
                step += 1
            v = s * (1.0 - min(max(hazards[-1], 0.0), 1.0)) ** (h_years - k) if h_years > k else s
            out.append((v, v))
        return out

    def describe(self) -> dict[str, Any]:
        """Name, version, kind and target: how a prediction names the model that made it."""
        return {"name": self.name, "version": self.version, "kind": self.kind, "target": self.target}


# ---------------------------------------------------------------------------------------------
# What a request reads: one immutable snapshot


@dataclass(frozen=True)
class Snapshot:
    """Everything a request reads, swapped in whole on a reload: loaded models, routes, feature rows and matrices."""

    models: dict[str, dict[str, ServingModel]]
    """Model name -> alias -> loaded version."""
    routes: dict[tuple[str, str], str]
    """(entity group, horizon) -> model name."""
    rows: FeatureRows | None
    matrices: dict[tuple[str, str], np.ndarray]
    """(model name, version) -> float32 [entities of its group, features] in its feature order."""
    registry_mtime: int | None = None
    load_errors: dict[str, str] = field(default_factory=dict)
    rows_error: str | None = None
    curves: dict[str, list[str]] = field(default_factory=dict)
    """Hazard model name -> the horizons it answers (ascending): one survival curve computes them all."""
    build: str | None = None
    """The live build the models were chosen for (its data world decides which may serve)."""


def routes_for(models: Mapping[str, Mapping[str, ServingModel]]) -> dict[tuple[str, str], str]:
    """Classifiers answer their horizon; a hazard model answers its group's other horizons."""
    routes: dict[tuple[str, str], str] = {}
    champions = [arms[CHAMPION] for _, arms in sorted(models.items()) if CHAMPION in arms]
    for m in champions:
        if m.kind == "classifier" and m.horizon_years:
            routes.setdefault((m.group, f"H{m.horizon_years}"), m.name)
    for m in champions:
        if m.kind == "hazard":
            for h in HORIZONS:
                routes.setdefault((m.group, h), m.name)
    return routes


def _curves(
    models: Mapping[str, Mapping[str, ServingModel]], routes: Mapping[tuple[str, str], str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for (_group, horizon), name in routes.items():
        arms = models.get(name, {})
        if any(m.k_col is not None for m in arms.values()) and horizon not in out.get(name, []):
            out.setdefault(name, []).append(horizon)
    return {n: sorted(hs, key=lambda h: int(h[1:])) for n, hs in out.items()}


def _needs(models: Mapping[str, Mapping[str, ServingModel]]) -> dict[str, set[str]]:
    needs: dict[str, set[str]] = {}
    for arms in models.values():
        for m in arms.values():
            needs.setdefault(m.group, set()).add(m.feature_horizon)
    return needs


def _matrices(
    models: Mapping[str, Mapping[str, ServingModel]], rows: FeatureRows | None, old: Snapshot | None
) -> dict[tuple[str, str], np.ndarray]:
    out: dict[tuple[str, str], np.ndarray] = {}
    if rows is None:
        return out
    for arms in models.values():
        for m in arms.values():
            key = (m.name, m.version)
            if key in out:
                continue
            if old is not None and old.rows is rows and key in old.matrices:
                out[key] = old.matrices[key]
                continue
            frame = rows.frames.get((m.group, m.feature_horizon))
            if frame is None:
                continue
            x = frame.reindex(columns=m.feature_order).to_numpy(dtype=np.float32, na_value=np.nan)
            out[key] = np.ascontiguousarray(x)
    return out


@dataclass(frozen=True, slots=True)
class Prediction:
    """One served probability of the model's ``target`` for an entity, horizon and as-of year.

    ``p`` is calibrated, ``p_raw`` the model's own, both P(``target``) as the model states it (a
    ``decline`` model's is not turned round here); ``variant`` is the A/B arm that answered.
    """

    entity_type: str
    entity_id: str
    as_of_year: int
    horizon: str
    target: str
    p: float
    p_raw: float
    model_name: str
    model_version: str
    variant: str
    cached: bool
    interval: tuple[float, float, float, str] | None
    """(p_mean, p_lo, p_hi, model) in the same terms as ``p``; None with overrides or without one."""
    overrides: dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The prediction as the API's JSON body; the interval (90 % level) as a dict, or None."""
        interval = None
        if self.interval is not None:
            mean, lo, hi, model = self.interval
            interval = {"p_mean": mean, "p_lo": lo, "p_hi": hi, "level": 0.9, "model": model}
        return {
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "as_of_year": self.as_of_year,
            "horizon": self.horizon,
            "target": self.target,
            "p": self.p,
            "p_raw": self.p_raw,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "variant": self.variant,
            "cached": self.cached,
            "interval": interval,
            "overrides": self.overrides or {},
        }


ReaderFactory = Callable[[], AbstractContextManager[Warehouse]]
"""Opens the live warehouse for a moment; the object has ``version`` (the build) besides the Warehouse API."""


class Predictor:
    """Champion/challenger sessions + feature rows + cache + A/B arm, per worker."""

    def __init__(
        self,
        models_dir: Path,
        cache: Cache,
        ab: ABRouter,
        *,
        reader: ReaderFactory | None = None,
        where: str = "",
        refresh_seconds: float = 30.0,
        cache_ttl: float | None = None,
        live_version: Callable[[], str | None] | None = None,
    ) -> None:
        self.models_dir = Path(models_dir)
        self.cache = cache
        self.ab = ab
        self._reader = reader
        self._where = where
        self.refresh_seconds = refresh_seconds
        self.cache_ttl = cache_ttl
        self._live_version = live_version
        self._followed: str | None = None
        """The last live build a synchronous reload was started for (tried once, not on every call)."""
        self._snap = Snapshot({}, {}, None, {})
        self._reload_lock = threading.Lock()
        self._refreshing = False
        self._next_check = 0.0
        self.started_seconds: dict[str, float] = {}

    # -- loading -----------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot requests read now (replaced whole by a reload, never changed in place)."""
        return self._snap

    def _registry_mtime(self) -> int | None:
        try:
            return (self.models_dir / REGISTRY_FILE).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _world(self) -> tuple[DataWorld | None, str | None]:
        """The live build's data world and build id (None when no warehouse is configured or readable)."""
        if self._reader is None:
            return None, None
        try:
            with self._reader() as wh:
                return data_world(wh), str(getattr(wh, "version", "") or "unversioned")
        except Exception as exc:  # noqa: BLE001 - the rows step reports the outage
            log.warning("serving: data world not read: %s", exc)
            return None, None

    def _load_models(
        self, old: Snapshot, world: DataWorld | None
    ) -> tuple[dict[str, dict[str, ServingModel]], dict[str, str]]:
        """Every model's champion and challenger; a version that fails to load keeps the old one serving.

        A version trained on another data world than the live build's (synthetic vs real, other
        source releases) is never served for it: its arm stays empty and the reason is reported.
        """
        reg = ModelRegistry(self.models_dir)
        models: dict[str, dict[str, ServingModel]] = {}
        errors: dict[str, str] = {}
        for name in reg.names():
            aliases = reg.aliases(name)
            for alias in ALIASES:
                version = aliases.get(alias)
                if version is None:
                    continue
                why = reg.world_mismatch(name, version, world)
                if why:
                    errors[f"{name}@{alias}"] = f"not served: {why}"
                    continue
                current = old.models.get(name, {})
                reuse = next((m for m in current.values() if m.version == str(version)), None)
                if reuse is not None:
                    models.setdefault(name, {})[alias] = reuse
                    continue
                try:
                    models.setdefault(name, {})[alias] = ServingModel.load(self.models_dir, name, str(version))
                except Exception as exc:  # noqa: BLE001 - a broken version must not take the others down
                    errors[f"{name}@{alias}"] = f"v{version} does not load: {_short(exc)}"
                    log.warning("serving: %s %s v%s not loaded: %s", name, alias, version, exc)
                    if alias in current:
                        models.setdefault(name, {})[alias] = current[alias]
            if not models.get(name):
                models.pop(name, None)
        return models, errors

    def _load_rows(
        self, models: Mapping[str, Mapping[str, ServingModel]], old: Snapshot
    ) -> tuple[FeatureRows | None, str | None]:
        needs = _needs(models)
        if not needs:
            return None, None
        if self._reader is None:
            return old.rows, "no warehouse configured"
        try:
            with self._reader() as wh:
                build = str(getattr(wh, "version", "") or "unversioned")
                if old.rows is not None and old.rows.build == build and _covers(old.rows, needs):
                    return old.rows, None
                return cached_rows(self._where, wh, build, needs), None
        except Exception as exc:  # noqa: BLE001 - warehouse down or not built: serve nothing, say why
            log.warning("serving: feature rows not loaded: %s", exc)
            return old.rows, _reason(exc)

    def load(self) -> Snapshot:
        """(Re)load models and rows now and swap them in; returns the new snapshot."""
        with self._reload_lock:
            old = self._snap
            t0 = time.perf_counter()
            mtime = self._registry_mtime()
            world, build = self._world()
            models, errors = self._load_models(old, world)
            t1 = time.perf_counter()
            rows, rows_error = self._load_rows(models, old)
            t2 = time.perf_counter()
            routes = routes_for(models)
            snap = Snapshot(
                models=models,
                routes=routes,
                curves=_curves(models, routes),
                rows=rows,
                matrices=_matrices(models, rows, old),
                registry_mtime=mtime,
                load_errors=errors,
                rows_error=rows_error,
                build=build,
            )
            self._snap = snap
            self.started_seconds = {
                "models": round(t1 - t0, 3),
                "rows": round(t2 - t1, 3),
                "total": round(time.perf_counter() - t0, 3),
            }
            self._next_check = time.monotonic() + self.refresh_seconds
            return snap

    def refresh(self) -> bool:
        """Reload when the registry file, the build or the A/B file changed; True when something was reloaded."""
        self.ab.reload()
        snap = self._snap
        changed = self._registry_mtime() != snap.registry_mtime or snap.rows_error is not None
        # a new build can be a new data world: the models it may be served by are chosen again
        if not changed and self._reader is not None and (snap.rows is not None or snap.build is not None):
            seen = snap.rows.build if snap.rows is not None else snap.build
            try:
                with self._reader() as wh:
                    changed = str(getattr(wh, "version", "") or "unversioned") != seen
            except Exception:  # noqa: BLE001 - a warehouse outage is seen by the routes that need it
                changed = False
        if changed:
            self.load()
        return changed

    def _follow_build(self) -> None:
        """Reload now when the live build is not the one the models were chosen for.

        A rebuild swaps the warehouse and the champions together; the profile routes read the new
        warehouse at once, so a prediction must not answer from the old champions meanwhile (one
        build, one model version per answer). Costs one ``stat`` when nothing changed.
        """
        if self._live_version is None:
            return
        try:
            live = self._live_version()
        except Exception:  # noqa: BLE001 - an outage is reported by the routes that read
            return
        snap = self._snap
        seen = snap.rows.build if snap.rows is not None else snap.build
        if live is not None and seen is not None and live != seen and live != self._followed:
            # once per new build: a reload that cannot open it (locked, half-written) leaves the old
            # snapshot serving and the timer retries, instead of every request reloading in turn
            self._followed = live
            self.refresh()

    def _maybe_refresh(self) -> None:
        """At most one background refresh per ``refresh_seconds``, started by a request."""
        now = time.monotonic()
        if now < self._next_check or self._refreshing:
            return
        self._next_check = now + self.refresh_seconds
        self._refreshing = True

        def run() -> None:
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - a failed refresh leaves the old snapshot serving
                log.exception("serving: refresh failed")
            finally:
                self._refreshing = False

        threading.Thread(target=run, name="fvi-serving-refresh", daemon=True).start()

    # -- predicting --------------------------------------------------------------------------

    def route(self, entity_type: str, horizon: str, variant: str | None, entity_id: str) -> tuple[ServingModel, str]:
        """The model version and arm that answer for this entity and horizon."""
        snap = self._snap
        group = GROUP_OF.get(entity_type)
        name = snap.routes.get((group or "", horizon))
        if name is None:
            refused = "; ".join(sorted(v for v in snap.load_errors.values() if v.startswith("not served")))
            raise ModelUnavailable(
                f"no champion model serves {entity_type} predictions at {horizon}: "
                + (refused + "; run `fvi train` on this build" if refused else "run `fvi train`")
            )
        arms = snap.models[name]
        if variant is None:
            variant = self.ab.assign(entity_id, CHALLENGER in arms)
        model = arms.get(variant)
        if model is None:
            raise InvalidOverride("body.variant", f"{name} has no {variant} version")
        return model, variant

    def _locate(self, entity_type: str, entity_id: str) -> tuple[FeatureRows, str, int]:
        snap = self._snap
        rows = snap.rows
        if rows is None:
            reason = snap.rows_error or (
                "no feature rows loaded" if snap.models else "no models trained: run `fvi train`"
            )
            raise ModelUnavailable(f"predictions unavailable: {reason}")
        group = GROUP_OF.get(entity_type, "")
        i = rows.index.get(group, {}).get((entity_type, entity_id))
        if i is None:
            raise UnknownEntity(f"{entity_type} {entity_id!r} not found in the current build")
        return rows, group, i

    def check_overrides(self, model: ServingModel, overrides: Mapping[str, Any]) -> list[tuple[int, float]]:
        """(column, float32 value) per override; unknown names and non-finite values are refused."""
        out = []
        for feature, value in sorted(overrides.items()):
            field_name = f"body.overrides.{feature}"
            j = model.columns.get(feature)
            if j is None or j == model.k_col:
                raise InvalidOverride(field_name, f"unknown feature {feature!r} for {model.name} (see GET /v1/models)")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidOverride(field_name, "must be a number")
            v = float(value)
            if not math.isfinite(v) or abs(v) > _F32_MAX:
                raise InvalidOverride(field_name, f"must be a finite number within float32 range, not {value!r}")
            out.append((j, v))
        return out

    def predict(
        self,
        entity_type: str,
        entity_id: str,
        horizon: str,
        overrides: Mapping[str, Any] | None = None,
        variant: str | None = None,
        *,
        record: bool = True,
    ) -> Prediction:
        """P(target) for one entity's latest feature row (``overrides`` set features first).

        ``record=False`` leaves the A/B counters alone (cache warming is not traffic).
        """
        self._follow_build()
        if self._next_check <= time.monotonic():
            self._maybe_refresh()
        rows, group, i = self._locate(entity_type, entity_id)
        model, arm = self.route(entity_type, horizon, variant, entity_id)
        x = self._snap.matrices.get((model.name, model.version))
        if x is None:
            raise ModelUnavailable(f"{model.name} v{model.version}: no {model.feature_horizon} features in this build")
        as_of = rows.years[group][i]
        if overrides:
            changes = self.check_overrides(model, overrides)
            canon = ";".join(f"{model.feature_order[j]}={v!r}" for j, v in changes)
        else:
            changes, canon = [], ""
        prefix = f"{model.name}\x1f{model.version}\x1f{rows.build}\x1f{entity_type}\x1f{entity_id}\x1f{as_of}\x1f"
        key = hashlib.sha256(f"{prefix}{horizon}\x1f{canon}".encode()).hexdigest()
        hit = self.cache.get(key)
        if hit is not None:
            p, p_raw = hit
            cached = True
        else:
            row = x[i]
            if changes:
                row = row.copy()
                for j, v in changes:
                    row[j] = v
            curve = self._snap.curves.get(model.name) if model.k_col is not None else None
            if curve and horizon in curve:
                # one survival curve answers every horizon of this model: cache them all at once
                values = model.survival(row, tuple(int(h[1:]) for h in curve))
                for h, (pc, pr) in zip(curve, values, strict=True):
                    if h == horizon:
                        p, p_raw = pc, pr
                    else:
                        sibling = hashlib.sha256(f"{prefix}{h}\x1f{canon}".encode()).hexdigest()
                        self.cache.set(sibling, [pc, pr], self.cache_ttl)
            else:
                p, p_raw = model.score(row, int(horizon[1:]))
            self.cache.set(key, [p, p_raw], self.cache_ttl)
            cached = False
        if record:
            self.ab.record(model.name, model.version, arm)
        interval = None
        if not changes:
            found = rows.intervals.get((entity_type, entity_id, horizon))
            if found is not None:
                _, mean, lo, hi, source = found
                interval = (
                    (1.0 - mean, 1.0 - hi, 1.0 - lo, source) if model.target == "decline" else (mean, lo, hi, source)
                )
        return Prediction(
            entity_type,
            entity_id,
            as_of,
            horizon,
            model.target,
            p,
            p_raw,
            model.name,
            model.version,
            arm,
            cached,
            interval,
            dict(overrides) if overrides else None,
        )

    def feature_values(
        self,
        entity_type: str,
        entity_id: str,
        horizon: str,
        overrides: Mapping[str, Any] | None = None,
        variant: str | None = None,
    ) -> tuple[ServingModel, str, int, dict[str, float | None]]:
        """(model, arm, as-of year, feature -> value) for explanations; overrides applied and checked."""
        self._follow_build()
        rows, group, i = self._locate(entity_type, entity_id)
        model, arm = self.route(entity_type, horizon, variant, entity_id)
        x = self._snap.matrices.get((model.name, model.version))
        if x is None:
            raise ModelUnavailable(f"{model.name} v{model.version}: no {model.feature_horizon} features in this build")
        row = x[i].astype("float64")
        for j, v in self.check_overrides(model, overrides or {}):
            row[j] = float(np.float32(v))
        values = {
            f: (None if math.isnan(v) else float(v)) for f, v in zip(model.feature_order, row.tolist(), strict=True)
        }
        if model.k_col is not None:
            values.pop(model.feature_order[model.k_col], None)
        return model, arm, rows.years[group][i], values

    def warm(self) -> dict[str, Any]:
        """Compute every entity's prediction at every served horizon into the cache (its own arm).

        Features are fixed per build, so the first request for an entity need not pay the model: with
        a warm cache only what-ifs and expired entries miss. Returns counts and seconds.
        """
        t0 = time.perf_counter()
        snap = self._snap
        done = failed = 0
        if snap.rows is None:
            return {"predictions": 0, "failed": 0, "seconds": 0.0}
        for (group, horizon), _name in sorted(snap.routes.items()):
            for entity_type, entity_id in snap.rows.index.get(group, {}):
                if self._snap is not snap:  # reloaded meanwhile: the new snapshot has new keys
                    break
                try:
                    self.predict(entity_type, entity_id, horizon, record=False)
                    done += 1
                except (UnknownEntity, ModelUnavailable, InvalidOverride):
                    failed += 1
        out = {"predictions": done, "failed": failed, "seconds": round(time.perf_counter() - t0, 2)}
        log.info("serving: cache warmed with %d predictions in %.1f s", done, out["seconds"])
        return out

    # -- promotion ---------------------------------------------------------------------------

    def promote(self, name: str, version: str) -> dict[str, Any]:
        """Make ``version`` the champion (the registry refuses a bad ONNX file) and swap sessions in.

        Raises :class:`fvi.ml.model_registry.ModelRegistryError` when refused; the old version keeps
        serving then, and also if the new one fails to load here.
        """
        reg = ModelRegistry(self.models_dir)
        resolved = reg.resolve(name, version)
        out = reg.promote(name, resolved, world=self._world()[0])
        snap = self.load()
        serving = snap.models.get(name, {}).get(CHAMPION)
        out["serving"] = serving.version if serving else None
        out["load_error"] = snap.load_errors.get(f"{name}@{CHAMPION}")
        return out

    # -- views -------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What this worker serves: model versions per alias, routes, load errors, feature rows and cache stats."""
        snap = self._snap
        rows = snap.rows
        return {
            "models": {n: {a: m.version for a, m in arms.items()} for n, arms in sorted(snap.models.items())},
            "routes": {f"{g}/{h}": n for (g, h), n in sorted(snap.routes.items())},
            "load_errors": dict(snap.load_errors),
            "rows": None
            if rows is None
            else {
                "build": rows.build,
                "source": rows.source,
                "seconds": round(rows.seconds, 3),
                "entities": {t: rows.count(t) for t in ("mine", "us_mine", "country")},
                "intervals": len(rows.intervals),
            },
            "rows_error": snap.rows_error,
            "load_seconds": dict(self.started_seconds),
            "cache": self.cache.stats().as_dict(),
        }


def _covers(rows: FeatureRows, needs: Mapping[str, set[str]]) -> bool:
    return all((g, h) in rows.frames for g, hs in needs.items() for h in hs)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def _reason(exc: BaseException) -> str:
    from fvi.warehouse import WarehouseUnavailable

    if isinstance(exc, WarehouseUnavailable):
        msg = str(exc)
        if msg.startswith("PostgreSQL at"):
            msg = "PostgreSQL unreachable"
        return f"warehouse unavailable: {msg}"
    return f"feature rows could not be built ({type(exc).__name__}: {_short(exc)})"
