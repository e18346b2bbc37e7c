"""``fvi serve``: the API under uvicorn (one process by default; ``workers`` > 1 forks).

uvicorn's access log is off: it formats and writes a line inline for every request (about a
fifth of a cached prediction's cost). The app writes its own, structured and sampled, from a
background thread (``FVI_API_ACCESS_LOG_SAMPLE``, :mod:`fvi.obs.access_log`). uvloop and httptools
are pinned in the lock and used explicitly.

Workers: each is a process with its own models, caches (unless Redis) and metrics registry; on
this 2-core machine a second worker adds throughput only while the first is CPU-bound, see
``bench/README.md`` (issue 15) for what each worker adds.
"""

from __future__ import annotations

# uvicorn (>= 0.30) pings each worker and kills one that does not answer in `timeout_worker_healthcheck`
# (5 s by default), then starts another. A worker builds the app (imports, warehouse, model) before it
# answers; on a busy 2-core machine that took longer than 5 s, so `--workers 2` killed and restarted its
# workers forever without serving. A minute covers a cold start under load; a hung worker is still replaced.
WORKER_HEALTHCHECK_SECONDS = 60


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *, log_level: str = "info") -> None:
    """Run the service until interrupted; every worker builds its own app (and its own metrics)."""
    import uvicorn

    uvicorn.run(
        "fvi.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
        server_header=False,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
