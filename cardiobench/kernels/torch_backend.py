"""Vectorised torch implementations (any device) of the kernels' forward and
backward passes. No pooled (B, C, T, H, W) tensor is kept for backward and no
argmax indices are stored: backward recomputes the window maxima from ``x``.

Reductions run in float32 for half-precision inputs and in the input's own
precision otherwise.
"""

from __future__ import annotations

import torch

from cardiobench.kernels import _attention

MASK_EPS = 1e-6


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype


def window_counts(t: int, kernel_size: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Number of real frames in each temporal window (edges hold fewer)."""
    r = kernel_size // 2
    idx = torch.arange(t, device=device)
    return ((idx + r).clamp(max=t - 1) - (idx - r).clamp(min=0) + 1).to(dtype)


def window_max(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Temporal max over windows of ``kernel_size`` frames, stride 1, length kept;
    padding is ignored (edge windows hold fewer frames)."""
    out = x.clone()
    for o in range(1, kernel_size // 2 + 1):
        torch.maximum(out[:, :, o:], x[:, :, :-o], out=out[:, :, o:])
        torch.maximum(out[:, :, :-o], x[:, :, o:], out=out[:, :, :-o])
    return out


def mask_totals(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """max(sum of the mask over H x W, eps): (B, T or 1), the masked mean's denominator."""
    return mask[:, 0].to(dtype).sum(dim=(2, 3)).clamp_min(MASK_EPS)


def spatial_weights(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """Per-position weights of the spatial mean, (B, T or 1, H, W), or None for a plain mean."""
    if mask is None:
        return None
    return mask[:, 0].to(dtype) / mask_totals(mask, dtype)[..., None, None]


def _spatial_sum(v: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """(B, C, T) weighted spatial sum (or mean when ``w`` is None) of (B, C, T, H, W)."""
    if w is None:
        return v.mean(dim=(3, 4))
    return torch.einsum("bcthw,bthw->bct", v, w.expand(v.shape[0], v.shape[2], *v.shape[3:]))


def _window_sum(v: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Sum over temporal windows of a (B, C, T) tensor, length kept."""
    out = v.clone()
    for o in range(1, kernel_size // 2 + 1):
        out[:, :, o:] += v[:, :, :-o]
        out[:, :, :-o] += v[:, :, o:]
    return out


def tca_pool_diff_forward(x: torch.Tensor, kernel_size: int, mask: torch.Tensor | None) -> torch.Tensor:
    dtype = _compute_dtype(x)
    xs = x.to(dtype)
    w = spatial_weights(mask, dtype)
    counts = window_counts(x.shape[2], kernel_size, x.device, dtype)
    pooled_max = _spatial_sum(window_max(xs, kernel_size), w)
    if w is None or w.shape[1] == 1:  # the spatial weights do not move in time: pool the spatial sums
        pooled_mean = _window_sum(_spatial_sum(xs, w), kernel_size) / counts
    else:
        pooled_mean = torch.zeros_like(pooled_max)
        for o in range(-(kernel_size // 2), kernel_size // 2 + 1):
            lo, hi = max(0, -o), min(x.shape[2], x.shape[2] - o)  # frames t whose window holds t + o
            pooled_mean[:, :, lo:hi] += torch.einsum("bcthw,bthw->bct", xs[:, :, lo + o : hi + o], w[:, lo:hi])
        pooled_mean /= counts
    return (pooled_max - pooled_mean).to(x.dtype)


def tca_pool_diff_backward(x: torch.Tensor, kernel_size: int, mask: torch.Tensor | None, grad: torch.Tensor) -> torch.Tensor:
    """d/dx of the pooling difference: each window's gradient goes to the first
    frame holding its maximum, minus an equal share for every frame of its mean,
    both spread over positions by the spatial weights."""
    dtype = _compute_dtype(x)
    xs, g = x.to(dtype), grad.to(dtype)
    B, C, T, H, W = x.shape
    w = spatial_weights(mask, dtype)
    moving = w is not None and w.shape[1] > 1  # weights differ per window: apply them per window
    counts = window_counts(T, kernel_size, x.device, dtype)
    r = kernel_size // 2
    share = g[..., None, None] * w[:, None] if moving else g[..., None, None]

    maxima = window_max(xs, kernel_size)
    grad_x = torch.zeros_like(xs)
    claimed = torch.zeros(xs.shape, dtype=torch.bool, device=x.device)
    for o in range(-r, r + 1):  # earliest frame first: ties go to the first maximum, as max_pool3d
        lo, hi = max(0, -o), min(T, T - o)
        hit = (xs[:, :, lo + o : hi + o] == maxima[:, :, lo:hi]) & ~claimed[:, :, lo:hi]
        claimed[:, :, lo:hi] |= hit
        grad_x[:, :, lo + o : hi + o] += torch.where(hit, share[:, :, lo:hi], 0.0)
    if moving:
        mean_share = share / counts[:, None, None]
        for o in range(-r, r + 1):
            lo, hi = max(0, -o), min(T, T - o)
            grad_x[:, :, lo + o : hi + o] -= mean_share[:, :, lo:hi]
    else:
        grad_x -= _window_sum(g / counts, kernel_size)[..., None, None]
        grad_x *= w[:, None] if w is not None else 1.0 / (H * W)
    return grad_x.to(x.dtype)


def excite_forward(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    return x * (1 + e)[..., None, None]


def excite_backward(x: torch.Tensor, e: torch.Tensor, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    grad_x = grad * (1 + e)[..., None, None]
    B, C, T = e.shape
    flat_g = grad.reshape(B * C * T, 1, -1)
    flat_x = x.reshape(B * C * T, -1, 1)
    if x.dtype in (torch.float16, torch.bfloat16):
        flat_g, flat_x = flat_g.float(), flat_x.float()
    grad_e = torch.bmm(flat_g, flat_x).view(B, C, T).to(e.dtype)  # sum over H, W without a product tensor
    return grad_x, grad_e


def _scores(f, g, w_f, w_g, b_g, psi, b_psi):  # noqa: ANN001, ANN202 - shared by forward and backward
    theta = _attention.pointwise(f, w_f)
    u = theta + _attention.upsample(_attention.pointwise(g, w_g), tuple(f.shape[-2:])) + b_g[None, :, None, None]
    r = torch.relu(u)
    c = _attention.pointwise(r, psi[None, :]) + b_psi.reshape(())
    return u, r, c


def attention_gate_forward(f, g, w_f, w_g, b_g, psi, b_psi, norm: str):  # noqa: ANN001, ANN201
    _, _, c = _scores(f, g, w_f, w_g, b_g, psi, b_psi)
    alpha = _attention.normalise(c, norm)
    pooled = torch.einsum("bhw,bchw->bc", alpha[:, 0], f)
    return pooled, alpha, c


def attention_gate_backward(f, g, w_f, w_g, b_g, psi, b_psi, norm: str, c, alpha, grad_pooled, grad_alpha):  # noqa: ANN001, ANN201
    """Gradients for (f, g, w_f, w_g, b_g, psi, b_psi), from the formulas of Eq. 2."""
    u, r, _ = _scores(f, g, w_f, w_g, b_g, psi, b_psi)
    dc = _attention.score_grad(c, alpha, f, grad_pooled, grad_alpha, norm)
    du = psi[None, :, None, None] * dc[:, None] * (u > 0)
    grad_f, grad_g, grad_w_f, grad_w_g = _attention.grads_from_du(f, g, w_f, w_g, alpha, grad_pooled, du)
    grad_psi = torch.einsum("bkhw,bhw->k", r, dc)
    return grad_f, grad_g, grad_w_f, grad_w_g, du.sum(dim=(0, 2, 3)), grad_psi, dc.sum().reshape(b_psi.shape)
