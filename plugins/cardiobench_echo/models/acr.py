"""Anchor-based classification and regression (ACR), STCA paper section 2.3.

M equally spaced anchor intervals cover [low, high] (EF: [0, 100]); each has
length l = (high - low) / M and centre c_m. The label y becomes a class
u = floor((y - low) / l), clamped to M - 1 (Eq. 5), and offsets
v_m = (y - c_m) / l for every interval. Two sibling linear layers on the
globally pooled features give class scores (softmax p) and offsets o.
L_ef = -log p_u + sum_m p_m SmoothL1(o_m - v_m) (Eq. 10-12); the prediction is
c_k + l o_k with k = argmax p, or the expectation sum_m p_m (c_m + l o_m).

Eq. 12 writes L_reg as a function of p and says nothing about stopping its
gradient, so by default it flows (``model.acr_weight_grad: false`` detaches p,
making it a mere weight of the offset errors).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DECODES = ("argmax", "expectation")


class Anchors(nn.Module):
    """The anchor intervals and the label encoding/decoding of Eq. 5."""

    def __init__(self, count: int = 20, low: float = 0.0, high: float = 100.0):
        super().__init__()
        self.count, self.low, self.length = count, low, (high - low) / count
        self.register_buffer("centres", low + (torch.arange(count, dtype=torch.float32) + 0.5) * self.length, persistent=False)

    def encode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(class u (B,), offsets v (B, M)) of labels y (B,)."""
        u = torch.floor((y - self.low) / self.length).long().clamp(0, self.count - 1)
        v = (y[:, None] - self.centres[None, :]) / self.length
        return u, v

    def decode(self, logits: torch.Tensor, offsets: torch.Tensor, mode: str = "argmax") -> torch.Tensor:
        values = self.centres[None, :] + self.length * offsets
        if mode == "expectation":
            return (torch.softmax(logits, dim=1) * values).sum(dim=1)
        if mode != "argmax":
            raise ValueError(f"ACR decode must be one of {DECODES}, got {mode!r}")
        return values.gather(1, logits.argmax(dim=1, keepdim=True)).squeeze(1)

    def loss(self, logits: torch.Tensor, offsets: torch.Tensor, y: torch.Tensor, weight_grad: bool = True) -> torch.Tensor:
        """Mean over the batch of L_cls + L_reg (Eq. 10-12)."""
        u, v = self.encode(y.float())
        cls = F.cross_entropy(logits.float(), u)
        p = torch.softmax(logits.float(), dim=1)
        if not weight_grad:
            p = p.detach()
        reg = (p * F.smooth_l1_loss(offsets.float(), v, reduction="none", beta=1.0)).sum(dim=1).mean()
        return cls + reg


class AnchorHead(nn.Module):
    """Two sibling fully connected layers: class scores and per-anchor offsets."""

    def __init__(self, in_features: int, anchors: Anchors):
        super().__init__()
        self.anchors = anchors
        self.classify = nn.Linear(in_features, anchors.count)
        self.regress = nn.Linear(in_features, anchors.count)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.classify(features), self.regress(features)
