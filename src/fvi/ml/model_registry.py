"""What a model version is, where it lives, and which version serves: a small JSON view of the registry.

MLflow's model registry is the system of record while training; the service must not need MLflow,
so every version is also exported to ``<models_dir>/<name>/<version>/`` (see
:mod:`fvi.ml.onnx_export`) and listed in ``<models_dir>/registry.json`` with its CV metrics, aliases,
ONNX path and feature order. Version numbers are MLflow's.

Alias rule (one rule, used by training and tested): a new version becomes ``champion`` when the
model has no champion yet, when the champion was trained on another data world (synthetic vs
real, or other source releases: :mod:`fvi.provenance`; CV AUCs on different label sets are not
comparable), or when its CV AUC is at least the champion's; otherwise it becomes ``challenger``
(replacing the previous challenger). A NaN AUC never beats an existing champion of its world.
:func:`promote` moves ``champion`` by hand and refuses a version whose ONNX file is missing, does
not match its recorded checksum, or does not load.

Calibration maps raw model probabilities to calibrated ones; it is stored as plain numbers in
``meta.json`` so the service applies exactly what training chose.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fvi.ml.onnx_export import predict_onnx, session, sha256_file
from fvi.ml.tracking import CHALLENGER, CHAMPION, mlflow_client
from fvi.provenance import UNKNOWN, DataWorld, same_world

REGISTRY_FILE = "registry.json"
CalibrationMethod = Literal["isotonic", "sigmoid", "none"]
_EPS = 1e-6
_PATH_KEYS = ("onnx_path", "meta_path")


class ModelRegistryError(ValueError):
    """A registry operation is refused (unknown version, missing or corrupt ONNX file)."""


# ---------------------------------------------------------------------------------------------
# Calibration


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype="float64"), _EPS, 1 - _EPS)
    return np.log(q / (1 - q))


@dataclass
class Calibration:
    """A monotone map from raw to calibrated probability (isotonic, Platt sigmoid, or identity)."""

    method: CalibrationMethod = "none"
    params: dict[str, Any] = field(default_factory=dict)
    brier: dict[str, float] = field(default_factory=dict)
    """Brier score of each candidate on the held-back fold (what the choice was made on)."""

    def apply(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for raw ones ``p`` (same shape); isotonic interpolates between its knots."""
        p = np.asarray(p, dtype="float64")
        if self.method == "none":
            return p
        if self.method == "sigmoid":
            z = self.params["a"] * _logit(p) + self.params["b"]
            return 1.0 / (1.0 + np.exp(-z))
        if self.method == "isotonic":
            x = np.asarray(self.params["x"], dtype="float64")
            y = np.asarray(self.params["y"], dtype="float64")
            return np.interp(p, x, y)
        raise ValueError(f"unknown calibration method {self.method!r}")

    def to_json(self) -> dict[str, Any]:
        """The calibration as plain numbers for ``meta.json`` (method, parameters, holdout Brier scores)."""
        return {"method": self.method, "params": self.params, "brier": self.brier}

    @classmethod
    def from_json(cls, doc: dict[str, Any] | None) -> Calibration:
        """The calibration stored by :meth:`to_json`; the identity when ``doc`` is empty or None."""
        if not doc:
            return cls()
        return cls(doc["method"], dict(doc.get("params", {})), dict(doc.get("brier", {})))


