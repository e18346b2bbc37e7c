"""Batch prediction jobs: accepted at once, run in a background thread, polled by id.

Jobs live in the worker that accepted them; with a shared cache (Redis, server profile) their
status and results are also written there, so a poll that lands on another worker still finds
them. A worker runs one job at a time and holds at most ``max_active`` queued or running jobs
(:class:`JobsFull` above that); finished jobs are forgotten after ``ttl`` seconds.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fvi.cache import Cache

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PROGRESS_EVERY = 500
"""Items between progress updates in the shared cache."""


class JobsFull(RuntimeError):
    """Too many jobs queued or running in this worker (the message says how many)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One batch job: its items, the API key that submitted it, progress counters, results and timestamps."""

    id: str
    owner: str
    items: list[Any]
    status: str = QUEUED
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    done: int = 0
    failed: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    finished_mono: float | None = None

    def view(self) -> dict[str, Any]:
        """The job's status as the API reports it (counts and timestamps, no items or results)."""
        return {
            "job_id": self.id,
            "status": self.status,
            "total": len(self.items),
            "done": self.done,
            "failed": self.failed,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "owner": self.owner,
        }


class JobStore:
    """Submit, run (one at a time, in a daemon thread) and look up batch jobs."""

    def __init__(
        self,
        run_item: Callable[[Any], dict[str, Any]],
        *,
        max_active: int = 8,
        ttl: float = 3600.0,
        shared: Cache | None = None,
    ) -> None:
        self._run_item = run_item
        self.max_active = max_active
        self.ttl = ttl
        self._shared = shared
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job] = queue.Queue()
        self._worker: threading.Thread | None = None

    def _purge(self) -> None:
        cutoff = time.monotonic() - self.ttl
        for jid in [j.id for j in self._jobs.values() if j.finished_mono is not None and j.finished_mono < cutoff]:
            del self._jobs[jid]

    def active(self) -> int:
        """How many of this worker's jobs are queued or running."""
        return sum(1 for j in self._jobs.values() if j.status in (QUEUED, RUNNING))

    def submit(self, items: list[Any], owner: str) -> Job:
        """Queue a job; raises :class:`JobsFull` when ``max_active`` jobs are already waiting or running."""
        with self._lock:
            self._purge()
            if self.active() >= self.max_active:
                raise JobsFull(
                    f"{self.max_active} batch jobs are already queued or running in this worker; retry later"
                )
            job = Job(id=secrets.token_urlsafe(16), owner=owner, items=list(items))
            self._jobs[job.id] = job
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="fvi-batch-jobs", daemon=True)
                self._worker.start()
        self._publish(job)
        self._queue.put(job)
        return job

    def _work(self) -> None:
        """Run queued jobs; exit when the queue stays empty for a while (no idle thread per app)."""
        while True:
            try:
                job = self._queue.get(timeout=5.0)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        job.status, job.started_at = RUNNING, _now()
        self._publish(job)
        try:
            for n, item in enumerate(job.items, start=1):
                result = self._run_item(item)
                job.results.append(result)
                job.done = n
                if result.get("status", 200) != 200:
                    job.failed += 1
                if n % PROGRESS_EVERY == 0:
                    self._publish(job, with_results=False)
            job.status = DONE
        except Exception as exc:  # noqa: BLE001 - a job's failure is its answer, not the worker's death
            log.exception("batch job %s failed", job.id)
            job.status, job.error = FAILED, f"{type(exc).__name__} (see the service log)"
        job.finished_at, job.finished_mono = _now(), time.monotonic()
        self._publish(job)

    def _publish(self, job: Job, *, with_results: bool = True) -> None:
        """Mirror the job to the shared cache (another worker may be asked about it)."""
        if self._shared is None:
            return
        doc = job.view()
        if with_results and job.status in (DONE, FAILED):
            doc["results"] = job.results
        try:
            self._shared.set(f"job:{job.id}", doc, ttl=self.ttl)
        except (TypeError, ValueError):
            log.warning("batch job %s: results not shareable through the cache", job.id)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job as a dict (``results`` once finished), from this worker or the shared cache."""
        with self._lock:
            self._purge()
            job = self._jobs.get(job_id)
        if job is not None:
            doc = job.view()
            doc["results"] = job.results if job.status in (DONE, FAILED) else None
            return doc
        if self._shared is not None:
            found = self._shared.get(f"job:{job_id}")
            if isinstance(found, dict):
                return {**found, "results": found.get("results")}
        return None
