"""Runs tests/kernels/triton_cases.py: compiled on a GPU, interpreted by Triton
(TRITON_INTERPRET=1, set before triton is imported) everywhere else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cardiobench.kernels import excite, triton_available
from tests.conftest import REPO

CASES = Path(__file__).with_name("triton_cases.py")


@pytest.mark.skipif(not triton_available(), reason="Triton is not installed")
def test_triton_kernels():
    env = dict(os.environ)
    if not torch.cuda.is_available():
        env["TRITON_INTERPRET"] = "1"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CASES)], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def test_triton_backend_refuses_cpu_tensors_without_the_interpreter(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        excite(torch.ones(1, 1, 1, 2, 2), torch.ones(1, 1, 1), backend="triton")
