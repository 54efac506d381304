"""Hot paths of the attention modules, with a Triton GPU backend and a torch
backend that runs anywhere. These names and signatures are the contract that
plugins and tests rely on; no other implementation of these computations
exists in cardiobench.

``backend=None`` picks ``"triton"`` for CUDA tensors (when Triton imports) and
``"torch"`` otherwise. Triton is imported only when first needed; on CPU it
runs only under ``TRITON_INTERPRET=1`` (how CI tests the kernels).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import torch

from cardiobench.kernels import _attention, torch_backend

BACKENDS = ("torch", "triton")
NORMS = _attention.NORMS


def triton_available() -> bool:
    try:
        importlib.import_module("triton")
    except ImportError:
        return False
    return True


def _backend(name: str | None, *tensors: torch.Tensor) -> ModuleType:
    cuda = all(t.is_cuda for t in tensors if t is not None)
    if name is None:
        name = "triton" if cuda and triton_available() else "torch"
    if name == "torch":
        return torch_backend
    if name != "triton":
        raise ValueError(f"backend must be one of {BACKENDS} or None, got {name!r}")
    if not cuda and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError("the triton backend needs CUDA tensors (or TRITON_INTERPRET=1 to interpret on the CPU)")
    if not triton_available():
        raise ValueError("the triton backend was requested but Triton is not installed")
    return importlib.import_module("cardiobench.kernels.triton_backend")


# ---------------------------------------------------------------- TCA pooling difference
class _TcaPoolDiff(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel_size, mask, impl):  # noqa: ANN001, ANN205
        ctx.save_for_backward(x, mask)
        ctx.kernel_size, ctx.impl = kernel_size, impl
        return impl.tca_pool_diff_forward(x, kernel_size, mask)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        x, mask = ctx.saved_tensors
        return ctx.impl.tca_pool_diff_backward(x, ctx.kernel_size, mask, grad.contiguous()), None, None, None


def tca_pool_diff(x: torch.Tensor, kernel_size: int = 3, mask: torch.Tensor | None = None, backend: str | None = None) -> torch.Tensor:
    """Spatial mean of the temporal max-pool minus spatial mean of the temporal
    mean-pool (STCA paper, Eq. 1, before the convolutions).

    x: (B, C, T, H, W). Windows of ``kernel_size`` (odd) frames, stride 1,
    output length T; the max ignores padding and the mean divides by the
    number of real frames in the window. ``mask`` (B, 1, 1 or T, H, W), values
    in [0, 1], weights the spatial mean as sum(mask * v) / max(sum(mask), eps)
    (S-TCA); it is a constant: no gradient flows into it. Returns (B, C, T).
    """
    if x.dim() != 5:
        raise ValueError(f"x must be (B, C, T, H, W), got shape {tuple(x.shape)}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
    if mask is not None:
        B, _, T, H, W = x.shape
        if mask.dim() != 5 or mask.shape[0] != B or mask.shape[1] != 1 or mask.shape[2] not in (1, T) or tuple(mask.shape[3:]) != (H, W):
            raise ValueError(f"mask must be (B, 1, 1 or T, H, W) = ({B}, 1, 1 or {T}, {H}, {W}), got {tuple(mask.shape)}")
        mask = mask.detach().contiguous()
    impl = _backend(backend, x, mask)
    return _TcaPoolDiff.apply(x.contiguous(), kernel_size, mask, impl)


# ------------------------------------------------------------------------ excitation
class _Excite(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, e, impl):  # noqa: ANN001, ANN205
        ctx.save_for_backward(x, e)
        ctx.impl = impl
        return impl.excite_forward(x, e)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        x, e = ctx.saved_tensors
        grad_x, grad_e = ctx.impl.excite_backward(x, e, grad.contiguous())
        return grad_x, grad_e, None


def excite(x: torch.Tensor, e: torch.Tensor, backend: str | None = None) -> torch.Tensor:
    """``x * (1 + e)`` with e (B, C, T) broadcast over H and W: the residual
    excitation X' = X * E + X of the STCA paper, Eq. 2. x: (B, C, T, H, W)."""
    if x.dim() != 5 or e.shape != x.shape[:3]:
        raise ValueError(f"x must be (B, C, T, H, W) and e (B, C, T); got {tuple(x.shape)} and {tuple(e.shape)}")
    impl = _backend(backend, x, e)
    return _Excite.apply(x.contiguous(), e.contiguous(), impl)


