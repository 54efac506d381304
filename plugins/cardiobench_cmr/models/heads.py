"""What the engine trains: a segmenter (mask logits) or a classifier (class
logits) around a network, with the papers' losses, on the core's task-model
base classes (:mod:`cardiobench.task_models`).

Paper 1 (section 3.2.1) trains segmentation with the Jaccard distance
(Eq. 3) and states that its baselines used the same settings, so every
segmenter defaults to it (``model.seg_loss: jaccard``; ``bce`` also works).
"""

from __future__ import annotations

import torch
from torch import nn

from cardiobench.task_models import ClassifierModel, MaskModel

def Segmenter(net: nn.Module, seg_loss: str = "jaccard") -> MaskModel:  # noqa: N802 - reads like the class it gives
    """A network mapping (B, 1, H, W) to (B, 1, H, W) mask logits, trained with
    ``seg_loss`` (the Jaccard distance by default, paper 1's Eq. 3): the core's
    :class:`~cardiobench.task_models.MaskModel`."""
    return MaskModel(net, seg_loss, loss_key="model.seg_loss")


class Classifier(ClassifierModel):
    """``features`` (B, C, h, w) -> global average pooling -> ``fc`` class
    logits, with the core classifier's cross-entropy and softmax; its class
    activation map (Zhou et al. 2016; paper 1, Fig. 9) is the predicted
    class's ``fc`` weights over the features."""

    def __init__(self, features: nn.Module, channels: int, classes: int = 2, dropout: float = 0.0):
        super().__init__()
        self.features = features
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x).mean(dim=(2, 3))))

    def cam(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x)
        return class_activation_map(features, self.fc(features.mean(dim=(2, 3))), self.fc)


def class_activation_map(features: torch.Tensor, logits: torch.Tensor, fc: nn.Linear) -> torch.Tensor:
    """(B, h, w): the predicted class's ``fc`` weights over pooled-then-classified ``features`` (B, C, h, w)."""
    return torch.einsum("bc,bchw->bhw", fc.weight[logits.argmax(1)], features)
