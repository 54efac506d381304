"""Float64 references written plainly from the equations, loops where it helps.

tca_pool_diff: STCA paper Eq. 1 before the convolutions; excite: Eq. 2;
attention_gate: AG-Sononet Eq. 2 with grid (bilinearly upsampled) gating.
"""

from __future__ import annotations

import math

import torch

EPS_MASK = 1e-6
EPS_RANGE = 1e-12


def tca_pool_diff(x: torch.Tensor, kernel_size: int = 3, mask: torch.Tensor | None = None) -> torch.Tensor:
    x = x.double()
    B, C, T, H, W = x.shape
    r = kernel_size // 2
    out = torch.zeros(B, C, T, dtype=torch.float64)
    for t in range(T):
        window = x[:, :, max(0, t - r) : min(T, t + r + 1)]  # only real frames
        local_max = window.max(dim=2).values
        local_mean = window.sum(dim=2) / window.shape[2]
        if mask is None:
            out[:, :, t] = local_max.mean(dim=(2, 3)) - local_mean.mean(dim=(2, 3))
        else:
            m = mask[:, 0, t if mask.shape[2] > 1 else 0].double()[:, None]  # (B, 1, H, W)
            total = m.sum(dim=(2, 3)).clamp_min(EPS_MASK)
            out[:, :, t] = (m * local_max).sum(dim=(2, 3)) / total - (m * local_mean).sum(dim=(2, 3)) / total
    return out


def excite(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    return x.double() * e.double()[..., None, None] + x.double()


def bilinear(q: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """Bilinear upsampling with half-pixel centres (align_corners=False)."""
    B, K, h, w = q.shape
    out = torch.zeros(B, K, H, W, dtype=torch.float64)
    for i in range(H):
        sy = max((i + 0.5) * h / H - 0.5, 0.0)
        y0 = int(math.floor(sy))
        y1, ly = min(y0 + 1, h - 1), sy - y0
        for j in range(W):
            sx = max((j + 0.5) * w / W - 0.5, 0.0)
            x0 = int(math.floor(sx))
            x1, lx = min(x0 + 1, w - 1), sx - x0
            out[:, :, i, j] = (1 - ly) * ((1 - lx) * q[:, :, y0, x0] + lx * q[:, :, y0, x1]) + ly * ((1 - lx) * q[:, :, y1, x0] + lx * q[:, :, y1, x1])
    return out


def attention_gate(f, g, w_f, w_g, b_g, psi, b_psi, norm):  # noqa: ANN001, ANN201
    f, g, w_f, w_g, b_g, psi, b_psi = (t.double() for t in (f, g, w_f, w_g, b_g, psi, b_psi))
    B, C, H, W = f.shape
    theta = torch.einsum("kc,bchw->bkhw", w_f, f)
    phi = bilinear(torch.einsum("kc,bchw->bkhw", w_g, g), H, W)
    c = torch.einsum("k,bkhw->bhw", psi, torch.relu(theta + phi + b_g[None, :, None, None])) + b_psi.reshape(())
    flat = c.reshape(B, -1)
    if norm == "sigmoid":
        alpha = 1 / (1 + torch.exp(-flat))
    elif norm == "softmax":
        alpha = torch.exp(flat - flat.max(dim=1, keepdim=True).values)
        alpha = alpha / alpha.sum(dim=1, keepdim=True)
    else:
        shifted = flat - flat.min(dim=1, keepdim=True).values
        alpha = shifted / shifted.sum(dim=1, keepdim=True).clamp_min(EPS_RANGE)
    alpha = alpha.reshape(B, 1, H, W)
    pooled = (alpha * f).sum(dim=(2, 3))
    return pooled, alpha
