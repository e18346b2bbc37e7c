#!/usr/bin/env bash
# The torch reference for the ONNX/torch embedding parity test: sentence-transformers on torch's CPU
# build in its own venv (.venv-torch), pinned by requirements-torch.txt. Idempotent: a no-op when the
# venv already holds exactly those pins. pip, not uv: the CPU build of torch 2.13.0 is a file this
# machine kind keeps on disk (pip's find-links); PyPI's Linux torch pulls the CUDA stack, so on a
# machine without that file the install stops at once and the parity test skips, saying why.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-torch
REQ=requirements-torch.txt
STAMP="$VENV/.installed-$(sha256sum "$REQ" | cut -c1-16)"
[ -f "$STAMP" ] && exit 0
rm -rf "$VENV"
if python3 -m venv "$VENV" \
    && "$VENV/bin/python" -m pip install -q --disable-pip-version-check --only-binary :all: -r "$REQ" \
    && "$VENV/bin/python" -c "import sentence_transformers, torch; assert torch.__version__.endswith('+cpu')"; then
  touch "$STAMP"
  echo "torch reference ready: $VENV ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
else
  rm -rf "$VENV"
  echo "torch reference NOT installed (no CPU build of torch 2.13.0 reachable): the parity test against" \
       "sentence-transformers will skip; the NumPy reference test still runs" >&2
fi
exit 0
