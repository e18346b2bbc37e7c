"""Model versions, MLflow runs and aliases follow the warehouse: nothing of an unfinished run is live.

(Issue 16, item 3.)

Before: a run killed after training had already moved the champions in ``models/registry.json``
(and MLflow's aliases) while the warehouse was unchanged, so ``/v1/predict`` answered with the
new version and profiles with the old one; an empty version folder was left behind.

The run here is the pipeline's own training step (``fvi.pipeline.ml_steps`` with the real
``step_train``: LightGBM, ONNX export, the JSON registry and a SQLite MLflow store) on a small
generated gold layer, in a subprocess that is SIGKILLed after training and before the swap, or
that fails there; then the same run is repeated to completion.
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fvi.ml.model_registry import CHAMPION, ModelRegistry, load_bundle
from tests.faults.helpers import fvi_env
from tests.unit.ml.ml_world import build_world

pytestmark = pytest.mark.integration

# A run as the pipeline makes it: staging warehouse, the ML steps, then the swap (or the discard).
RUN = """
import functools, sys
from fvi import pipeline
from fvi.ml import train
from fvi.lock import writer_lock_for
from fvi.pipeline import ml_steps, new_run_id, step_train
from fvi.settings import get_settings
from fvi.warehouse import Staging, copy_file

def after_training(ctx):
    print("trained", flush=True)
    if sys.argv[1] == "kill":
        sys.stdin.readline()  # the test kills us here
    if sys.argv[1] == "fail":
        raise RuntimeError("injected: the step after training failed")
    return {"seconds": 0.0}

# bounded: fewer boosting rounds and no SHAP plot (the staging, not the model, is under test)
train.train_all = functools.partial(train.train_all, num_rounds=20, explain=False)
pipeline.ML_STEPS = {"train": step_train, "next": after_training}
settings = get_settings()
with writer_lock_for(settings, "run"):
    run_id = new_run_id()
    staging = Staging(settings, run_id)
    copy_file(settings.duckdb_path, staging.path)
    wh = staging.open()
    try:
        ml_steps(settings, wh, run_id, staging=staging, say=lambda _m: None)
        wh.close()
        staging.commit()
    except BaseException:
        wh.close()
        staging.discard()
        raise
print("committed", run_id, flush=True)
"""

def _tree(root: Path) -> dict[str, str]:
    """Every file under the live models folder (through its link) with its sha256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "registry.json.lock"
    } | {str(p.relative_to(root)) + "/": "" for p in sorted(root.rglob("*")) if p.is_dir()}

def _aliases(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as con:
        return sorted(con.execute("select name, alias, version from registered_model_aliases").fetchall())

def _state(home: Path) -> dict[str, object]:
    models = home / "models"
    return {
        "registry": (models / "registry.json").read_bytes(),
        "tree": _tree(models),
        "mlflow_aliases": _aliases(home / "mlflow" / "mlflow.db"),
        "mlflow_db": hashlib.sha256((home / "mlflow" / "mlflow.db").read_bytes()).hexdigest(),
        "warehouse": hashlib.sha256((home / "warehouse" / "fvi.duckdb").read_bytes()).hexdigest(),
    }

def _start(home: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RUN, mode], env=fvi_env(home), text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )

def _finish(home: Path) -> str:
    proc = _start(home, "commit")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-1500:]
    return out

def _serving_versions(home: Path) -> dict[str, str]:
    reg = ModelRegistry(home / "models")
    return {name: load_bundle(home / "models", name, CHAMPION).version for name in reg.names()}

@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose warehouse is the generated world, after one good run (version 1 of every model)."""
    home = tmp_path_factory.mktemp("staged") / "home"
    (home / "warehouse").mkdir(parents=True)
    build_world(home / "warehouse" / "fvi.duckdb")
    _finish(home)
    return home

def _assert_unchanged(home: Path, before: dict[str, object], versions: dict[str, str]) -> None:
    after = _state(home)
    for key, value in before.items():
        assert after[key] == value, f"{key} changed by a run that did not finish"
    assert _serving_versions(home) == versions  # what the API loads: the previous champions

def test_first_good_run_is_linked_generations(home: Path) -> None:
    assert (home / "models").is_symlink() and (home / "models" / "registry.json").is_file()
    versions = _serving_versions(home)
    assert len(versions) >= 4 and set(versions.values()) == {"1"}
    assert {a for _n, a, _v in _aliases(home / "mlflow" / "mlflow.db")} == {CHAMPION}
    assert not (home / "commit.json").exists()

def test_kill_9_after_training_leaves_models_and_mlflow_byte_identical(home: Path) -> None:
    before, versions = _state(home), _serving_versions(home)
    proc = _start(home, "kill")
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "trained", proc.stderr.read()[-1500:] if proc.stderr else line
    written = [ModelRegistry(r.parent).list_versions() for r in home.rglob("registry.json")]
    assert max(len(v) for v in written) > len(versions)  # it trained and registered new versions somewhere
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    _assert_unchanged(home, before, versions)

def test_a_failure_after_training_rolls_back(home: Path) -> None:
    before, versions = _state(home), _serving_versions(home)
    proc = _start(home, "fail")
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "injected" in err
    _assert_unchanged(home, before, versions)
    assert [g.resolve() for g in (home / ".gen" / "models").iterdir()] == [(home / "models").resolve()]
    assert not list((home / "mlflow").glob("mlflow.*.building.db*"))

def test_rerun_after_the_kill_succeeds_and_leaves_no_staging(home: Path) -> None:
    before = _serving_versions(home)
    out = _finish(home)
    assert "committed" in out
    reg = ModelRegistry(home / "models")
    for name in before:
        latest = max(int(r["version"]) for r in reg.list_versions(name))
        assert latest == 2, name  # the killed and the failed run's versions never became live
        for r in reg.list_versions(name):
            assert (Path(r["onnx_path"])).is_file() and r["onnx_path"].startswith(str(home / "models"))
    mlflow_versions = {(n, a): v for n, a, v in _aliases(home / "mlflow" / "mlflow.db")}
    for name in before:
        assert str(mlflow_versions.get((name, CHAMPION), "")) == reg.aliases(name)[CHAMPION] or \
            reg.aliases(name).get("challenger") == "2"
    gens = list((home / ".gen" / "models").iterdir())
    assert gens == [(home / "models").resolve()]  # one generation: no empty or dead version folder
    for name in before:
        assert sorted(p.name for p in (home / "models" / name).iterdir()) == ["1", "2"]
    assert not list((home / "mlflow").glob("mlflow.*.building.db*")) and not (home / "commit.json").exists()
