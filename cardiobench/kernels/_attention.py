"""Pieces of the attention gate shared by both backends: the normalisations of
the compatibility scores and their adjoints, and bilinear upsampling's adjoint.

Normalisations over the H x W positions of each image (AG-Sononet section 2):
``sigmoid`` (element-wise), ``softmax``, and ``range`` (subtract the minimum,
divide by the sum, which the paper prefers; the sum is floored at ``EPS``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NORMS = ("sigmoid", "softmax", "range")
EPS = 1e-12


def normalise(c: torch.Tensor, norm: str) -> torch.Tensor:
    """alpha from scores ``c`` of shape (B, 1, H, W)."""
    flat = c.flatten(1)
    if norm == "sigmoid":
        alpha = torch.sigmoid(flat)
    elif norm == "softmax":
        alpha = torch.softmax(flat, dim=1)
    else:
        shifted = flat - flat.min(dim=1, keepdim=True).values
        alpha = shifted / shifted.sum(dim=1, keepdim=True).clamp_min(EPS)
    return alpha.view_as(c)


def normalise_backward(c: torch.Tensor, alpha: torch.Tensor, grad_alpha: torch.Tensor, norm: str) -> torch.Tensor:
    """d(loss)/dc given d(loss)/d(alpha), for (B, 1, H, W) tensors."""
    a, g = alpha.flatten(1), grad_alpha.flatten(1)
    if norm == "sigmoid":
        grad = g * a * (1 - a)
    elif norm == "softmax":
        grad = a * (g - (g * a).sum(dim=1, keepdim=True))
    else:
        flat = c.flatten(1)
        low = flat.min(dim=1, keepdim=True)
        total = (flat - low.values).sum(dim=1, keepdim=True)
        grad_shifted = torch.where(total > EPS, (g - (g * a).sum(dim=1, keepdim=True)) / total.clamp_min(EPS), g / EPS)
        grad = grad_shifted.clone()
        grad.scatter_add_(1, low.indices, -grad_shifted.sum(dim=1, keepdim=True))  # the minimum is subtracted
    return grad.view_as(c)


def pointwise(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """1x1 convolution ``weight`` (Cout, Cin) of (B, Cin, H, W)."""
    return F.conv2d(x, weight[..., None, None])


def upsample(q: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear upsampling of the gating signal (align_corners=False, as F.interpolate)."""
    if tuple(q.shape[-2:]) == tuple(size):
        return q
    return F.interpolate(q, size=size, mode="bilinear", align_corners=False)


def upsample_backward(grad: torch.Tensor, in_size: tuple[int, int]) -> torch.Tensor:
    """Adjoint of :func:`upsample`: the gradient on the coarse grid."""
    if tuple(grad.shape[-2:]) == tuple(in_size):
        return grad
    with torch.enable_grad():
        probe = torch.zeros(grad.shape[:2] + tuple(in_size), dtype=grad.dtype, device=grad.device, requires_grad=True)
        (adjoint,) = torch.autograd.grad(upsample(probe, tuple(grad.shape[-2:])), probe, grad)
    return adjoint


def score_grad(c: torch.Tensor, alpha: torch.Tensor, f: torch.Tensor, grad_pooled: torch.Tensor, grad_alpha: torch.Tensor | None, norm: str) -> torch.Tensor:
    """d(loss)/dc (B, H, W): pooled = sum alpha f feeds alpha's gradient, plus any
    gradient arriving on alpha itself."""
    d_alpha = torch.einsum("bc,bchw->bhw", grad_pooled, f)[:, None]
    if grad_alpha is not None:
        d_alpha = d_alpha + grad_alpha
    return normalise_backward(c, alpha, d_alpha, norm)[:, 0]


def grads_from_du(
    f: torch.Tensor, g: torch.Tensor, w_f: torch.Tensor, w_g: torch.Tensor, alpha: torch.Tensor, grad_pooled: torch.Tensor, du: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(grad f, grad g, grad w_f, grad w_g) given du = d(loss)/d(theta + phi + b_g)."""
    grad_w_f = torch.einsum("bkhw,bchw->kc", du, f)
    grad_f = alpha * grad_pooled[..., None, None] + pointwise(du, w_f.t())
    dq = upsample_backward(du, tuple(g.shape[-2:]))
    return grad_f, pointwise(dq, w_g.t()), grad_w_f, torch.einsum("bkhw,bchw->kc", dq, g)
