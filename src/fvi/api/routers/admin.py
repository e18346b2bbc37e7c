"""Admin routes (API key with the ``admin`` scope)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends

from fvi.api.deps import StateDep
from fvi.api.keys import ApiKey
from fvi.api.schemas import error_responses
from fvi.api.security import require_key

router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(401, 403))
log = logging.getLogger(__name__)


@router.post("/cache/flush", summary="Empty the response cache")
def flush_cache(state: StateDep, key: Annotated[ApiKey, Depends(require_key("admin"))]) -> dict[str, object]:
    """Drop every cached response of this service (all workers when the cache is Redis)."""
    removed = state.cache.clear()
    log.info("admin: cache flushed by key %s (%s) - %d entries", key.id, key.name, removed)
    return {"flushed": removed, "backend": state.cache.backend, "by": key.id}
