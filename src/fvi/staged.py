"""Files a run writes beside the warehouse (model versions, the MLflow store, the Feast repository), staged like it.

A run killed after training used to move the champions in ``models/registry.json`` while the
warehouse stayed as it was, and left an empty version folder behind. Now:

- ``FVI_HOME/models`` and ``FVI_HOME/feast`` are symbolic links to a *generation* folder
  ``FVI_HOME/.gen/<name>/<run_id>``. A run writes a new generation aside (models: seeded with hard
  links to the live version files and copies of its metadata, so earlier versions stay; feast:
  empty, it is rebuilt whole) and the commit points the link at it (``os.replace`` of a new link:
  atomic). Readers follow the link and never see half a generation. A folder from before this
  layout is adopted as generation ``legacy``.
- The MLflow SQLite store (``FVI_HOME/mlflow/mlflow.db``) is copied aside (SQLite backup) and the
  copy replaces it at commit, so no run, version or alias of an unfinished run is ever live.
  Artifacts go to ``mlflow/artifacts`` under a new run id each time; a dead run's are unreferenced.
  An MLflow tracking *server* (``FVI_MLFLOW_TRACKING_URI``) cannot be staged: it is written in place.
- The run's own folder (``FVI_HOME/runs/<run_id>``: audit, scoring and uncertainty parameters,
  Bayesian and back-test outputs) is written as ``runs/.<run_id>.building`` and renamed at commit
  (or at failure, beside the failed run's report); a killed run's is removed by the next writer.
- The chat's document store (``FVI_HOME/rag/docs.duckdb``: documents, chunks, embeddings, fact
  sheets) is copied aside when a run ingests documents, written there (fact sheets from the run's
  staging warehouse) and replaces the live store at commit, with the warehouse.
- The commit writes a journal (``FVI_HOME/commit.json``) before the first swap and removes it after
  the last; the next writer finishes a commit that a kill interrupted (every step is idempotent),
  so the warehouse, the models, MLflow and the feature store never disagree. Anything staged
  that no journal names is a dead run's and is removed by the next writer (:func:`recover`).

Every function here runs under the writer lock (:mod:`fvi.lock`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

GEN = ".gen"
JOURNAL = "commit.json"
LINKED = ("models", "feast")
SEEDED = ".fvi-staged"  # written once a generation is complete (a half-seeded one is redone)
MLFLOW_DB = Path("mlflow") / "mlflow.db"
DOCS_DB = Path("rag") / "docs.duckdb"
SKIP_SEED = {"registry.json.lock", SEEDED}


def gen_root(home: Path, name: str) -> Path:
    return home / GEN / name


def _tmp_link(home: Path, name: str) -> Path:
    return home / f".{name}.link.tmp"


def _point(home: Path, name: str, target: Path) -> None:
    """Make ``home/name`` a link to ``target`` in one rename (relative, so FVI_HOME can move)."""
    tmp = _tmp_link(home, name)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target, home))
    os.replace(tmp, home / name)


def live_dir(home: Path, name: str) -> Path | None:
    """The generation ``home/name`` points at (or the plain folder of an older layout); None when absent."""
    path = home / name
    if path.is_symlink():
        return path.resolve() if path.exists() else None
    return path if path.is_dir() else None


def adopt_legacy(home: Path, name: str) -> None:
    """Turn a plain ``home/name`` folder into generation ``legacy`` behind a link (once per home)."""
    path = home / name
    if path.is_symlink() or not path.is_dir():
        return
    target = gen_root(home, name) / "legacy"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_link(home, name)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target, home))  # a kill after the rename: recover() uses this link
    os.rename(path, target)
    os.replace(tmp, path)


COPIED = (".json", ".yaml", ".yml", ".db", ".sqlite", ".sqlite3")  # small or written in place: real copies


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link the large immutable files (ONNX, native models); copy metadata a writer may edit in place."""
    if src.endswith(COPIED):
        shutil.copy2(src, dst)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def stage_dir(home: Path, name: str, run_id: str, *, seed: bool) -> Path:
    """The run's generation of ``name``: reused when complete, else made (seeded from the live one)."""
    target = gen_root(home, name) / run_id
    if (target / SEEDED).exists():
        return target
    adopt_legacy(home, name)
    shutil.rmtree(target, ignore_errors=True)
    current = live_dir(home, name)
    if seed and current is not None:
        # hard links for version files (never rewritten); registry.json and other metadata copied
        shutil.copytree(current, target, symlinks=True, copy_function=_link_or_copy,
                        ignore=lambda _d, names: [n for n in names if n in SKIP_SEED])
    else:
        target.mkdir(parents=True)
    (target / SEEDED).write_text(run_id)
    return target