def _fit_one(method: str, p: np.ndarray, y: np.ndarray) -> Calibration:
    if method == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(_logit(p).reshape(-1, 1), y)
        return Calibration("sigmoid", {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])})
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        iso.fit(p, y)
        return Calibration(
            "isotonic", {"x": iso.X_thresholds_.astype(float).tolist(), "y": iso.y_thresholds_.astype(float).tolist()}
        )
    return Calibration("none")


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Brier score: the mean squared difference between probabilities ``p`` and 0/1 outcomes ``y``."""
    return float(np.mean((np.asarray(p, dtype="float64") - np.asarray(y, dtype="float64")) ** 2))


def fit_calibration(p: np.ndarray, y: np.ndarray, holdout: np.ndarray) -> Calibration:
    """Choose isotonic or sigmoid by Brier on the ``holdout`` rows (fit on the others), refit on all.

    ``p`` are out-of-fold probabilities, ``holdout`` a boolean mask (the latest fold). When neither
    map beats the raw probabilities on the holdout (ties go to raw), the identity is kept: a
    calibration that makes held-out Brier worse is not one. With too little to choose on (no
    holdout, or one class before it) the sigmoid is used; with one class overall, the identity.
    """
    p, y, holdout = np.asarray(p, dtype="float64"), np.asarray(y, dtype="int64"), np.asarray(holdout, dtype=bool)
    ok = ~np.isnan(p)
    p, y, holdout = p[ok], y[ok], holdout[ok]
    if len(np.unique(y)) < 2:
        return Calibration("none")
    scores: dict[str, float] = {"none": brier(p[holdout], y[holdout])} if holdout.any() else {}
    fit_rows = ~holdout
    chosen: str = "sigmoid"
    if holdout.any() and len(np.unique(y[fit_rows])) == 2:
        for method in ("isotonic", "sigmoid"):
            scores[method] = brier(_fit_one(method, p[fit_rows], y[fit_rows]).apply(p[holdout]), y[holdout])
        chosen = min(("isotonic", "sigmoid", "none"), key=lambda m: (scores[m], m != "none"))
    cal = _fit_one(chosen, p, y)
    cal.brier = {k: round(v, 6) for k, v in scores.items()}
    return cal


# ---------------------------------------------------------------------------------------------
# Alias rule


def choose_alias(
    new_auc: float | None, champion_auc: float | None, *, has_champion: bool, same_world: bool = True
) -> str:
    """``champion`` if there is none yet, it is from another world, or the new CV AUC >= its; else ``challenger``."""
    if not has_champion or not same_world:
        return CHAMPION
    new = -math.inf if new_auc is None or math.isnan(new_auc) else float(new_auc)
    old = -math.inf if champion_auc is None or math.isnan(champion_auc) else float(champion_auc)
    if new == -math.inf:
        return CHALLENGER
    return CHAMPION if new >= old else CHALLENGER


# ---------------------------------------------------------------------------------------------
# JSON registry


def version_dir(models_dir: Path, name: str, version: str | int) -> Path:
    """Where version ``version`` of model ``name`` is exported: ``<models_dir>/<name>/<version>``."""
    return Path(models_dir) / name / str(version)


class ModelRegistry:
    """``registry.json`` under ``models_dir``: versions, metrics, aliases and promotion history."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir)
        self.path = self.models_dir / REGISTRY_FILE

    # -- storage
    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"models": {}}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def _save(self, doc: dict[str, Any]) -> None:
        """Atomic replace, so a reader never sees half a file."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".registry.", dir=self.models_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1, default=str)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _edit(self) -> Iterator[dict[str, Any]]:
        from filelock import FileLock

        self.models_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            doc = self._load()
            yield doc
            self._save(doc)

    # -- reads
    def names(self) -> list[str]:
        """The registered model names, sorted."""
        return sorted(self._load()["models"])

    def aliases(self, name: str) -> dict[str, str]:
        """Alias to version number for model ``name`` (empty for an unknown model)."""
        return dict(self._load()["models"].get(name, {}).get("aliases", {}))

    def version(self, name: str, version: str | int) -> dict[str, Any]:
        """The entry of one version with absolute paths; ModelRegistryError if it is not registered."""
        model = self._load()["models"].get(name, {})
        info = model.get("versions", {}).get(str(version))
        if info is None:
            raise ModelRegistryError(f"{name} has no version {version}")
        return self._absolute(info)

    def _relative(self, info: dict[str, Any]) -> dict[str, Any]:
        """Paths inside ``models_dir`` stored relative to it: a run writes its versions aside and swaps them in."""
        out = dict(info)
        root = self.models_dir.resolve()
        for key in _PATH_KEYS:
            if out.get(key):
                with contextlib.suppress(ValueError):
                    out[key] = Path(out[key]).resolve().relative_to(root).as_posix()
        return out

    def _absolute(self, info: dict[str, Any]) -> dict[str, Any]:
        out = dict(info)
        for key in _PATH_KEYS:
            if out.get(key) and not Path(out[key]).is_absolute():
                out[key] = str(self.models_dir / out[key])
        return out

    def resolve(self, name: str, ref: str | int = CHAMPION) -> str:
        """A version number from an alias (``champion``/``challenger``) or a version."""
        aliases = self.aliases(name)
        if str(ref) in aliases:
            return aliases[str(ref)]
        self.version(name, ref)
        return str(ref)

    def list_versions(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every version (of one model or all) with metrics, aliases, ONNX path and feature order."""
        doc = self._load()["models"]
        rows = []
        for model in sorted(doc) if name is None else [name]:
            entry = doc.get(model, {})
            by_version: dict[str, list[str]] = {}
            for alias, v in entry.get("aliases", {}).items():
                by_version.setdefault(v, []).append(alias)
            for v, info in sorted(entry.get("versions", {}).items(), key=lambda kv: int(kv[0])):
                rows.append({"name": model, "version": v, "aliases": sorted(by_version.get(v, [])),
                             **self._absolute(info)})
        return rows

    # -- writes
    def record(self, name: str, version: str | int, info: dict[str, Any]) -> None:
        """Add or replace one version's entry (metrics, onnx_path, feature_order, ...)."""
        with self._edit() as doc:
            entry = doc["models"].setdefault(name, {"versions": {}, "aliases": {}, "history": []})
            entry["versions"][str(version)] = self._relative(info)

    def set_alias(self, name: str, alias: str, version: str | int, *, reason: str = "") -> None:
        """Point ``alias`` at ``version`` and append the move, with ``reason``, to the model's history.

        Any other alias the version held is removed, so a version is never both champion and challenger.
        """
        with self._edit() as doc:
            entry = doc["models"].get(name)
            if entry is None or str(version) not in entry["versions"]:
                raise ModelRegistryError(f"{name} has no version {version}")
            aliases = entry["aliases"]
            for other in [a for a, v in aliases.items() if v == str(version) and a != alias]:
                del aliases[other]
            aliases[alias] = str(version)
            entry.setdefault("history", []).append(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "alias": alias,
                    "version": str(version),
                    "reason": reason,
                }
            )

    def verify_onnx(self, name: str, version: str | int) -> Path:
        """The version's ONNX path, after checking it exists, matches its checksum and loads."""
        info = self.version(name, version)
        path = Path(info.get("onnx_path") or version_dir(self.models_dir, name, version) / "model.onnx")
        if not path.is_file():
            raise ModelRegistryError(f"{name} v{version}: ONNX file missing at {path}")
        expected = info.get("onnx_sha256")
        if expected and sha256_file(path) != expected:
            raise ModelRegistryError(f"{name} v{version}: ONNX file {path} does not match its recorded sha256")
        try:
            import onnx

            onnx.checker.check_model(onnx.load(str(path)))
            sess = session(path)
        except Exception as exc:
            raise ModelRegistryError(f"{name} v{version}: ONNX file {path} does not load: {exc}") from exc
        n_in = sess.get_inputs()[0].shape[1]
        order = info.get("feature_order") or []
        if isinstance(n_in, int) and order and n_in != len(order):
            raise ModelRegistryError(f"{name} v{version}: ONNX takes {n_in} features, feature order has {len(order)}")
        return path

    def world_mismatch(self, name: str, version: str | int, world: DataWorld | None) -> str | None:
        """Why ``version`` must not serve (or be promoted for) a warehouse of ``world``; None when it may.

        An unknown warehouse world (no ingest manifest) accepts any version.
        """
        if world is None or world.kind == UNKNOWN:
            return None
        trained = DataWorld.from_json(self.version(name, version).get("data_world"))
        if same_world(trained, world):
            return None
        was = trained.label if trained else "data of no recorded world"
        return f"{name} v{version} was trained on {was}; the warehouse holds {world.label}"

    def promote(
        self,
        name: str,
        version: str | int,
        *,
        tracking_uri: str | None = None,
        world: DataWorld | None = None,
    ) -> dict[str, Any]:
        """Make ``version`` the champion after :meth:`verify_onnx`; mirror the alias to MLflow if asked.

        Refused when the version was trained on another data world than ``world`` (the live build's).
        """
        why = self.world_mismatch(name, version, world)
        if why:
            raise ModelRegistryError(f"not promoted: {why}")
        self.verify_onnx(name, version)
        self.set_alias(name, CHAMPION, version, reason="promote")
        if tracking_uri:
            mlflow_client(tracking_uri).set_registered_model_alias(name, CHAMPION, str(version))
        return {"name": name, "version": str(version), "aliases": self.aliases(name)}


