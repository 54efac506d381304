"""Losses shared by several plugins."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cardiobench.errors import ConfigError

SEGMENTATION_LOSSES = ("bce", "jaccard", "dice", "bce+dice")
SCALAR_LOSSES = ("mse", "l1")


def jaccard_distance(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Jaccard distance 1 - |G ∩ Y| / |G ∪ Y| of sigmoid(logits) against a
    binary mask (Luo et al. 2019, Eq. 3), per item, averaged over the batch;
    ``eps`` smooths items with empty masks."""
    prob = torch.sigmoid(logits.float()).flatten(1)
    truth = target.float().flatten(1)
    overlap = (prob * truth).sum(1)
    union = prob.sum(1) + truth.sum(1) - overlap
    return (1 - (overlap + eps) / (union + eps)).mean()


def dice_distance(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice distance 1 - 2|G ∩ Y| / (|G| + |Y|) of sigmoid(logits)
    against a binary mask (Milletari et al. 2016, V-Net, Eq. 1 without the
    squares), per item, averaged over the batch; ``eps`` smooths empty masks."""
    prob = torch.sigmoid(logits.float()).flatten(1)
    truth = target.float().flatten(1)
    return (1 - (2 * (prob * truth).sum(1) + eps) / (prob.sum(1) + truth.sum(1) + eps)).mean()


def check_segmentation_loss(kind: str, key: str = "model.seg_loss") -> str:
    """``kind`` if it names a segmentation loss, else a ConfigError for config key ``key``."""
    if kind not in SEGMENTATION_LOSSES:
        raise ConfigError(f"{key} must be one of {', '.join(SEGMENTATION_LOSSES)}, got {kind!r}.")
    return kind


def segmentation_loss(kind: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy, Jaccard or Dice distance, or BCE + Dice of mask logits against a binary mask."""
    if kind == "jaccard":
        return jaccard_distance(logits, target)
    if kind == "dice":
        return dice_distance(logits, target)
    bce = F.binary_cross_entropy_with_logits(logits.float(), target.float())
    return bce + dice_distance(logits, target) if kind == "bce+dice" else bce


def check_scalar_loss(kind: str) -> str:
    """``kind`` if it names a scalar loss, else a ConfigError for ``objective.loss``."""
    if kind not in SCALAR_LOSSES:
        raise ConfigError(f"objective.loss must be one of {', '.join(SCALAR_LOSSES)} for a scalar task, got {kind!r}.")
    return kind


def scalar_loss(kind: str, values: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared or absolute error of predicted values against the targets."""
    check_scalar_loss(kind)
    return (F.mse_loss if kind == "mse" else F.l1_loss)(values.float(), target.float())