def staged_sqlite(home: Path, run_id: str) -> Path:
    return (home / MLFLOW_DB).with_name(f"mlflow.{run_id}.building.db")


def stage_mlflow(home: Path, run_id: str) -> Path:
    """A copy of the live MLflow SQLite store for this run (SQLite's backup: consistent even if in use)."""
    staged = staged_sqlite(home, run_id)
    if staged.exists():
        return staged
    live = home / MLFLOW_DB
    live.parent.mkdir(parents=True, exist_ok=True)
    part = staged.with_name(staged.name + ".part")
    part.unlink(missing_ok=True)
    if live.exists():
        with contextlib.closing(sqlite3.connect(live)) as src, contextlib.closing(sqlite3.connect(part)) as dst:
            src.backup(dst)
    else:
        part.touch()  # MLflow creates its schema in the staged file
    os.replace(part, staged)
    return staged


def staged_run_dir(home: Path, run_id: str) -> Path:
    return home / "runs" / f".{run_id}.building"


def move_dir(src: Path, dst: Path) -> None:
    """Move ``src``'s entries into ``dst`` (created if needed), then remove ``src``; a redo after a kill is a no-op."""
    if not src.is_dir():
        return
    dst.mkdir(parents=True, exist_ok=True)
    for child in src.iterdir():
        target = dst / child.name
        if target.is_dir() and child.is_dir():
            move_dir(child, target)
        else:
            os.replace(child, target)
    src.rmdir()


def staged_docs(home: Path, run_id: str) -> Path:
    return (home / DOCS_DB).with_name(f"docs.{run_id}.building.duckdb")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def stage_docs(home: Path, run_id: str) -> Path:
    """A copy of the live document store (and its write-ahead log, if a writer died) for this run.

    Only writers open the store read-write, and they hold the writer lock, so the live files are
    not changing while they are copied (readers open it read-only).
    """
    staged = staged_docs(home, run_id)
    if staged.exists():
        return staged
    live = home / DOCS_DB
    live.parent.mkdir(parents=True, exist_ok=True)
    part = staged.with_name(staged.name + ".part")
    for p in (part, _wal(part)):
        p.unlink(missing_ok=True)
    if live.exists():
        shutil.copyfile(live, part)
        if _wal(live).exists():
            shutil.copyfile(_wal(live), _wal(part))
            os.replace(_wal(part), _wal(staged))
        os.replace(part, staged)
    return staged


def docs_steps(home: Path, run_id: str) -> list[dict[str, Any]]:
    """The commit steps of a staged document store (none when this run staged none)."""
    staged = staged_docs(home, run_id)
    if not staged.exists():
        return []
    if _wal(staged).exists():  # a clean close checkpoints; a log left means the copy is not final
        raise RuntimeError(f"{staged.name}: write-ahead log still present; not swapping")
    live = home / DOCS_DB
    # the live store's own log (a writer that died) belongs to the file being replaced: it goes first
    return [{"kind": "remove", "path": str(_wal(live))}, {"kind": "replace", "src": str(staged), "dst": str(live)}]


# ---------------------------------------------------------------------------------------------
# Commit and recovery


