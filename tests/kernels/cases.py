"""Kernel checks shared by the torch backend (in-process) and the triton backend
(tests/kernels/triton_cases.py, interpreted on CPU or compiled on GPU).

Inputs are fresh random numbers every run; the seed is in every failure message.
"""

from __future__ import annotations

import random

import pytest
import torch

from cardiobench.kernels import attention_gate, excite, tca_pool_diff
from tests.kernels import reference

TOLERANCES = {torch.float64: (1e-10, 1e-10), torch.float32: (2e-4, 2e-5), torch.bfloat16: (3e-2, 3e-2)}
# odd sizes: T, H, W not powers of two, C not a multiple of any block, B = 1 among them
TCA_SHAPES = [(1, 5, 7, 9, 11), (2, 3, 6, 5, 7), (2, 37, 9, 3, 13), (1, 2, 4, 33, 34)]  # the last spans several blocks
GATE_SHAPES = [  # (B, C, H, W, Cg, h, w, Cint)
    (1, 5, 9, 11, 3, 4, 5, 6),
    (2, 37, 13, 10, 33, 7, 5, 35),
    (2, 4, 6, 6, 4, 6, 6, 3),  # gating signal already at full resolution
]


def fresh_generator() -> tuple[torch.Generator, int]:
    seed = random.randrange(2**31)
    return torch.Generator().manual_seed(seed), seed


def assert_close(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, what: str, seed: int) -> None:
    rtol, atol = TOLERANCES[dtype]
    actual = actual.detach().double().cpu()
    assert torch.isfinite(actual).all(), f"{what}: non-finite output (unwritten element?) seed={seed}"
    scale = expected.abs().max().item() or 1.0
    torch.testing.assert_close(actual, expected.double().cpu(), rtol=rtol, atol=atol * max(1.0, scale), msg=lambda m: f"{what} seed={seed}: {m}")


def random_mask(gen: torch.Generator, B: int, T: int, H: int, W: int, over_time: bool) -> torch.Tensor:
    mask = torch.rand(B, 1, T if over_time else 1, H, W, generator=gen)
    mask[mask < 0.3] = 0.0  # hard zeros as a real dilated mask has
    return mask


def check_tca_forward_backward(backend: str, device: str, dtype: torch.dtype, shape, mask_mode: str, kernel_size: int = 3) -> None:
    gen, seed = fresh_generator()
    B, C, T, H, W = shape
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    mask = None if mask_mode == "none" else random_mask(gen, B, T, H, W, mask_mode == "time")
    upstream = torch.randn(B, C, T, generator=gen, dtype=torch.float64)

    x_ref = x.clone().requires_grad_(True)
    expected = reference.tca_pool_diff(x_ref, kernel_size, mask)
    (expected_grad,) = torch.autograd.grad(expected, x_ref, upstream)

    x_dev = x.to(device, dtype).requires_grad_(True)
    out = tca_pool_diff(x_dev, kernel_size, None if mask is None else mask.to(device, dtype), backend=backend)
    assert out.shape == (B, C, T) and out.dtype == dtype
    (grad,) = torch.autograd.grad(out, x_dev, upstream.to(device, dtype))
    reference_dtype = dtype if dtype != torch.bfloat16 else torch.bfloat16
    expected_rounded = reference.tca_pool_diff(x.to(dtype).double(), kernel_size, None if mask is None else mask.to(dtype).double())
    assert_close(out, expected if dtype != torch.bfloat16 else expected_rounded, reference_dtype, f"tca_pool_diff[{backend},{mask_mode}]", seed)
    if dtype != torch.bfloat16:  # max positions can flip under bf16 rounding
        assert_close(grad, expected_grad, dtype, f"tca_pool_diff grad[{backend},{mask_mode}]", seed)


def check_tca_ties_go_to_the_first_maximum(backend: str, device: str) -> None:
    B, C, T, H, W = 1, 2, 5, 3, 4
    x = torch.zeros(B, C, T, H, W, device=device, requires_grad=True)  # every window is a tie
    upstream = torch.arange(1.0, 1 + B * C * T).view(B, C, T)
    (grad,) = torch.autograd.grad(tca_pool_diff(x, 3, backend=backend), x, upstream.to(device))
    counts = torch.tensor([2.0, 3, 3, 3, 2])
    expected = torch.zeros(B, C, T)
    for t in range(T):
        expected[:, :, max(0, t - 1)] += upstream[:, :, t]  # the window's first frame takes the max gradient
        for s in range(max(0, t - 1), min(T, t + 2)):
            expected[:, :, s] -= upstream[:, :, t] / counts[t]
    assert_close(grad, (expected / (H * W))[..., None, None].expand(B, C, T, H, W), torch.float32, f"ties[{backend}]", 0)


