# FVI — two commands: `make run` (set up + run the main job on the embedded default)
# and `make test` (set up + pass the tests). Setup is idempotent and quick when done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fvi-installed
UV_VERSION := 0.13.9
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export MLFLOW_DISABLE_TELEMETRY := true
# LightGBM/OpenMP threads spin-wait by default; on a shared 2-core box that makes fits ~20x slower
export OMP_WAIT_POLICY := PASSIVE

.PHONY: setup web browser run test test-unit lint typecheck bench services clean torch-reference

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m uv --version 2>/dev/null | grep -q "$(UV_VERSION)" || $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/python -m uv pip sync --python $(BIN)/python requirements.lock
	$(BIN)/python -m uv pip install --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP) web

# the dashboard: web/ built into src/fvi/api/static/web only when web/ changed (served at /)
web:
	@bash scripts/web-build.sh

# Debian's Chromium for the dashboard's browser tests (apt-get once; a no-op when installed)
browser:
	@bash scripts/web-browser.sh

run: setup services
	$(BIN)/fvi run $(RUN_ARGS)

services:
	@bash scripts/services.sh
	@bash scripts/ops-tools.sh

# sentence-transformers on torch's CPU build in .venv-torch, for the embedding parity test only
torch-reference:
	@bash scripts/torch-reference.sh

test: setup services browser torch-reference
	$(if $(wildcard .venv-torch/bin/python),FVI_TORCH_PYTHON=$(CURDIR)/.venv-torch/bin/python) \
	  $(BIN)/pytest -q -n 2 --dist loadfile tests

test-unit: setup
	$(BIN)/pytest -q tests/unit

lint: setup
	$(BIN)/ruff check src tests bench
	cd web && NEXT_TELEMETRY_DISABLED=1 npm run --silent lint

typecheck: setup
	$(BIN)/mypy
	cd web && npm run --silent typecheck

bench: setup services
	$(BIN)/python bench/bench_ingest_build.py
	$(BIN)/fvi run --no-serve $(RUN_ARGS)
	$(BIN)/python bench/bench_scoring.py
	$(BIN)/python bench/bench_onnx.py

lock:
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

clean:
	rm -rf .fvi build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache src/fvi/api/static web/.next web/out
