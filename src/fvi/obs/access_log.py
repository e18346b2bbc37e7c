"""The API's access log: structured (one JSON object a line), sampled, and written off the request path.

Every request that failed (5xx) or took at least ``slow_ms`` is logged; of the rest, one in
``round(1 / sample)`` (``FVI_API_ACCESS_LOG_SAMPLE``; 0 logs none of them, 1 all). A logged request
costs the event loop one ``LogRecord`` put on a queue: formatting and the write happen in a
listener thread (``logging.handlers.QueueListener``), so a slow terminal or disk never stalls a
response. uvicorn's own access log is off (``fvi serve``): it formats and writes every line inline.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import threading
from typing import Any

import orjson

LOGGER = "fvi.api.access"


class _Enqueue(logging.handlers.QueueHandler):
    """Put the record on the queue as it is: the listener thread formats it (``prepare`` would do it here)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _JsonMessage(logging.Formatter):
    """``{"ts": ..., ...fields}``: the record's ``access`` fields as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "access", {})
        return orjson.dumps({"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), **fields}).decode()


class AccessLog:
    """Decides which requests are logged and hands them to the listener thread."""

    def __init__(self, sample: float = 0.01, slow_ms: float = 500.0, *, handler: logging.Handler | None = None) -> None:
        self.every = 0 if sample <= 0 else max(1, round(1.0 / sample))
        self.slow_s = slow_ms / 1000.0
        self._n = 0
        self.logger = logging.getLogger(LOGGER)
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        target = handler or logging.StreamHandler()
        target.setFormatter(_JsonMessage())
        self._listener = logging.handlers.QueueListener(self._queue, target, respect_handler_level=True)
        self._handler = _Enqueue(self._queue)
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Attach to the ``fvi.api.access`` logger and start the writer thread (idempotent)."""
        with self._lock:
            if self._started:
                return
            self.logger.addHandler(self._handler)
            self.logger.propagate = False
            if self.logger.level == logging.NOTSET:
                self.logger.setLevel(logging.INFO)
            self._listener.start()
            self._started = True

    def stop(self) -> None:
        """Flush what is queued and stop the thread."""
        with self._lock:
            if not self._started:
                return
            self._listener.stop()
            self.logger.removeHandler(self._handler)
            self._started = False

    def wanted(self, status: int, seconds: float) -> bool:
        if status >= 500 or seconds >= self.slow_s:
            return True
        if not self.every:
            return False
        self._n += 1  # one event loop per worker: no lock needed for a sampling counter
        return self._n % self.every == 0

    def record(
        self, method: str, route: str, path: str, status: int, seconds: float, trace_id: str, client: Any
    ) -> None:
        """Log one request if it is wanted (see the module doc); cheap when it is not."""
        if not self._started or not self.wanted(status, seconds):
            return
        level = logging.ERROR if status >= 500 else logging.WARNING if seconds >= self.slow_s else logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        fields = {
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "ms": round(seconds * 1000.0, 3),
            "trace_id": trace_id,
            "client": client[0] if client else None,
            # a sampled line stands for this many requests like it
            "sample_every": self.every if level == logging.INFO else None,
        }
        self.logger.log(level, "access", extra={"access": {k: v for k, v in fields.items() if v is not None}})
