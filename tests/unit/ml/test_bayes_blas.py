"""PyTensor is told which BLAS to link before it loads: no "could not link to a BLAS" warning is printed."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import warnings
warnings.simplefilter("error")  # any warning fails the child
from fvi.ml.bayes import _quiet_blas
_quiet_blas()
import numpy as np
import pytensor
import pytensor.tensor as pt
x = pt.dmatrix("x")
f = pytensor.function([x], x.dot(x))
assert np.allclose(f(np.eye(3) * 2), np.eye(3) * 4)
print("ldflags=" + pytensor.config.blas__ldflags)
"""


def test_bayes_sets_pytensor_blas_flags_so_nothing_warns(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTENSOR_FLAGS"}
    env["PYTENSOR_FLAGS"] = f"base_compiledir={tmp_path}"
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "could not link to a BLAS" not in out.stderr
    assert "ldflags=" in out.stdout
