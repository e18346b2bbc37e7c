"""Progress that reads well in a log file: one plain, timestamped line per change, flushed at once.

``rich``'s live bars redraw one line on a terminal and, written to a file or a pipe, show nothing
until the job ends. :func:`progress_for` picks the bar on a terminal and :class:`PlainProgress`
(the same ``add_task`` / ``update`` / ``advance`` calls) otherwise.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO


class PlainProgress:
    """``add_task``/``update``/``advance`` like :class:`rich.progress.Progress`, printing one line each."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._tasks: dict[int, dict[str, Any]] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()

    def _line(self, task: dict[str, Any]) -> None:
        done, total = task["completed"], task["total"]
        count = f" {int(done)}/{int(total)}" if total else (f" {int(done)}" if done else "")
        elapsed = time.monotonic() - task["started"]
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        self.stream.write(f"{stamp} {task['description']}{count} ({elapsed:.0f} s)\n")
        self.stream.flush()

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        """Start a task and print its first line; the task id for :meth:`update`."""
        tid = len(self._tasks)
        self._tasks[tid] = {"description": description, "total": total, "completed": 0, "started": time.monotonic()}
        self._line(self._tasks[tid])
        return tid

    def update(
        self,
        task_id: int,
        *,
        description: str | None = None,
        advance: float | None = None,
        completed: float | None = None,
        total: float | None = None,
        **_: Any,
    ) -> None:
        """Change a task's description, total or count (``advance`` adds to it) and print its line."""
        task = self._tasks[task_id]
        if description is not None:
            task["description"] = description
        if total is not None:
            task["total"] = total
        if completed is not None:
            task["completed"] = completed
        if advance:
            task["completed"] += advance
        self._line(task)

    def advance(self, task_id: int, advance: float = 1) -> None:
        """Add ``advance`` to a task's count and print its line."""
        self.update(task_id, advance=advance)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an open terminal (False for files, pipes, closed streams, objects without ``isatty``)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
