"""``fvi serve``: the API under uvicorn (one process by default; ``workers`` > 1 forks)."""

from __future__ import annotations


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
        proxy_headers=False,
        server_header=False,
    )
