"""The multi-task attention encoder-decoder of Luo et al. 2019
(../shared/papers/mtl-dcm-cmr-seg-cls.txt, section 3, Fig. 4): one extraction
path feeding an attention path (classification) and a recovery path
(segmentation), trained with ``seg_weight`` * Jaccard distance + cross-entropy
(Eq. 5; the paper's best weight is 3, Fig. 5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench.engine.losses import jaccard_distance
from cardiobench_cmr.acdc.dataset import CLS_TASK, SEG_TASK
from cardiobench_cmr.models.blocks import DCMAttentionModule
from cardiobench_cmr.models.extraction import ExtractionPath
from cardiobench_cmr.models.heads import class_activation_map


class RecoveryPath(nn.Module):
    """Four 4x4 stride-2 deconvolutions, each halving the channels and summed
    with the extraction path's feature map of that scale (section 3.1.3),
    then a 1x1 convolution to the mask logits."""

    def __init__(self, in_channels: int, skip_channels: list[int]):
        super().__init__()
        channels = [in_channels, *reversed(skip_channels)]
        self.ups = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)) for c_in, c_out in zip(channels[:-1], channels[1:])
        )
        self.out = nn.Conv2d(channels[-1], 1, 1)

    def forward(self, encoded: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        x = encoded
        for up, skip in zip(self.ups, reversed(skips)):
            x = up(x)
            if x.shape[-2:] != skip.shape[-2:]:
                x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = x + skip
        return self.out(x)


class MultiTaskAttentionNet(nn.Module):
    """Outputs ``{"mask": (B, H, W) logits, "logits": (B, 2)}``; ``predict``
    answers the run's task, ``joint_predict`` both tasks."""

    def __init__(self, task: str, width: int = 16, kernel: int = 1, attention_modules: int = 2, trunk_depth: int = 4, seg_weight: float = 3.0, classes: int = 2):
        super().__init__()
        self.task, self.seg_weight = task, seg_weight
        self.extraction = ExtractionPath(width, kernel)
        c = self.extraction.out_channels
        self.attention = nn.Sequential(*[DCMAttentionModule(c, trunk_depth) for _ in range(attention_modules)])
        self.fc = nn.Linear(c, classes)
        self.recovery = RecoveryPath(c, self.extraction.skip_channels)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        skips, encoded = self.extraction(x)
        attended = self.attention(encoded)
        return {"mask": self.recovery(encoded, skips)[:, 0], "logits": self.fc(attended.mean(dim=(2, 3))), "features": attended}

    def loss(self, outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any]) -> torch.Tensor:
        targets = batch["targets"]
        return self.seg_weight * jaccard_distance(outputs["mask"], targets[SEG_TASK]) + F.cross_entropy(outputs["logits"].float(), targets[CLS_TASK].long())

    def joint_predict(self, outputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {SEG_TASK: torch.sigmoid(outputs["mask"]), CLS_TASK: torch.softmax(outputs["logits"].float(), dim=1)}

    def predict(self, outputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.joint_predict(outputs)[self.task]

    def cam(self, x: torch.Tensor) -> torch.Tensor:
        """Class activation map of the predicted class on the attention path's output (Fig. 9)."""
        outputs = self(x)
        return class_activation_map(outputs["features"], outputs["logits"], self.fc)
