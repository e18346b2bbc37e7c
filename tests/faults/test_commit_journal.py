"""The staged commit is journaled: a kill inside it is finished by the next writer, one before it leaves nothing.

(Issue 16, item 3; the files layer of :mod:`fvi.staged`, without training.)
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from fvi import staged


def _db(path: Path, value: str) -> None:
    with sqlite3.connect(path) as con:
        con.execute("create table if not exists t (v text)")
        con.execute("delete from t")
        con.execute("insert into t values (?)", [value])


def _db_value(path: Path) -> str:
    with sqlite3.connect(path) as con:
        return str(con.execute("select v from t").fetchone()[0])


def _run(home: Path, run_id: str, value: str) -> list[dict[str, str]]:
    """Stage models (registry says ``value``) and MLflow for ``run_id``; return the commit steps."""
    gen = staged.stage_dir(home, "models", run_id, seed=True)
    (gen / "registry.json").write_text(json.dumps({"v": value}))
    db = staged.stage_mlflow(home, run_id)
    _db(db, value)
    return [{"kind": "link", "name": "models", "target": str(gen)},
            {"kind": "replace", "src": str(db), "dst": str(home / staged.MLFLOW_DB)}]


def _live(home: Path) -> tuple[str, str]:
    return json.loads((home / "models" / "registry.json").read_text())["v"], _db_value(home / staged.MLFLOW_DB)


def test_kill_inside_the_commit_is_finished_and_before_it_is_forgotten(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "models" / "m" / "1").mkdir(parents=True)  # a home from before the layout: a plain folder
    (home / "models" / "m" / "1" / "model.onnx").write_bytes(b"onnx")
    staged.commit(home, _run(home, "r1", "one"))
    assert (home / "models").is_symlink() and _live(home) == ("one", "one")
    assert (home / "models" / "m" / "1" / "model.onnx").read_bytes() == b"onnx"  # the adopted versions stay

    # killed after the journal was written, before any swap: the next writer finishes the commit
    steps = _run(home, "r2", "two")
    staged._write_journal(home, steps)
    assert _live(home) == ("one", "one")
    done = staged.recover(home)
    assert _live(home) == ("two", "two") and any("interrupted commit" in d for d in done)
    assert not (home / staged.JOURNAL).exists()
    assert [g.name for g in (home / staged.GEN / "models").iterdir()] == ["r2"]  # r1 and legacy collected

    # killed half-way through the commit (link done, MLflow not): the same redo completes it
    steps = _run(home, "r3", "three")
    staged._write_journal(home, steps)
    staged._apply(home, steps[0])
    assert _live(home) == ("three", "two")
    staged.recover(home)
    assert _live(home) == ("three", "three")

    # killed before the journal: nothing live changed, and the staged copies are removed
    _run(home, "r4", "four")
    assert _live(home) == ("three", "three")
    staged.recover(home)
    assert _live(home) == ("three", "three")
    assert [g.name for g in (home / staged.GEN / "models").iterdir()] == ["r3"]
    assert not list((home / "mlflow").glob("mlflow.*.building.db*"))
