"""The ONNX export of all-MiniLM-L6-v2 gives the same vectors as an independent forward pass.

Always: against a NumPy float64 pass over the same safetensors. With a torch install (the
``sentence_transformers`` package importable, or ``FVI_TORCH_PYTHON`` naming an interpreter that
has it, e.g. ``make torch-reference``): against sentence-transformers itself, to 1e-6.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from fvi.rag.embed import DIM, model_dir, reference_embed

TEXTS = [
    "How does Climate TRACE estimate coal mine methane?",
    "Poland",
    "Reserves-to-production ratio of an underground bituminous mine in Queensland, Australia. " * 6,
]


def test_onnx_matches_numpy_reference(embedder) -> None:  # noqa: ANN001
    got = embedder.embed(TEXTS)
    ref = reference_embed(TEXTS)
    assert got.shape == (3, DIM)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.abs(got - ref).max()) < 1e-5
    # batching and padding change nothing
    one = np.vstack([embedder.embed([t]) for t in TEXTS])
    assert float(np.abs(got - one).max()) < 1e-5
    # and the vectors carry meaning: the methane question is nearer a methane sentence than Poland
    q, m = embedder.embed(["coal mine methane estimate", "methane emissions from coal mining"])
    assert q @ m > q @ got[1]


_SCRIPT = """
import json, sys
from sentence_transformers import SentenceTransformer
m = SentenceTransformer(sys.argv[1], device="cpu")
print(json.dumps(m.encode(json.loads(sys.stdin.read()), normalize_embeddings=True).tolist()))
"""


def test_onnx_matches_sentence_transformers(embedder) -> None:  # noqa: ANN001
    python = os.environ.get("FVI_TORCH_PYTHON")
    if python is None:
        pytest.importorskip("sentence_transformers")
        import sys

        python = sys.executable
    out = subprocess.run([python, "-c", _SCRIPT, str(model_dir())], input=json.dumps(TEXTS), capture_output=True,
                         text=True, timeout=300, check=True)
    ref = np.array(json.loads(out.stdout.strip().splitlines()[-1]), dtype=np.float32)
    got = embedder.embed(TEXTS)
    assert float(np.abs(got - ref).max()) < 1e-6
