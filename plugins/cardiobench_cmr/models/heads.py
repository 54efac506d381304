"""What the engine trains: a segmenter (mask logits) or a classifier (class
logits) around a network, with the papers' losses.

Paper 1 (section 3.2.1) trains segmentation with the Jaccard distance
(Eq. 3) and states that its baselines used the same settings, so every
segmenter defaults to it (``model.seg_loss: jaccard``; ``bce`` also works).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench.engine.losses import check_segmentation_loss, segmentation_loss

class Segmenter(nn.Module):
    """A network mapping (B, 1, H, W) to (B, 1, H, W) mask logits."""

    def __init__(self, net: nn.Module, seg_loss: str = "jaccard"):
        super().__init__()
        self.net, self.seg_loss = net, check_segmentation_loss(seg_loss)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[:, 0]

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return segmentation_loss(self.seg_loss, outputs, batch["target"])

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(outputs)


class Classifier(nn.Module):
    """``features`` (B, C, h, w) -> global average pooling -> ``fc`` class
    logits, with cross-entropy; its class activation map (Zhou et al. 2016;
    paper 1, Fig. 9) is the predicted class's ``fc`` weights over the features."""

    def __init__(self, features: nn.Module, channels: int, classes: int = 2, dropout: float = 0.0):
        super().__init__()
        self.features = features
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x).mean(dim=(2, 3))))

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return F.cross_entropy(outputs.float(), batch["target"].long())

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(outputs.float(), dim=1)

    def cam(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x)
        return class_activation_map(features, self.fc(features.mean(dim=(2, 3))), self.fc)


def class_activation_map(features: torch.Tensor, logits: torch.Tensor, fc: nn.Linear) -> torch.Tensor:
    """(B, h, w): the predicted class's ``fc`` weights over pooled-then-classified ``features`` (B, C, h, w)."""
    return torch.einsum("bc,bchw->bhw", fc.weight[logits.argmax(1)], features)
