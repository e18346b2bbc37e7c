"""Errors that ``fvi`` reports to its user as one line and a documented exit code (never a traceback).

A ``FviError`` message is written for the person at the terminal: it names the folder, file, command
or lock concerned, and says what to do. ``cli.main`` turns these, and a few well-known system
errors (a full disk, an unreachable database), into that line and the code of
:mod:`fvi.exit_codes`; anything else is logged with its traceback under ``FVI_HOME/logs`` and
reported as one line naming that log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fvi.exit_codes import ExitCode


class FviError(Exception):
    """A failure with a message for the user and an exit code."""

    exit_code: ExitCode = ExitCode.FAILED


class BadInput(FviError, ValueError):
    """The input cannot be used (checked at the door, before any long step)."""

    exit_code = ExitCode.BAD_INPUT


class WriterBusy(FviError):
    """Another process holds the FVI_HOME writer lock."""

    exit_code = ExitCode.BUSY


_ABS_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)+([\w.@*+-]+)")


def scrub_paths(text: str, home: Path | None = None) -> str:
    """``text`` with FVI_HOME shown as ``$FVI_HOME`` and other absolute paths cut to their last part.

    For what leaves the machine or lands in a report: the server's directory layout is nobody's
    business, the file name is what the reader needs.
    """
    if home is not None:
        text = text.replace(str(home), "$FVI_HOME")
    return _ABS_PATH.sub(lambda m: m.group(1), text)


def scrub_tree(value: Any, home: Path | None = None) -> Any:
    """:func:`scrub_paths` on every string of a JSON-like value."""
    if isinstance(value, str):
        return scrub_paths(value, home)
    if isinstance(value, dict):
        return {k: scrub_tree(v, home) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_tree(v, home) for v in value]
    return value
