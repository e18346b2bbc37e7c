"""The dashboard: the static export of ``web/`` (Next.js) served at ``/`` on the API's own origin.

``make setup`` builds ``web/`` into :data:`DEFAULT_DIR` (only when ``web/`` changed; see
``scripts/web-build.sh``). The mount comes after every API route, so ``/v1``, ``/docs``,
``/openapi.json``, ``/health``, ``/ready`` and ``/metrics`` keep answering as before, and an unknown
path under one of them stays a JSON 404 instead of the dashboard's 404 page.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parent / "static" / "web"
# First path segments that belong to the API: never answered with a dashboard file.
API_SEGMENTS = frozenset({"v1", "docs", "docs-assets", "openapi.json", "health", "ready", "metrics", "redoc"})
IMMUTABLE = "public, max-age=31536000, immutable"


class DashboardFiles(StaticFiles):
    """Static files with long caching for Next's content-hashed assets and API paths left to the API."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.split("/", 1)[0] in API_SEGMENTS:
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        if path.startswith("_next/static/") and response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def mount_dashboard(app: FastAPI, directory: Path | None = None) -> bool:
    """Serve the built dashboard at ``/``; without a build, ``/`` says how to make one. True when mounted."""
    root = (directory or DEFAULT_DIR).expanduser().resolve()
    if (root / "index.html").is_file():
        app.mount("/", DashboardFiles(directory=root, html=True), name="dashboard")
        return True
    log.info("dashboard: no build at %s (make setup builds web/)", root)

    @app.get("/", include_in_schema=False)
    def no_dashboard() -> JSONResponse:
        return JSONResponse(
            status_code=404,
            content={
                "detail": "dashboard not built: run `make setup` (it builds web/); the API is under /v1 (see /docs)"
            },
        )

    return False
