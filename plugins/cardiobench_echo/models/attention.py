"""Channel attention modules placed after each R(2+1)D-18 stage: the paper's
TCA and S-TCA, and the SE and ME baselines of its Table 3 (appendix 7.4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench.kernels import excite, tca_pool_diff


class TemporalChannelAttention(nn.Module):
    """TCA (section 2.1, Eq. 1-2): E = sigmoid(W2 * ReLU(W1 * (mean_hw maxpool_t X
    - mean_hw meanpool_t X))), X' = X * E + X. Local pooling over ``kernel_size``
    frames (stride 1, length kept); W1, W2 are 1x1 Conv1d with reduction r.

    Given ``mask`` (B, 1, 1 or T, H, W), the spatial means become masked means:
    the S-TCA of section 2.2.1, which conceals positions outside the LV.
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 3):
        super().__init__()
        self.kernel_size = kernel_size
        self.reduce = nn.Conv1d(channels, max(1, channels // reduction), 1)
        self.expand = nn.Conv1d(max(1, channels // reduction), channels, 1)

    def weights(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """E of Eq. 1, (B, C, T)."""
        return torch.sigmoid(self.expand(torch.relu(self.reduce(tca_pool_diff(x, self.kernel_size, mask)))))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return excite(x, self.weights(x, mask))


def lv_attention_mask(ed_logits: torch.Tensor, size: tuple[int, int], dilation: int, hard: bool) -> torch.Tensor:
    """S-TCA's mask (section 2.2.1): the predicted ED left ventricle at the
    feature map's resolution, dilated by max-pooling, as (B, 1, 1, h, w).

    A feature cell takes the highest probability of the pixels it covers, so a
    small ventricle does not vanish when the mask is brought down to the
    feature resolution. ``hard`` thresholds at 0.5 before dilation; otherwise
    the probabilities themselves weight the positions. No gradient flows
    through the mask.
    """
    prob = torch.sigmoid(ed_logits.detach().float())[:, None]
    prob = F.adaptive_max_pool2d(prob, size)
    if hard:
        prob = (prob > 0.5).float()
    if dilation > 1:
        prob = F.max_pool2d(prob, dilation, stride=1, padding=dilation // 2)[..., : size[0], : size[1]]
    return prob[:, :, None]


class SqueezeExcitation(nn.Module):
    """SE block (Hu et al., CVPR 2018) on video features: pool over T, H, W,
    FC C -> C/r -> C, sigmoid, rescale the channels (no residual)."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.reduce = nn.Linear(channels, max(1, channels // reduction))
        self.expand = nn.Linear(max(1, channels // reduction), channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(self.expand(torch.relu(self.reduce(x.mean(dim=(2, 3, 4))))))
        return x * s[:, :, None, None, None]


class MotionExcitation(nn.Module):
    """ME module of TEA (Li et al., CVPR 2020, section 3.1): reduce channels by r
    (1x1 conv + BN), motion M(t) = K * X_r(t+1) - X_r(t) with K a channel-wise
    3x3 convolution and M(T) = 0, spatial average pooling, expand (1x1 conv +
    BN), A = 2 sigmoid(.) - 1, X' = X + X * A."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        reduced = max(1, channels // reduction)
        self.reduce = nn.Sequential(nn.Conv3d(channels, reduced, 1, bias=False), nn.BatchNorm3d(reduced))
        self.transform = nn.Conv3d(reduced, reduced, (1, 3, 3), padding=(0, 1, 1), groups=reduced, bias=False)
        self.expand = nn.Sequential(nn.Conv3d(reduced, channels, 1, bias=False), nn.BatchNorm3d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.reduce(x)
        if r.shape[2] > 1:
            motion = F.pad(self.transform(r[:, :, 1:]) - r[:, :, :-1], (0, 0, 0, 0, 0, 1))  # the last frame has no successor
        else:
            motion = torch.zeros_like(r)
        a = 2 * torch.sigmoid(self.expand(motion.mean(dim=(3, 4), keepdim=True))) - 1
        return x + x * a


ATTENTIONS = {"tca": TemporalChannelAttention, "se": SqueezeExcitation, "me": MotionExcitation}
