"""LightGBM -> ONNX, so the service scores with ONNX Runtime and never needs the training stack.

Each exported version lives in ``<models_dir>/<name>/<version>/``: ``model.onnx`` (input
``input``: float32 [n, F] in ``feature_order``; outputs ``label`` and ``probabilities`` [n, 2],
no ZipMap), ``model.txt`` (the native LightGBM model, for SHAP explanations) and ``meta.json``
(feature order, version, calibration, CV metrics and the ONNX file's sha256, which
:func:`fvi.ml.model_registry.promote` checks before a version may serve).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

INPUT_NAME = "input"
PROB_OUTPUT = "probabilities"
PARITY_TOLERANCE = 1e-5
"""Largest |ONNX - native| probability accepted on real rows (float32 trees vs double)."""


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of the file at ``path``, read in 1 MiB chunks (the exported ONNX file's checksum)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _floor_float32(values: np.ndarray) -> np.ndarray:
    """The largest float32 <= each double (as double)."""
    f = values.astype(np.float32)
    f = np.where(f.astype(np.float64) > values, np.nextafter(f, np.float32(-np.inf)), f)
    return f.astype(np.float64)


def float32_exact_model(model_str: str) -> str:
    """LightGBM model text with every numerical threshold t replaced by the largest float32 <= t.

    For a float32 input x, ``x <= t`` holds exactly when ``x <= floor32(t)``, so the rewritten model
    makes the same decisions as the original on float32 inputs, and an ONNX graph (float32
    thresholds) makes the same decisions as both. Without it, a threshold halfway between two
    adjacent float32 values (99.9999924 and 100.0 occur in real scores) rounds up to 100.0 in the
    graph and sends 100.0 down the other branch.
    """
    lines = model_str.split("\n")
    for i, line in enumerate(lines):
        if not line.startswith("threshold="):
            continue
        decision = next((ln for ln in lines[i + 1 : i + 4] if ln.startswith("decision_type=")), None)
        values = np.array([float(v) for v in line.removeprefix("threshold=").split()], dtype=np.float64)
        categorical = (
            np.array([int(v) & 1 for v in decision.removeprefix("decision_type=").split()], dtype=bool)
            if decision is not None
            else np.zeros(len(values), dtype=bool)
        )
        new = np.where(categorical, values, _floor_float32(values))
        lines[i] = "threshold=" + " ".join(repr(float(v)) for v in new)
    # tree_sizes gives each tree's byte length for parallel parsing; the edit changes them, and
    # LightGBM parses tree by tree when the line is absent
    return "\n".join(ln for ln in lines if not ln.startswith("tree_sizes="))


def float32_exact(booster: Any) -> Any:
    """A copy of ``booster`` whose thresholds are float32-exact (see :func:`float32_exact_model`)."""
    import lightgbm as lgb

    return lgb.Booster(model_str=float32_exact_model(booster.model_to_string()))


def to_onnx(booster: Any, n_features: int) -> Any:
    """The ONNX graph of a binary LightGBM booster (probabilities as a plain [n, 2] tensor)."""
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    return convert_lightgbm(booster, initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))], zipmap=False)


def session(path: Path | bytes) -> Any:
    """An ONNX Runtime session tuned for single-row latency (one thread, sequential, quiet)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # the converter declares a fixed label shape; ORT warns on every batch
    source = str(path) if isinstance(path, Path) else path
    return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])


def as_input(features: Any) -> np.ndarray:
    """Float32 C-contiguous [n, F] (what the graph takes; NaN means missing)."""
    return np.ascontiguousarray(np.asarray(features, dtype=np.float32))


def predict_onnx(sess: Any, features: Any) -> np.ndarray:
    """P(class 1) per row from an exported session (uncalibrated)."""
    out = sess.run([PROB_OUTPUT], {INPUT_NAME: as_input(features)})[0]
    return np.asarray(out[:, 1], dtype="float64")


def predict_native(booster: Any, features: Any) -> np.ndarray:
    """P(class 1) from the LightGBM booster on the same float32 values the ONNX graph sees."""
    return np.asarray(booster.predict(as_input(features).astype("float64")), dtype="float64")


def parity(booster: Any, sess: Any, features: Any) -> float:
    """Largest |ONNX - native| probability over the rows."""
    if len(features) == 0:
        return 0.0
    return float(np.max(np.abs(predict_onnx(sess, features) - predict_native(booster, features))))


def export_model(booster: Any, out_dir: Path, meta: dict[str, Any], *, check_rows: Any | None = None) -> Path:
    """Write model.onnx, model.txt and meta.json into ``out_dir``; return the ONNX path.

    ``meta`` must hold ``feature_order``. With ``check_rows`` the export is refused when ONNX and
    native probabilities differ by more than :data:`PARITY_TOLERANCE` on them.
    """
    order = list(meta["feature_order"])
    if booster.num_feature() != len(order):
        raise ValueError(f"booster has {booster.num_feature()} features, feature_order has {len(order)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    model = to_onnx(booster, len(order))
    onnx_path = out_dir / "model.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    booster.save_model(str(out_dir / "model.txt"))
    gap = None
    if check_rows is not None:
        gap = parity(booster, session(onnx_path), check_rows)
        if gap > PARITY_TOLERANCE:
            raise ValueError(f"ONNX export differs from LightGBM by {gap:.2e} (> {PARITY_TOLERANCE:g})")
    full = {
        **meta,
        "onnx_file": onnx_path.name,
        "onnx_sha256": sha256_file(onnx_path),
        "native_file": "model.txt",
        "input_name": INPUT_NAME,
        "output_name": PROB_OUTPUT,
        "parity_max_abs": gap,
    }
    (out_dir / "meta.json").write_text(json.dumps(full, indent=1, default=_json_default), encoding="utf-8")
    return onnx_path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