def check_excite(backend: str, device: str, dtype: torch.dtype, shape) -> None:
    gen, seed = fresh_generator()
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    e = torch.rand(shape[:3], generator=gen, dtype=torch.float64)
    upstream = torch.randn(shape, generator=gen, dtype=torch.float64)
    x_ref, e_ref = x.clone().requires_grad_(True), e.clone().requires_grad_(True)
    expected = reference.excite(x_ref, e_ref)
    expected_grads = torch.autograd.grad(expected, (x_ref, e_ref), upstream)
    x_dev, e_dev = x.to(device, dtype).requires_grad_(True), e.to(device, dtype).requires_grad_(True)
    out = excite(x_dev, e_dev, backend=backend)
    grads = torch.autograd.grad(out, (x_dev, e_dev), upstream.to(device, dtype))
    if dtype == torch.bfloat16:
        expected = reference.excite(x.to(dtype), e.to(dtype))
    assert_close(out, expected, dtype, f"excite[{backend}]", seed)
    if dtype != torch.bfloat16:
        assert_close(grads[0], expected_grads[0], dtype, f"excite grad x[{backend}]", seed)
        assert_close(grads[1], expected_grads[1], dtype, f"excite grad e[{backend}]", seed)


def gate_inputs(gen: torch.Generator, shape) -> list[torch.Tensor]:
    B, C, H, W, Cg, h, w, Cint = shape
    return [
        torch.randn(B, C, H, W, generator=gen, dtype=torch.float64),
        torch.randn(B, Cg, h, w, generator=gen, dtype=torch.float64),
        torch.randn(Cint, C, generator=gen, dtype=torch.float64) / C**0.5,
        torch.randn(Cint, Cg, generator=gen, dtype=torch.float64) / Cg**0.5,
        torch.randn(Cint, generator=gen, dtype=torch.float64) * 0.1,
        torch.randn(Cint, generator=gen, dtype=torch.float64) / Cint**0.5,
        torch.randn(1, generator=gen, dtype=torch.float64) * 0.1,
    ]


def check_attention_gate(backend: str, device: str, dtype: torch.dtype, shape, norm: str) -> None:
    gen, seed = fresh_generator()
    inputs = gate_inputs(gen, shape)
    up_pooled = torch.randn(shape[0], shape[1], generator=gen, dtype=torch.float64)
    up_alpha = torch.randn(shape[0], 1, shape[2], shape[3], generator=gen, dtype=torch.float64)

    leaves = [t.clone().requires_grad_(True) for t in inputs]
    pooled_ref, alpha_ref = reference.attention_gate(*leaves, norm)
    expected_grads = torch.autograd.grad((pooled_ref, alpha_ref), leaves, (up_pooled, up_alpha))

    dev = [t.to(device, dtype).requires_grad_(True) for t in inputs]
    pooled, alpha = attention_gate(*dev, norm, backend=backend)
    assert pooled.shape == shape[:2] and alpha.shape == (shape[0], 1, shape[2], shape[3])
    grads = torch.autograd.grad((pooled, alpha), dev, (up_pooled.to(device, dtype), up_alpha.to(device, dtype)))
    if dtype == torch.bfloat16:
        pooled_ref, alpha_ref = reference.attention_gate(*(t.to(dtype) for t in inputs), norm)
    assert_close(pooled, pooled_ref, dtype, f"gate pooled[{backend},{norm}]", seed)
    assert_close(alpha, alpha_ref, dtype, f"gate alpha[{backend},{norm}]", seed)
    if dtype != torch.bfloat16:
        for name, got, want in zip(("f", "g", "w_f", "w_g", "b_g", "psi", "b_psi"), grads, expected_grads):
            assert_close(got, want, dtype, f"gate grad {name}[{backend},{norm}]", seed)


def all_cases(backend: str, device: str, dtypes: list[torch.dtype], interpreted: bool = False) -> list:
    """pytest params (function, args) for one backend. ``interpreted`` (Triton's
    CPU interpreter, about 20 s per mask mode at the 37-channel shape) checks that
    shape with the time-varying mask only, the mode that reads every input."""
    params = []
    for dtype in dtypes:
        for shape in TCA_SHAPES:
            modes = ("time",) if interpreted and shape[1] > 16 else ("none", "static", "time")
            for mask_mode in modes:
                params.append(pytest.param(check_tca_forward_backward, (backend, device, dtype, shape, mask_mode), id=f"tca-{dtype}-{shape}-{mask_mode}"))
            params.append(pytest.param(check_excite, (backend, device, dtype, shape), id=f"excite-{dtype}-{shape}"))
        for shape in GATE_SHAPES:
            for norm in ("sigmoid", "softmax", "range"):
                params.append(pytest.param(check_attention_gate, (backend, device, dtype, shape, norm), id=f"gate-{dtype}-{shape}-{norm}"))
    params.append(pytest.param(check_tca_forward_backward, (backend, device, dtypes[0], (1, 4, 9, 5, 3), "time", 5), id="tca-kernel5"))
    params.append(pytest.param(check_tca_ties_go_to_the_first_maximum, (backend, device), id="tca-ties"))
    return params