def promote(
    models_dir: Path,
    name: str,
    version: str | int,
    *,
    tracking_uri: str | None = None,
    world: DataWorld | None = None,
) -> dict[str, Any]:
    """Module-level :meth:`ModelRegistry.promote` (what the CLI calls)."""
    return ModelRegistry(models_dir).promote(name, version, tracking_uri=tracking_uri, world=world)


# ---------------------------------------------------------------------------------------------
# Loading a version for serving


@dataclass
class ModelBundle:
    """One exported version: ONNX session, feature order, calibration, metadata (booster on demand)."""

    name: str
    version: str
    meta: dict[str, Any]
    path: Path
    calibration: Calibration
    _session: Any = None
    _booster: Any = None

    @property
    def feature_order(self) -> list[str]:
        """Feature names in the order the ONNX model's input columns expect."""
        return list(self.meta["feature_order"])

    @property
    def kind(self) -> str:
        """``classifier`` (one horizon) or ``hazard`` (a yearly hazard turned into S(horizon))."""
        return str(self.meta["kind"])

    @property
    def session(self) -> Any:
        """The ONNX Runtime session for the exported model; opened on first use."""
        if self._session is None:
            self._session = session(self.path / self.meta.get("onnx_file", "model.onnx"))
        return self._session

    @property
    def booster(self) -> Any:
        """The native LightGBM model (for SHAP); loaded once."""
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_file=str(self.path / self.meta.get("native_file", "model.txt")))
        return self._booster

    def matrix(self, features: pd.DataFrame | dict[str, Any]) -> np.ndarray:
        """The model's float32 input matrix: ``features`` reordered to the feature order, absent ones NaN."""
        frame = pd.DataFrame([features]) if isinstance(features, dict) else features
        return frame.reindex(columns=self.feature_order).to_numpy(dtype="float32", na_value=np.nan)

    def predict_raw(self, features: pd.DataFrame | dict[str, Any]) -> np.ndarray:
        """Uncalibrated P(class 1) per row (a hazard model's yearly hazard at the row's k)."""
        return predict_onnx(self.session, self.matrix(features))

    def predict(
        self, features: pd.DataFrame | dict[str, Any], horizon: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated, raw) probability: the classifier's, or a hazard model's S(``horizon``)."""
        if self.kind != "hazard":
            raw = self.predict_raw(features)
            return self.calibration.apply(raw), raw
        from fvi.ml.hazard import survival_at

        if horizon is None:
            raise ValueError("a hazard model needs the horizon in years")
        frame = pd.DataFrame([features]) if isinstance(features, dict) else features
        k_max = int(self.meta["k_max"])
        raw = survival_at(self.predict_raw, frame, [horizon], k_max)[horizon]
        cal = survival_at(lambda f: self.calibration.apply(self.predict_raw(f)), frame, [horizon], k_max)[horizon]
        return cal, raw


def load_bundle(models_dir: Path, name: str, ref: str | int = CHAMPION) -> ModelBundle:
    """The exported version ``ref`` (an alias or a version number) of model ``name``."""
    reg = ModelRegistry(models_dir)
    version = reg.resolve(name, ref)
    path = reg.verify_onnx(name, version).parent
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    return ModelBundle(name, version, meta, path, Calibration.from_json(meta.get("calibration")))