# -------------------------------------------------------------------- attention gate
class _AttentionGate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, f, g, w_f, w_g, b_g, psi, b_psi, norm, impl):  # noqa: ANN001, ANN205
        pooled, alpha, c = impl.attention_gate_forward(f, g, w_f, w_g, b_g, psi, b_psi, norm)
        ctx.save_for_backward(f, g, w_f, w_g, b_g, psi, b_psi, c, alpha)
        ctx.norm, ctx.impl = norm, impl
        return pooled, alpha

    @staticmethod
    def backward(ctx, grad_pooled, grad_alpha):  # noqa: ANN001, ANN205
        f, g, w_f, w_g, b_g, psi, b_psi, c, alpha = ctx.saved_tensors
        if grad_pooled is None:
            grad_pooled = torch.zeros(f.shape[:2], dtype=f.dtype, device=f.device)
        grads = ctx.impl.attention_gate_backward(f, g, w_f, w_g, b_g, psi, b_psi, ctx.norm, c, alpha, grad_pooled.contiguous(), grad_alpha)
        return (*grads, None, None)


def attention_gate(
    f: torch.Tensor,
    g: torch.Tensor,
    w_f: torch.Tensor,
    w_g: torch.Tensor,
    b_g: torch.Tensor | None,
    psi: torch.Tensor,
    b_psi: torch.Tensor,
    norm: str,
    backend: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid attention gate of AG-Sononet (Schlemper et al., MIDL 2018, Eq. 2).

    f (B, C, H, W) local features; g (B, Cg, h, w) gating signal, h <= H,
    w <= W; w_f (Cint, C); w_g (Cint, Cg); b_g (Cint,) or None (no bias, as
    the authors' implementation has); psi (Cint,); b_psi (1,) or scalar.
    theta = w_f f, phi = bilinear upsampling (align_corners=False) of w_g g
    to H x W, c = psi . ReLU(theta + phi + b_g) + b_psi, alpha =
    normalise(c) over H x W with ``norm`` in {"sigmoid", "softmax", "range"},
    pooled = sum over positions of alpha * f. Returns pooled (B, C) and alpha
    (B, 1, H, W).
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if f.dim() != 4 or g.dim() != 4 or f.shape[0] != g.shape[0] or g.shape[2] > f.shape[2] or g.shape[3] > f.shape[3]:
        raise ValueError(f"f must be (B, C, H, W) and g (B, Cg, h, w) with h <= H, w <= W; got {tuple(f.shape)} and {tuple(g.shape)}")
    c_int = w_f.shape[0]
    if b_g is None:
        b_g = w_f.new_zeros(c_int)
    if w_f.shape != (c_int, f.shape[1]) or w_g.shape != (c_int, g.shape[1]) or b_g.shape != (c_int,) or psi.shape != (c_int,) or b_psi.numel() != 1:
        raise ValueError(
            f"gate parameters must be w_f (Cint, {f.shape[1]}), w_g (Cint, {g.shape[1]}), b_g (Cint,), psi (Cint,), b_psi (1,); "
            f"got {tuple(w_f.shape)}, {tuple(w_g.shape)}, {tuple(b_g.shape)}, {tuple(psi.shape)}, {tuple(b_psi.shape)}"
        )
    impl = _backend(backend, f, g)
    tensors = [t.contiguous() for t in (f, g, w_f, w_g, b_g, psi, b_psi.reshape(1))]
    return _AttentionGate.apply(*tensors, norm, impl)
