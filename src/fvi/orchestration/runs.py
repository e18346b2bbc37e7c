"""One Dagster run = one FVI run: the FVI run id, the staging warehouse and the run's files follow from it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from fvi.pipeline import InputPlan, run_dir
from fvi.settings import Settings


def fvi_run_id(instance: Any, dagster_run_id: str) -> str:
    """``%Y%m%dT%H%M%SZ_xxxxxx`` from the Dagster run's creation time and id (same in every step)."""
    record = instance.get_run_record_by_id(dagster_run_id)
    created = record.create_timestamp if record is not None else dt.datetime.now(dt.UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return created.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "_" + dagster_run_id.replace("-", "")[:6]


def plan_file(settings: Settings, run_id: str) -> Path:
    return run_dir(settings, run_id) / "plan.json"


def save_plan(settings: Settings, run_id: str, plan: InputPlan, dagster_run_id: str) -> None:
    path = plan_file(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"kind": plan.kind, "data_dir": str(plan.data_dir), "synthetic": plan.synthetic,
            "dagster_run_id": dagster_run_id}
    path.write_text(json.dumps(body))


def load_plan(settings: Settings, run_id: str) -> InputPlan:
    body = json.loads(plan_file(settings, run_id).read_text())
    return InputPlan(body["kind"], Path(body["data_dir"]), synthetic=bool(body["synthetic"]))


def save_step(settings: Settings, run_id: str, name: str, result: dict[str, Any]) -> None:
    """A step's summary, gathered into the run report when the run publishes."""
    folder = run_dir(settings, run_id) / "steps"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, default=str))


def load_steps(settings: Settings, run_id: str) -> dict[str, dict[str, Any]]:
    folder = run_dir(settings, run_id) / "steps"
    if not folder.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)}
