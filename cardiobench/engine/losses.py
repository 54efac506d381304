"""Losses shared by several plugins."""

from __future__ import annotations

import torch


def jaccard_distance(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Jaccard distance 1 - |G ∩ Y| / |G ∪ Y| of sigmoid(logits) against a
    binary mask (Luo et al. 2019, Eq. 3), per item, averaged over the batch;
    ``eps`` smooths items with empty masks."""
    prob = torch.sigmoid(logits.float()).flatten(1)
    truth = target.float().flatten(1)
    overlap = (prob * truth).sum(1)
    union = prob.sum(1) + truth.sum(1) - overlap
    return (1 - (overlap + eps) / (union + eps)).mean()
