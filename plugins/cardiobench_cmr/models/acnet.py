"""ACNet (Luo et al., SEKE 2019; ../shared/papers/acnet-dcm-t1-cls.txt,
section III.A, Fig. 2): a down-residual module (seven convolutions, three
residual blocks) and two attention modules, global pooling, a linear
classifier and cross-entropy (Eq. 2)."""

from __future__ import annotations

from torch import nn

from cardiobench_cmr.models.blocks import DCMAttentionModule
from cardiobench_cmr.models.extraction import ExtractionPath
from cardiobench_cmr.models.heads import Classifier


class ACNetFeatures(nn.Module):
    def __init__(self, width: int, kernel: int, trunk_depth: int):
        super().__init__()
        self.down_residual = ExtractionPath(width, kernel)
        c = self.down_residual.out_channels
        self.attention = nn.Sequential(DCMAttentionModule(c, trunk_depth), DCMAttentionModule(c, trunk_depth))
        self.out_channels = c

    def forward(self, x):  # noqa: ANN001, ANN201 - tensor in, tensor out
        return self.attention(self.down_residual(x)[1])


def acnet(width: int = 16, kernel: int = 3, trunk_depth: int = 4, classes: int = 2) -> Classifier:
    features = ACNetFeatures(width, kernel, trunk_depth)
    return Classifier(features, features.out_channels, classes)
