"""Progress written to a log file: a plain line per change, there as soon as it happens."""

from __future__ import annotations

import io

from fvi.cli import _progress
from fvi.progress import PlainProgress


def test_plain_progress_writes_a_line_per_change() -> None:
    buf = io.StringIO()
    with PlainProgress(buf) as p:
        t = p.add_task("ingest", total=3)
        p.update(t, description="ingest gem_mines")
        p.advance(t)
        b = p.add_task("dbt build", total=None)
        p.update(b, description="dbt dim_mine success", advance=1)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 5
    assert lines[2].endswith(")") and " ingest gem_mines 1/3 (" in lines[2]
    assert " dbt dim_mine success 1 (" in lines[4]


def test_the_cli_uses_plain_lines_when_output_is_not_a_terminal(capsys) -> None:
    assert isinstance(_progress(), PlainProgress)  # pytest captures stdout: not a terminal
