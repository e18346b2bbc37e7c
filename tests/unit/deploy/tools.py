"""Paths of the deploy folder and the external tools its tests run (installed by scripts/ops-tools.sh)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"


def tool(name: str) -> str:
    """The tool's path: beside this Python first (PyPI wrappers), then PATH; absent → skip, or fail in CI."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found:
        return found
    message = f"{name} not installed (make test runs scripts/ops-tools.sh, which installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable
