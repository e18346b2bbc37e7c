"""Model versions: metrics and aliases, promotion (admin), and the champion/challenger A/B split."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path

from fvi.api.errors import NotFound
from fvi.api.keys import ApiKey
from fvi.api.prediction_schemas import ABOut, ABUpdate, ModelsOut, PromoteOut, PromoteRequest
from fvi.api.prediction_service import ServiceDep, ServingService
from fvi.api.schemas import error_responses
from fvi.api.security import require_key
from fvi.ml.model_registry import ModelRegistry, ModelRegistryError
from fvi.serving.ab import ABConfig

router = APIRouter(prefix="/models", tags=["models"])
log = logging.getLogger(__name__)

HIDDEN = {"onnx_path", "meta_path", "feature_order", "name"}
"""Version fields not shown: file paths (server internals) and what the model entry already says."""
_PATH = re.compile(r"(?:/[^/\s]+)+/([^/\s]+/[^/\s]+/[^/\s]+)")


def _public(message: str) -> str:
    """A registry message without the server's directories (``m/2/model.onnx`` stays)."""
    return _PATH.sub(r"\1", message)


def _ab(svc: ServingService) -> dict[str, Any]:
    return {**svc.ab.config.model_dump(), "stats": svc.ab.stats()}


@router.get("", response_model=ModelsOut, summary="Model versions, metrics, aliases and what serves here")
def list_models(svc: ServiceDep) -> dict[str, Any]:
    """Every exported version with its cross-validated metrics and aliases (``champion``, ``challenger``).

    ``serving`` is what this worker has loaded; ``answers`` which entity group and horizon each model
    answers; ``features`` the names ``overrides`` may use.
    """
    reg = ModelRegistry(svc.predictor.models_dir)
    snap = svc.predictor.snapshot
    answers: dict[str, list[str]] = {}
    for (group, horizon), name in sorted(snap.routes.items()):
        answers.setdefault(name, []).append(f"{group}/{horizon}")
    models = []
    for name in reg.names():
        versions = reg.list_versions(name)
        arms = snap.models.get(name, {})
        first = next(iter(arms.values()), None)
        latest = versions[-1] if versions else {}
        models.append(
            {
                "name": name,
                "kind": first.kind if first else latest.get("kind"),
                "entity": first.group if first else None,
                "target": first.target if first else latest.get("target"),
                "aliases": reg.aliases(name),
                "serving": {alias: m.version for alias, m in arms.items()},
                "answers": answers.get(name, []),
                "features": first.overridable if first else [],
                "load_errors": {
                    k.split("@", 1)[1]: _public(v) for k, v in snap.load_errors.items() if k.startswith(f"{name}@")
                },
                "versions": [
                    {
                        **{k: v for k, v in info.items() if k not in HIDDEN},
                        "n_features": len(info.get("feature_order") or []) or None,
                    }
                    for info in versions
                ],
            }
        )
    status = svc.predictor.status()
    status["load_errors"] = {k: _public(v) for k, v in status["load_errors"].items()}
    return {"models": models, "ab": _ab(svc), "status": status}


@router.post(
    "/{name}/promote",
    response_model=PromoteOut,
    summary="Make a version the champion (admin)",
    responses={
        **error_responses(401, 403, 404),
        409: {"description": "The version's ONNX file is missing or corrupt."},
    },
)
def promote(
    svc: ServiceDep,
    key: Annotated[ApiKey, Depends(require_key("admin"))],
    name: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")],
    body: PromoteRequest,
) -> dict[str, Any]:
    """Refused (409) when the ONNX file is missing, fails its checksum or does not load: the old champion serves on.

    On success this worker swaps sessions at once; other workers within ``FVI_SERVING_REFRESH_SECONDS``.
    """
    reg = ModelRegistry(svc.predictor.models_dir)
    if name not in reg.names():
        raise NotFound(f"model {name!r} not found (see GET /v1/models)")
    try:
        out = svc.predictor.promote(name, body.version)
    except ModelRegistryError as exc:
        msg = _public(str(exc))
        if "has no version" in msg:
            raise NotFound(msg) from None
        log.warning("promote %s %s refused (key %s): %s", name, body.version, key.id, exc)
        raise HTTPException(status_code=409, detail=f"promotion refused: {msg}") from None
    log.info("promote: %s v%s is champion (key %s)", name, out["version"], key.id)
    return out


@router.get("/ab", response_model=ABOut, summary="The champion/challenger split")
def get_ab(svc: ServiceDep) -> dict[str, Any]:
    """Share of entities (by a stable hash of the id) answered by each model's challenger, and counts here."""
    svc.ab.reload()
    return _ab(svc)


@router.put(
    "/ab",
    response_model=ABOut,
    summary="Change the champion/challenger split (admin)",
    responses=error_responses(401, 403),
)
def put_ab(svc: ServiceDep, key: Annotated[ApiKey, Depends(require_key("admin"))], body: ABUpdate) -> dict[str, Any]:
    """Stored under FVI_HOME (every worker reads it on its next refresh); this worker uses it at once."""
    salt = body.salt or svc.ab.config.salt
    svc.ab.save(ABConfig(enabled=body.enabled, challenger_share=body.challenger_share, salt=salt), by=key.id)
    log.info("A/B split set to %.3f challenger (enabled=%s) by key %s", body.challenger_share, body.enabled, key.id)
    return _ab(svc)
