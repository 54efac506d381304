"""The torch backend against the float64 references, plus gradcheck."""

from __future__ import annotations

import pytest
import torch

from cardiobench import kernels
from cardiobench.kernels import attention_gate, excite, tca_pool_diff
from tests.kernels.cases import all_cases, gate_inputs


@pytest.mark.parametrize(("check", "args"), [p.values for p in all_cases("torch", "cpu", [torch.float32, torch.float64])], ids=[p.id for p in all_cases("torch", "cpu", [torch.float32, torch.float64])])
def test_against_reference(check, args):
    check(*args)


@pytest.mark.parametrize("mask_mode", ["none", "static", "time"])
def test_tca_pool_diff_gradcheck(mask_mode: str):
    x = torch.randn(2, 3, 5, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = None if mask_mode == "none" else torch.rand(2, 1, 5 if mask_mode == "time" else 1, 4, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda v: tca_pool_diff(v, 3, mask, backend="torch"), (x,))


def test_excite_gradcheck():
    x = torch.randn(2, 3, 4, 3, 5, dtype=torch.float64, requires_grad=True)
    e = torch.rand(2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: excite(a, b, backend="torch"), (x, e))


@pytest.mark.parametrize("norm", kernels.NORMS)
def test_attention_gate_gradcheck(norm: str):
    inputs = [t.requires_grad_(True) for t in gate_inputs(torch.Generator().manual_seed(5), (2, 3, 5, 6, 2, 3, 4, 4))]
    assert torch.autograd.gradcheck(lambda *a: attention_gate(*a, norm, backend="torch"), inputs)


def test_dispatch_and_validation():
    x = torch.randn(1, 2, 3, 4, 5)
    assert kernels._backend(None, x) is kernels.torch_backend
    with pytest.raises(ValueError, match="odd"):
        tca_pool_diff(x, 2)
    with pytest.raises(ValueError, match=r"mask must be \(B, 1, 1 or T, H, W\)"):
        tca_pool_diff(x, 3, torch.ones(1, 1, 2, 4, 5))
    with pytest.raises(ValueError, match="e \\(B, C, T\\)"):
        excite(x, torch.ones(1, 2))
    with pytest.raises(ValueError, match="norm must be one of"):
        attention_gate(*gate_inputs(torch.Generator().manual_seed(0), (1, 2, 4, 4, 2, 2, 2, 3)), "max")
    with pytest.raises(ValueError, match="backend must be one of"):
        excite(x, torch.ones(1, 2, 3), backend="cuda")
