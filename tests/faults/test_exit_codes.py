"""Honest exit codes, one-line errors, and checks at the door (issue 16, items 6 and 7).

Before: an empty data folder ran for minutes and exited 0 with every source carried forward; a
run with a failed source exited 0; a full disk printed a raw traceback.
"""

from __future__ import annotations

import errno
import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from fvi.exit_codes import ExitCode
from fvi.ingest.preflight import check_file, preflight
from fvi.pipeline import CONNECTORS
from tests.faults.helpers import run_fvi

pytestmark = pytest.mark.integration

ABS_PATH = re.compile(r"(?<![\w.:/])/(?:tmp|work|home|root|usr)/")


def small_data_dir(tmp: Path, shared: Path, **replace: str) -> Path:
    """mining_land and coal_policy from the real samples (linked); ``replace`` swaps a file's text."""
    root = tmp / "data"
    for folder in ("mining_land", "coal_policy"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for f in (shared / folder).iterdir():
            target = root / folder / f.name
            target.unlink(missing_ok=True)
            if f.name in replace:
                target.write_text(replace[f.name])
            else:
                target.symlink_to(f)
    return root


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_empty_data_folder_fails_in_seconds_naming_what_was_expected(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_fvi(tmp_path / "home", "run", "--no-serve", "--data-dir", str(empty), timeout=90)
    assert done.rc == ExitCode.BAD_INPUT, done.err[-800:]
    assert str(empty) in done.err
    assert "gem_coal_mines/Global-Coal-Mine-Tracker-*.xlsx" in done.err  # what was expected
    assert "Traceback" not in done.err
    assert not (tmp_path / "home" / "warehouse" / "fvi.duckdb").exists()


def test_missing_data_folder_is_bad_input_without_traceback(tmp_path: Path) -> None:
    done = run_fvi(tmp_path / "home", "ingest", "--data-dir", str(tmp_path / "nowhere"))
    assert done.rc == ExitCode.BAD_INPUT and "does not exist" in done.err and "Traceback" not in done.err


def test_wrong_folder_points_at_the_one_meant(shared_data: Path) -> None:
    with pytest.raises(Exception, match="Did you mean") as info:
        preflight(shared_data.parent, CONNECTORS)
    assert type(info.value).__name__ == "BadInput"
    assert not preflight(shared_data, CONNECTORS).problems  # the real samples pass the door


def test_door_refuses_bad_files_by_layout_before_loading(tmp_path: Path) -> None:
    renamed = tmp_path / "global_mining_area_per_country_v1.csv"
    renamed.write_text("COUNTRY_NAME,ISO_CODE,AREA,N_FEATURES\nChina,CHN,1.5,3\n")
    assert "missing required columns: iso3_code" in (check_file("mining_land", renamed) or "")
    empty = tmp_path / "GCB2022v27_MtCO2_flat.csv"
    empty.write_bytes(b"")
    assert "empty" in (check_file("gcp", empty) or "")
    cut = tmp_path / "Global-Coal-Mine-Tracker-April-2024.xlsx"
    cut.write_bytes(b"PK\x03\x04" + b"\0" * 200)  # the first bytes of a zip, then nothing
    assert "truncated" in (check_file("gem_mines", cut) or "")
    good = tmp_path / "ok.xlsx"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert check_file("gem_mines", good) is None


def test_failed_or_missing_source_exits_degraded_and_the_report_has_no_paths(
    tmp_path: Path, shared_data: Path
) -> None:
    data = small_data_dir(tmp_path, shared_data)
    home = tmp_path / "home"
    done = run_fvi(home, "ingest", "--data-dir", str(data))
    assert done.rc == ExitCode.DEGRADED, done.err[-800:]  # 9 of 11 sources are missing here
    assert "degraded run" in done.err and "gem_mines" in done.err
    reports = list((home / "runs").glob("*.json"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert json.loads(text)["sources"] and not ABS_PATH.search(text), ABS_PATH.search(text)


def test_disk_full_is_one_line_exit_5_and_keeps_the_live_warehouse(
    fvi_home: Path, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fvi.cli import app
    from fvi.cli_guard import run_cli
    from fvi.warehouse import DuckDBWarehouse

    data = small_data_dir(tmp_path, shared_data)
    assert run_cli(app, ["ingest", "--data-dir", str(data)]) == ExitCode.DEGRADED
    live = fvi_home / "warehouse" / "fvi.duckdb"
    before = _sha(live)
    real_write = DuckDBWarehouse.write_table
    calls = {"n": 0}

    def write_until_full(self, layer, name, frame):  # noqa: ANN001, ANN202 - the injected fault
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        return real_write(self, layer, name, frame)

    monkeypatch.setattr(DuckDBWarehouse, "write_table", write_until_full)
    capsys.readouterr()
    rc = run_cli(app, ["ingest", "--data-dir", str(data)])
    err = capsys.readouterr().err
    assert rc == ExitCode.DISK_FULL, err[-800:]
    assert "no space left" in err and "Traceback" not in err and not ABS_PATH.search(err)
    assert _sha(live) == before
    assert not list(live.parent.glob("*.building.duckdb*"))  # the staging copy is gone


def test_unexpected_error_is_one_line_and_the_traceback_goes_to_a_log(
    fvi_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from fvi import pipeline
    from fvi.cli import app
    from fvi.cli_guard import run_cli

    secret = tmp_path / "some" / "server" / "file.duckdb"

    def broken(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise KeyError(f"cannot read {secret}")

    monkeypatch.setattr(pipeline, "plan_input", broken)
    rc = run_cli(app, ["ingest"])
    err = capsys.readouterr().err
    assert rc == ExitCode.FAILED
    assert "KeyError" in err and "file.duckdb" in err and str(secret.parent) not in err
    assert "Traceback" not in err
    logs = list((fvi_home / "logs").glob("fvi-error-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text()