def _write_journal(home: Path, steps: list[dict[str, Any]]) -> None:
    path = home / JOURNAL
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"steps": steps}, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(home)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _apply(home: Path, step: dict[str, Any]) -> None:
    """One commit step; a step already done is skipped (redo after a kill)."""
    kind = step["kind"]
    if kind == "replace":  # a staged file takes the live file's place
        src, dst = Path(step["src"]), Path(step["dst"])
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    elif kind == "move_dir":  # a staged folder's entries take their live place
        move_dir(Path(step["src"]), Path(step["dst"]))
    elif kind == "remove":  # a file that must not outlive the one replaced next
        Path(step["path"]).unlink(missing_ok=True)
    elif kind == "link":
        target = Path(step["target"])
        if target.is_dir():
            _point(home, step["name"], target)
    elif kind == "postgres":
        from fvi.warehouse import LAYERS, PostgresWarehouse

        with PostgresWarehouse(step["url"]) as wh:
            if any(f"{layer}{step['suffix']}" in wh.schemas() for layer in LAYERS):
                wh.swap_in(step["suffix"])
    else:  # pragma: no cover - a journal from a newer version
        raise ValueError(f"unknown commit step {kind!r}")


def commit(home: Path, steps: list[dict[str, Any]]) -> None:
    """Swap in every staged part, journaled so a kill at any point is finished by the next writer."""
    _write_journal(home, steps)
    for step in steps:
        _apply(home, step)
    _fsync_dir(home)
    (home / JOURNAL).unlink()
    collect(home)


def recover(home: Path) -> list[str]:
    """Finish an interrupted commit, then remove what dead runs staged; returns what was done."""
    done: list[str] = []
    journal = home / JOURNAL
    if journal.exists():
        steps = json.loads(journal.read_text(encoding="utf-8"))["steps"]
        for step in steps:
            _apply(home, step)
        journal.unlink()
        done.append(f"finished an interrupted commit ({len(steps)} steps)")
    for name in LINKED:
        tmp = _tmp_link(home, name)
        if tmp.is_symlink() and not (home / name).exists() and not (home / name).is_symlink():
            os.replace(tmp, home / name)  # killed between adopting a folder and linking it
            done.append(f"linked {name} to its adopted folder")
    done += collect(home)
    return done


def collect(home: Path) -> list[str]:
    """Remove generations no link points at, and staged MLflow copies (call only under the writer lock)."""
    removed: list[str] = []
    for name in LINKED:
        root = gen_root(home, name)
        current = live_dir(home, name)
        for gen in sorted(root.iterdir()) if root.is_dir() else []:
            if current is None or gen.resolve() != current.resolve():
                shutil.rmtree(gen, ignore_errors=True)
                removed.append(f"{name}/{gen.name}")
        tmp = _tmp_link(home, name)
        if tmp.is_symlink():
            tmp.unlink()
    mlflow_dir = (home / MLFLOW_DB).parent
    for stale in mlflow_dir.glob("mlflow.*.building.db*") if mlflow_dir.is_dir() else []:
        stale.unlink(missing_ok=True)
        removed.append(f"mlflow/{stale.name}")
    runs = home / "runs"
    for stale in runs.glob(".*.building") if runs.is_dir() else []:
        shutil.rmtree(stale, ignore_errors=True)
        removed.append(f"runs/{stale.name}")
    docs_dir = (home / DOCS_DB).parent
    for stale in docs_dir.glob("docs.*.building.duckdb*") if docs_dir.is_dir() else []:
        stale.unlink(missing_ok=True)
        removed.append(f"rag/{stale.name}")
    return [f"removed staged {r}" for r in removed]


def discard(home: Path, run_id: str) -> None:
    """Drop what this run staged (the live parts were never touched)."""
    for name in LINKED:
        shutil.rmtree(gen_root(home, name) / run_id, ignore_errors=True)
    for p in staged_sqlite(home, run_id).parent.glob(f"mlflow.{run_id}.building.db*"):
        p.unlink(missing_ok=True)
    drop_docs(home, run_id)


def drop_docs(home: Path, run_id: str) -> None:
    """Drop this run's staged document store (the live one stays as it was)."""
    for p in staged_docs(home, run_id).parent.glob(f"docs.{run_id}.building.duckdb*"):
        p.unlink(missing_ok=True)
