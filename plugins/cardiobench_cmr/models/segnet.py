"""SegNet (Badrinarayanan et al., IEEE TPAMI 39(12), 2017): the 13
convolutions of VGG16 with batch norm as encoder, each 2x2 max pooling's
indices reused by a max-unpooling decoder that mirrors it; the paper 1
segmentation baseline. No well-kept library ships it."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench_cmr.models.blocks import conv_unit

VGG16_STAGES = ((1, 2), (2, 2), (4, 3), (8, 3), (8, 3))  # (width multiple, convolutions) per stage


class SegNet(nn.Module):
    """(B, in_channels, H, W) -> (B, 1, H, W) logits; ``width`` 64 is VGG16's."""

    def __init__(self, width: int = 64, in_channels: int = 1, out_channels: int = 1):
        super().__init__()
        self.encoder = nn.ModuleList()
        c_in = in_channels
        for multiple, n in VGG16_STAGES:
            c = width * multiple
            self.encoder.append(nn.Sequential(*[conv_unit(c_in if i == 0 else c, c) for i in range(n)]))
            c_in = c
        self.decoder = nn.ModuleList()
        outs = [width * m for m, _ in VGG16_STAGES]
        for k in reversed(range(len(VGG16_STAGES))):
            c, n = outs[k], VGG16_STAGES[k][1]
            c_out = outs[k - 1] if k > 0 else width
            self.decoder.append(nn.Sequential(*[conv_unit(c, c if i < n - 1 else c_out) for i in range(n)]))
        self.classifier = nn.Conv2d(width, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = []
        for stage in self.encoder:
            x = stage(x)
            size = x.shape[-2:]
            x, indices = F.max_pool2d(x, 2, 2, return_indices=True)
            pooled.append((indices, size))
        for stage, (indices, size) in zip(self.decoder, reversed(pooled)):
            x = stage(F.max_unpool2d(x, indices, 2, 2, output_size=size))
        return self.classifier(x)
