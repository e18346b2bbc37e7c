"""Why a source was held back: the message the pipeline writes and the checks a reader gets from it.

A source not loaded fresh (``carried_forward``, ``failed``, ``refused``, ``missing``) has one message
in the run report and in ``bronze.ingest_manifest``. The pipeline writes it with
:func:`silver_message` (silver tests that failed, each with its failing rows) or as the ingest
step's error (a plausibility refusal, a layout error, a file that could not be read);
:func:`checks` reads it back as ``[{"check", "rows", "detail"}]`` for the run report, ``/ready``
and the data-quality view, so the format and its reader live side by side.
"""

from __future__ import annotations

import re
from typing import Any

SILVER_FAILED = "silver tests failed: "
KEPT = "previous good bronze kept"
LEFT_EMPTY = "no previous build: left empty"
REFUSED = "release refused: "
_TEST = re.compile(r"^\s*(?P<name>[\w.]+) \((?:(?P<rows>\d+) rows|(?P<status>[\w ]+))\)\s*$")
_KEPT_FOR = re.compile(r"\s+— previous bronze kept for: .*$")


def silver_message(tests: list[str], carried: bool) -> str:
    """The message of a source held back by its silver tests (``tests``: ``name (N rows)`` each)."""
    return f"{SILVER_FAILED}{'; '.join(tests)} ({KEPT if carried else LEFT_EMPTY})"


def silver_test(name: str, rows: int | None, status: str) -> str:
    """One failed silver test or model as the message names it."""
    return f"{name} ({rows} rows)" if rows else f"{name} ({status})"


def checks(message: str | None) -> list[dict[str, Any]]:
    """The checks a held-back source failed, read from its message: which check, how many rows, detail.

    ``rows`` is the number of failing rows where the check counts them (a dbt test), else None.
    """
    text = (message or "").strip()
    if not text:
        return []
    if text.startswith(SILVER_FAILED):
        body = text.removeprefix(SILVER_FAILED)
        for tail in (f" ({KEPT})", f" ({LEFT_EMPTY})"):
            body = body.removesuffix(tail)
        out: list[dict[str, Any]] = []
        for part in body.split("; "):
            m = _TEST.match(part)
            if m is None:
                out.append({"check": "silver test", "rows": None, "detail": part.strip()})
            else:
                rows = m.group("rows")
                out.append({"check": m.group("name"), "rows": int(rows) if rows else None,
                            "detail": m.group("status") or "failing rows"})
        return out
    text = _KEPT_FOR.sub("", text)
    if REFUSED in text:
        problems = text.split(REFUSED, 1)[1]
        return [{"check": "plausibility", "rows": None, "detail": p.strip()} for p in problems.split("; ") if p.strip()]
    return [{"check": "ingest", "rows": None, "detail": text}]
