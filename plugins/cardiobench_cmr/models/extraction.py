"""The extraction path both DCM papers share (paper 1, section 3.1.1; ACNet,
section III.A): seven convolutions, then three residual units.

Channel counts and where the resolution halves are only in the papers'
figures; ours: widths c, c, 2c, 2c, 4c, 4c, 8c with a 2x2 max pooling after
the 2nd, 4th and 6th convolution and after the 7th, then residual units of
16c (the first projects). That gives the four scales a four-step recovery
path needs (paper 1, section 3.1.3). Paper 1 uses 1x1 kernels (``kernel=1``);
ACNet's are 3x3 ("to increase the receptive field rapidly").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench_cmr.models.blocks import ResidualUnit, conv_unit

CONV_WIDTHS = (1, 1, 2, 2, 4, 4, 8)  # multiples of the base width c
POOL_AFTER = (1, 3, 5, 6)  # 0-based convolution indices followed by a 2x2 max pooling


class ExtractionPath(nn.Module):
    """(B, 1, H, W) -> (skips at H, H/2, H/4, H/8 with c, 2c, 4c, 8c channels; encoded (B, 16c, H/16, W/16))."""

    def __init__(self, width: int, kernel: int, in_channels: int = 1):
        super().__init__()
        widths = [width * m for m in CONV_WIDTHS]
        self.convs = nn.ModuleList(conv_unit(c_in, c_out, kernel) for c_in, c_out in zip([in_channels, *widths[:-1]], widths))
        self.residual = nn.Sequential(ResidualUnit(widths[-1], 2 * widths[-1]), ResidualUnit(2 * widths[-1], 2 * widths[-1]), ResidualUnit(2 * widths[-1], 2 * widths[-1]))
        self.out_channels = 2 * widths[-1]
        self.skip_channels = [widths[i] for i in POOL_AFTER]

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        skips = []
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i in POOL_AFTER:
                skips.append(x)
                x = F.max_pool2d(x, 2, ceil_mode=True)
        return skips, self.residual(x)
