"""Sononet (Baumgartner et al., IEEE TMI 36(11), 2017) as AG-Sononet's
baseline (Schlemper et al., MIDL 2018, section 2 and "Implementation
Details"): a VGG-style feature extractor of five stages with [3, 3, 3, 2, 2]
convolutions, n, 2n, 4n, 8n, 8n channels and max pooling between stages,
then the adaptation module (1x1 convolutions to 4n and to the C classes,
global average pooling).

Layer widths, biases and initialisation follow the authors' implementation
(ozan-oktay/Attention-Gated-Networks, ``models/networks/sononet.py``,
``sononet2``): every convolution has a bias, batch norm follows every
convolution, convolutions are Kaiming-normal (fan-in) initialised and batch
norm scales drawn from N(1, 0.02).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

CONVS_PER_STAGE = (3, 3, 3, 2, 2)


def conv_bn_relu(cin: int, cout: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Stage(nn.Sequential):
    """``n`` 3x3 convolutions, each with batch norm and ReLU."""

    def __init__(self, cin: int, cout: int, n: int):
        super().__init__(*(conv_bn_relu(cin if i == 0 else cout, cout) for i in range(n)))


def widths(n: int) -> tuple[int, int, int, int, int]:
    """Channels of the five stages for initial width ``n``."""
    return n, 2 * n, 4 * n, 8 * n, 8 * n


class Features(nn.Module):
    """The feature extractor; returns the outputs of stages 3, 4 and 5 (the
    layers AG-Sononet gates and the coarsest, gating features)."""

    def __init__(self, n: int, in_channels: int = 1):
        super().__init__()
        c = widths(n)
        cins = (in_channels, *c[:4])
        self.stages = nn.ModuleList(Stage(cin, cout, k) for cin, cout, k in zip(cins, c, CONVS_PER_STAGE))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x if i == 0 else F.max_pool2d(x, 2))
            outs.append(x)
        return outs[2:]


def init_reference(module: nn.Module) -> None:
    """The authors' initialisation: Kaiming-normal (fan-in) convolutions, batch
    norm weight N(1, 0.02) and bias 0; linear layers keep PyTorch's default."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class ClassifierMixin:
    """Cross-entropy loss and softmax scores for one logits tensor."""

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return F.cross_entropy(outputs, batch["target"])

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(outputs.float(), dim=1)


class Sononet(ClassifierMixin, nn.Module):
    """Sononet-n: features, adaptation module, global average pooling."""

    def __init__(self, n: int, n_classes: int, in_channels: int = 1):
        super().__init__()
        c = widths(n)
        self.features = Features(n, in_channels)
        self.adaptation = nn.Sequential(conv_bn_relu(c[4], c[2], 1), nn.Conv2d(c[2], n_classes, 1), nn.BatchNorm2d(n_classes))
        init_reference(self)

    def class_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.adaptation(self.features(x)[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.class_maps(x).mean(dim=(2, 3))

    def cam(self, x: torch.Tensor) -> torch.Tensor:
        """The predicted class's map before pooling (B, h, w)."""
        maps = self.class_maps(x)
        return maps.gather(1, maps.mean(dim=(2, 3)).argmax(1)[:, None, None, None].expand(-1, 1, *maps.shape[2:]))[:, 0]
