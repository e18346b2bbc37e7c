"""Errors that ``fvi`` reports to its user as one line and a documented exit code (never a traceback).

A ``FviError`` message is written for the person at the terminal: it names the folder, file, command
or lock concerned, and says what to do. ``cli.main`` turns these, and a few well-known system
errors (a full disk, an unreachable database), into that line and the code of
:mod:`fvi.exit_codes`; anything else is logged with its traceback under ``FVI_HOME/logs`` and
reported as one line naming that log.
"""

from __future__ import annotations

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
