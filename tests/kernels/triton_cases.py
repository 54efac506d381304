"""The triton backend against the references and against the torch backend's
gradients. Collected only by tests/kernels/test_triton_backend.py, which runs
this file in a subprocess with TRITON_INTERPRET=1 on machines without a GPU.

Every output buffer the backend allocates is poisoned with NaN first, so an
element a kernel fails to write fails the test.
"""

from __future__ import annotations

import pytest
import torch

from tests.kernels.cases import all_cases, gate_inputs

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
DTYPES = [torch.float32, torch.bfloat16] if DEVICE == "cuda" else [torch.float32]
CASES = all_cases("triton", DEVICE, DTYPES, interpreted=DEVICE == "cpu")


@pytest.fixture(autouse=True)
def poisoned_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    from cardiobench.kernels import triton_backend

    def poisoned(shape, like, dtype=None):  # noqa: ANN001, ANN202
        return torch.full(shape, float("nan"), dtype=dtype or like.dtype, device=like.device)

    monkeypatch.setattr(triton_backend, "_alloc", poisoned)


@pytest.mark.parametrize(("check", "args"), [p.values for p in CASES], ids=[p.id for p in CASES])
def test_against_reference(check, args):
    check(*args)


@pytest.mark.parametrize("norm", ["sigmoid", "softmax", "range"])
def test_backward_matches_the_torch_backend(norm: str):
    from cardiobench.kernels import attention_gate, excite, tca_pool_diff

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 7, 6, 5, 9, generator=gen)
    mask = (torch.rand(2, 1, 6, 5, 9, generator=gen) > 0.4).float()
    e = torch.rand(2, 7, 6, generator=gen)
    gate = gate_inputs(gen, (2, 6, 8, 7, 5, 4, 3, 9))
    results = {}
    for backend in ("torch", "triton"):
        xs = x.to(DEVICE).requires_grad_(True)
        es = e.to(DEVICE).requires_grad_(True)
        gs = [t.float().to(DEVICE).requires_grad_(True) for t in gate]
        loss = (tca_pool_diff(xs, 3, mask.to(DEVICE), backend=backend) ** 2).sum() + excite(xs, es, backend=backend).sin().sum()
        pooled, alpha = attention_gate(*gs, norm, backend=backend)
        loss = loss + (pooled**2).sum() + (alpha * torch.arange(alpha.numel(), device=DEVICE).view_as(alpha)).sum()
        results[backend] = torch.autograd.grad(loss, [xs, es, *gs])
    for got, want in zip(results["triton"], results["torch"]):
        torch.testing.assert_close(got, want, rtol=2e-4, atol=2e-5)
