"""What stands between a CLI command and its user: the writer lock, one-line errors, exit codes.

``exclusive(name)`` wraps a command that writes FVI_HOME: it adds a ``--no-wait`` option and holds
:func:`fvi.lock.writer_lock` while the command runs. ``run_cli(app)`` is the console entry point:
it runs the Typer app and turns every error into one line on stderr and a code of
:mod:`fvi.exit_codes`; a traceback only ever goes to ``FVI_HOME/logs``, never to the terminal.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import inspect
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer

from fvi.errors import FviError, scrub_paths
from fvi.exit_codes import ExitCode

F = TypeVar("F", bound=Callable[..., Any])

NO_WAIT_HELP = "Refuse at once (exit 4) if another fvi command is writing FVI_HOME, instead of waiting."


def _err(message: str) -> None:
    click.echo(message, err=True)


def exclusive(command: str, say: Callable[[str], None] | None = None) -> Callable[[F], F]:
    """Hold FVI_HOME's writer lock while the decorated CLI command runs; adds ``--no-wait``."""

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        extra = inspect.Parameter(
            "no_wait",
            inspect.Parameter.KEYWORD_ONLY,
            default=False,
            annotation=Annotated[bool, typer.Option("--no-wait", help=NO_WAIT_HELP)],
        )

        @functools.wraps(func)
        def wrapper(*args: Any, no_wait: bool = False, **kwargs: Any) -> Any:
            from fvi.lock import writer_lock_for
            from fvi.settings import get_settings

            with writer_lock_for(get_settings(), command, no_wait=no_wait, say=say or _err):
                return func(*args, **kwargs)

        params = list(sig.parameters.values())
        wrapper.__signature__ = sig.replace(parameters=[*params, extra])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


# ---------------------------------------------------------------------------------------------
# Errors -> one line + exit code

def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC anywhere in the chain, or a driver's text for it (DuckDB, PostgreSQL)."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(e).casefold()
        if "no space left on device" in text or "could not extend file" in text or "disk full" in text:
            return True
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _home() -> Path | None:
    try:
        from fvi.settings import get_settings

        return get_settings().home_abs
    except Exception:  # noqa: BLE001 - settings themselves may be the problem
        return None


def _log_traceback(exc: BaseException, home: Path | None) -> str | None:
    """Write the traceback under FVI_HOME/logs; the name shown to the user (or None)."""
    if home is None:
        return None
    try:
        logs = home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        name = f"fvi-error-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%fZ')}.log"
        (logs / name).write_text(
            " ".join(sys.argv) + "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        )
        return f"$FVI_HOME/logs/{name}"
    except OSError:
        return None


def describe_error(exc: BaseException) -> tuple[str, ExitCode]:
    """The line shown to the user and the exit code, for any exception a command let through."""
    from fvi.warehouse import WarehouseUnavailable

    home = _home()
    if isinstance(exc, FviError):
        return str(exc), exc.exit_code
    if is_disk_full(exc):
        return (
            "no space left on the device: the step was stopped and the live warehouse, models and stores "
            "are as they were before; free some space and run again",
            ExitCode.DISK_FULL,
        )
    if isinstance(exc, WarehouseUnavailable):
        return str(exc), ExitCode.FAILED
    try:
        from fvi.dbt import DbtFailed

        if isinstance(exc, DbtFailed):
            return f"warehouse build failed; the previous warehouse is untouched. {_first_line(exc)}", ExitCode.FAILED
    except ImportError:  # pragma: no cover - dbt is a dependency
        pass
    module = type(exc).__module__.split(".")[0]
    if module in ("psycopg", "duckdb"):
        where = "PostgreSQL" if module == "psycopg" else "DuckDB"
        log = _log_traceback(exc, home)
        tail = f" (details in {log})" if log else ""
        return f"{where} error: {scrub_paths(_first_line(exc), home)}{tail}", ExitCode.FAILED
    log = _log_traceback(exc, home)
    tail = f"; traceback in {log}" if log else ""
    return f"failed: {type(exc).__name__}: {scrub_paths(_first_line(exc), home)}{tail}", ExitCode.FAILED


def run_cli(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run ``app`` and return its exit code; errors become one line on stderr.

    Typer itself reports usage errors (exit 2) and turns Ctrl-C into exit 130; everything a command
    raises is described by :func:`describe_error`.
    """
    # a log handler that cannot write (its file on a full disk) drops the record instead of printing
    # "--- Logging error ---" and a traceback (the default, meant for development)
    logging.raiseExceptions = False
    try:
        app(args=argv, prog_name="fvi")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # noqa: BLE001 - the point: nothing raw reaches the user
        message, code = describe_error(exc)
        _err(f"fvi: {message}")
        return int(code)
    return 0
