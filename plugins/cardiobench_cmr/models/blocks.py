"""Building blocks shared by the CMR models: convolution units, residual
units and the residual attention module (Wang et al., CVPR 2017, Eq. 1 of
both DCM papers: H = (1 + M(x)) * T(x))."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_unit(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """Convolution, batch norm, ReLU (paper 1, section 4.2: "Batch normalization
    and ReLU activation are attached to each convolution")."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class ResidualUnit(nn.Module):
    """Two 3x3 convolutions and an identity (or 1x1 projection) shortcut,
    a = g(z + x) (paper 1, Eq. 2; He et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Identity() if c_in == c_out and stride == 1 else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


class PreActBottleneck(nn.Module):
    """The residual unit of the Residual Attention Network: pre-activation
    bottleneck 1x1 - 3x3 - 1x1 with 4x expansion (He et al., ECCV 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        mid = c_out // 4
        self.pre = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(inplace=True))
        self.body = nn.Sequential(
            nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, c_out, 1, bias=False),
        )
        self.shortcut = None if c_in == c_out and stride == 1 else nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre(x)
        return self.body(pre) + (x if self.shortcut is None else self.shortcut(pre))


class DCMAttentionModule(nn.Module):
    """The attention module of both DCM papers (paper 1, section 3.1.2; ACNet,
    section II): a trunk of ``trunk_depth`` 3x3 convolutions T(x) and a soft
    mask M(x) from an encoder of two 1x1 convolutions (each after a 2x2 max
    pooling) and a decoder of two 7x7 deconvolutions (each doubling the size)
    ending in a sigmoid; output (1 + M) * T (Eq. 1). Paper 1 fixes the depths
    and kernels; the pooling, strides and the 1x1 convolution before the
    sigmoid are ours (its figure only)."""

    def __init__(self, channels: int, trunk_depth: int = 4):
        super().__init__()
        self.trunk = nn.Sequential(*[conv_unit(channels, channels) for _ in range(trunk_depth)])
        self.encoder = nn.Sequential(nn.MaxPool2d(2, ceil_mode=True), conv_unit(channels, channels, 1), nn.MaxPool2d(2, ceil_mode=True), conv_unit(channels, channels, 1))
        self.decoder = nn.ModuleList(
            [
                nn.Sequential(nn.ConvTranspose2d(channels, channels, 7, 2, 3, output_padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
                for _ in range(2)
            ]
        )
        self.mask_out = nn.Conv2d(channels, channels, 1)
        self.last_mask: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        trunk = self.trunk(x)
        mask = self.encoder(x)
        for up in self.decoder:
            mask = up(mask)
        mask = torch.sigmoid(self.mask_out(F.interpolate(mask, size=x.shape[-2:], mode="bilinear", align_corners=False) if mask.shape[-2:] != x.shape[-2:] else mask))
        self.last_mask = mask.detach()
        return (1 + mask) * trunk
