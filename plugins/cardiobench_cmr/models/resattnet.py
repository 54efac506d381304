"""Residual Attention Network-56 (Wang et al., CVPR 2017) with p = 1, t = 2,
r = 1: three attention stages (with 3, 2 and 1 mask-branch poolings) between
pre-activation bottleneck units; the classification baseline of both DCM
papers. Written here: pytorchcv's ``resattnet56`` fails at 128 x 128 (its
final 7 x 7 pooling); ours has exactly its parameter count."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench_cmr.models.blocks import PreActBottleneck
from cardiobench_cmr.models.heads import Classifier


class AttentionStage(nn.Module):
    """p pre units, a trunk of t units, a bottom-up top-down soft mask of
    ``levels`` poolings (r units after each, 2r at the bottom, a skip unit at
    each level but the last), p post units; output (1 + M) * T (Eq. 3)."""

    def __init__(self, channels: int, levels: int, p: int = 1, t: int = 2, r: int = 1):
        super().__init__()
        unit = lambda: PreActBottleneck(channels, channels)  # noqa: E731 - a factory
        self.pre = nn.Sequential(*[unit() for _ in range(p)])
        self.trunk = nn.Sequential(*[unit() for _ in range(t)])
        self.down = nn.ModuleList(nn.Sequential(*[unit() for _ in range(r * (2 if k == levels - 1 else 1))]) for k in range(levels))
        self.skips = nn.ModuleList(unit() for _ in range(levels - 1))
        self.up = nn.ModuleList(nn.Sequential(*[unit() for _ in range(r)]) for _ in range(levels - 1))
        self.mask_out = nn.Sequential(
            nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1, bias=False), nn.Sigmoid(),
        )
        self.post = nn.Sequential(*[unit() for _ in range(p)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre(x)
        trunk = self.trunk(x)
        mask, skips, sizes = x, [], []
        for k, down in enumerate(self.down):
            sizes.append(mask.shape[-2:])
            mask = down(F.max_pool2d(mask, 3, 2, 1))
            if k < len(self.skips):
                skips.append(self.skips[k](mask))
        for k in reversed(range(len(self.up))):
            mask = self.up[k](F.interpolate(mask, size=sizes[k + 1], mode="bilinear", align_corners=False) + skips[k])
        mask = self.mask_out(F.interpolate(mask, size=sizes[0], mode="bilinear", align_corners=False) + trunk)
        return self.post((1 + mask) * trunk)


class ResAttNetFeatures(nn.Module):
    def __init__(self, in_channels: int = 1, width: int = 64):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(in_channels, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        self.body = nn.Sequential(
            PreActBottleneck(w, 4 * w), AttentionStage(4 * w, 3),
            PreActBottleneck(4 * w, 8 * w, 2), AttentionStage(8 * w, 2),
            PreActBottleneck(8 * w, 16 * w, 2), AttentionStage(16 * w, 1),
            PreActBottleneck(16 * w, 32 * w, 2), PreActBottleneck(32 * w, 32 * w), PreActBottleneck(32 * w, 32 * w),
            nn.BatchNorm2d(32 * w), nn.ReLU(inplace=True),
        )
        self.out_channels = 32 * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.stem(x))


def resattnet56(width: int = 64, classes: int = 2) -> Classifier:
    features = ResAttNetFeatures(1, width)
    return Classifier(features, features.out_channels, classes)
