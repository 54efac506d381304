"""Losses shared by several plugins."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cardiobench.errors import ConfigError

SEGMENTATION_LOSSES = ("bce", "jaccard")


def jaccard_distance(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Jaccard distance 1 - |G ∩ Y| / |G ∪ Y| of sigmoid(logits) against a
    binary mask (Luo et al. 2019, Eq. 3), per item, averaged over the batch;
    ``eps`` smooths items with empty masks."""
    prob = torch.sigmoid(logits.float()).flatten(1)
    truth = target.float().flatten(1)
    overlap = (prob * truth).sum(1)
    union = prob.sum(1) + truth.sum(1) - overlap
    return (1 - (overlap + eps) / (union + eps)).mean()


def check_segmentation_loss(kind: str) -> str:
    """``kind`` if it names a segmentation loss, else a ConfigError for ``model.seg_loss``."""
    if kind not in SEGMENTATION_LOSSES:
        raise ConfigError(f"model.seg_loss must be one of {', '.join(SEGMENTATION_LOSSES)}, got {kind!r}.")
    return kind


def segmentation_loss(kind: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy or Jaccard distance of mask logits against a binary mask."""
    if kind == "jaccard":
        return jaccard_distance(logits, target)
    return F.binary_cross_entropy_with_logits(logits.float(), target.float())
