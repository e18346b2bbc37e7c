"""Batch jobs: status, progress and results of a large ``POST /v1/predict/batch`` (API key, write scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from fvi.api.errors import NotFound
from fvi.api.keys import ApiKey
from fvi.api.prediction_schemas import JobOut
from fvi.api.prediction_service import ServiceDep
from fvi.api.schemas import error_responses
from fvi.api.security import require_key

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=error_responses(401, 403, 404))


@router.get("/{job_id}", response_model=JobOut, summary="A batch job's status and results")
def get_job(
    svc: ServiceDep,
    key: Annotated[ApiKey, Depends(require_key("write"))],
    job_id: Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")],
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="First result to return.")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Results to return at most.")] = 1000,
) -> dict[str, Any]:
    """Queued, running (with ``done`` of ``total``), done or failed; results once finished, a page at a time.

    Only the key that submitted the job (or an admin key) sees it; to any other key it does not exist.
    """
    job = svc.jobs.get(job_id)
    if job is None or (job.get("owner") != key.id and not key.allows("admin")):
        raise NotFound(f"job {job_id!r} not found (finished jobs are kept {svc.settings.job_ttl_seconds:.0f} s)")
    results = job.get("results")
    return {**job, "offset": offset, "results": None if results is None else results[offset : offset + limit]}
