"""MLflow, the one tracking layer: the store, the client, experiments and the champion's tag.

``fvi.ml.train`` logs runs and model versions through it and ``fvi.ml.model_registry`` mirrors
its aliases into MLflow through it, so neither imports the other for the client.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import Any

from fvi.settings import Settings

CHAMPION, CHALLENGER = "champion", "challenger"
"""The aliases of the serving and the challenging version, in the JSON registry and in MLflow alike."""


def _mlflow_env() -> None:
    """Before any mlflow import: no telemetry, no progress bars in logs."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"


def default_tracking_uri(settings: Settings) -> str:
    """The configured MLflow tracking URI, else a SQLite store at ``<FVI_HOME>/mlflow/mlflow.db``."""
    if settings.mlflow_tracking_uri:
        return settings.mlflow_tracking_uri
    db = settings.home_abs / "mlflow" / "mlflow.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{db}"


def mlflow_client(tracking_uri: str) -> Any:
    """An MLflow client whose tracking and model registry are both ``tracking_uri`` (telemetry off)."""
    _mlflow_env()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


class _ClientPrewarm:
    """Import MLflow and open its store on a side thread while the models train.

    Importing MLflow and creating a fresh SQLite store takes 5-15 s here, most of it Python work
    that overlaps with LightGBM's native training. If the side thread fails, :meth:`client`
    retries on the caller's thread so the error surfaces there.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._client: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fvi-mlflow-init", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            client = mlflow_client(self.uri)
            client.get_experiment_by_name("fvi_probe")  # creates / migrates the store
            self._client = client
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            self._error = exc

    def client(self) -> Any:
        self._thread.join()
        if self._client is None:
            return mlflow_client(self.uri)
        return self._client


def _experiment_id(client: Any, name: str, artifact_root: Path | None) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return str(exp.experiment_id)
    location = (artifact_root / name).as_uri() if artifact_root is not None else None
    return str(client.create_experiment(name, artifact_location=location))


def _champion_auc(client: Any, name: str) -> tuple[bool, float | None]:
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return False, None
    raw = (mv.tags or {}).get("cv_auc")
    try:
        return True, float(raw) if raw is not None else math.nan
    except ValueError:
        return True, math.nan
