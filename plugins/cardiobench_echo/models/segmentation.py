"""Left-ventricle segmentation: the DeepLabV3 segmenter that labels frames
(STCA paper section 2.2, Chen et al. 2017) and the semi-supervised segmentation
branch of the STCA model (section 2.2, Eq. 3-4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import segmentation
from torchvision.models.segmentation.deeplabv3 import ASPP

from cardiobench.engine.losses import check_segmentation_loss, segmentation_loss
from cardiobench.errors import ConfigError

DEEPLAB_BACKBONES = {
    "resnet50": segmentation.deeplabv3_resnet50,  # the paper's and EchoNet-Dynamic's
    "mobilenet_v3_large": segmentation.deeplabv3_mobilenet_v3_large,  # lighter, for CPU presets
}


class CentreTapConv2d(nn.Conv2d):
    """The same convolution, computed from its centre tap alone where a
    dilation at least the input's size leaves every other tap reading zero
    padding (DeepLabV3's ASPP rates 12-36 on the 4x4 maps of 32-64 pixel
    frames): identical outputs and gradients (off-centre weights get zero,
    as before), without the multiplications by padding (a MobileNetV3
    DeepLabV3 step at 64x64 on 2 CPU cores: 1.5x). State-dict compatible."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (dh, dw) = self.kernel_size, self.dilation
        centred = kh % 2 == 1 and kw % 2 == 1 and self.stride == (1, 1) and self.padding == (dh * (kh // 2), dw * (kw // 2))
        if centred and self.padding_mode == "zeros" and dh >= x.shape[-2] and dw >= x.shape[-1]:
            return F.conv2d(x, self.weight[:, :, kh // 2 : kh // 2 + 1, kw // 2 : kw // 2 + 1], self.bias, groups=self.groups)
        return super().forward(x)


def swap_conv2d(module: nn.Module, select: Callable[[nn.Conv2d], bool], cls: type[nn.Conv2d]) -> nn.Module:
    """``module`` with each ``nn.Conv2d`` that ``select`` picks rebuilt as ``cls`` (same arguments and weights)."""
    for parent in list(module.modules()):
        for name, conv in list(parent.named_children()):
            if isinstance(conv, nn.Conv2d) and select(conv):
                swapped = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode)
                swapped.load_state_dict(conv.state_dict())
                setattr(parent, name, swapped)
    return module


def centre_tap_dilated_convolutions(module: nn.Module) -> nn.Module:
    """``module`` with each dilated ``nn.Conv2d`` a :class:`CentreTapConv2d` (same weights)."""
    return swap_conv2d(module, lambda conv: type(conv) is nn.Conv2d and max(conv.dilation) > 1, CentreTapConv2d)


class LVSegmenter(nn.Module):
    """torchvision DeepLabV3 with a one-channel head, trained with BCE on the
    traced ED and ES frames (EchoNet-Dynamic's segmentation recipe).

    Batch-norm momentum is PyTorch's default 0.1 throughout: torchvision's
    MobileNetV3 uses 0.01, whose running statistics lag so far behind a short
    CPU schedule that evaluation-mode predictions collapse.
    """

    def __init__(self, backbone: str = "resnet50", in_channels: int = 3, loss: str = "bce"):
        super().__init__()
        if backbone not in DEEPLAB_BACKBONES:
            raise ConfigError(f"model.backbone must be one of {', '.join(DEEPLAB_BACKBONES)}, got {backbone!r}.")
        self.seg_loss = check_segmentation_loss(loss)
        self.net = DEEPLAB_BACKBONES[backbone](weights=None, weights_backbone=None, num_classes=1, aux_loss=False)
        if in_channels != 3:
            _set_input_channels(self.net.backbone, in_channels)
        for module in self.net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = 0.1
        centre_tap_dilated_convolutions(self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)["out"][:, 0]

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return segmentation_loss(self.seg_loss, outputs, batch["target"])

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(outputs)


def _set_input_channels(backbone: nn.Module, channels: int) -> None:
    """Replace the backbone's first (3-channel) convolution by one taking ``channels``."""
    for parent in backbone.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Conv2d) and child.in_channels == 3:
                setattr(parent, name, nn.Conv2d(channels, child.out_channels, child.kernel_size, child.stride, child.padding, child.dilation, child.groups, child.bias is not None))
                return


def build_segmenter(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
    """DeepLabV3 for ``lvef-seg`` (RGB frames) and ``myo-seg`` (one-channel CMR slices)."""
    return LVSegmenter(config["model"]["backbone"], int(info.get("in_channels", 3)), config["model"]["seg_loss"])


class SemiSupervisedBranch(nn.Module):
    """The auxiliary LV segmentation branch (section 2.2).

    For each path (ED, ES): spatially pooled encoder features Z̄ (T x C) give
    temporal relevance R = softmax_t(W3 * Z̄) (Eq. 3); F = sum_t R_t Z_t (Eq. 4)
    is upsampled to DeepLabV3's pre-ASPP feature size (input / 8), then an
    ASPP module and a two-convolution decoder give the mask logits, upsampled
    to the input size. The two paths share the ASPP and decoder; only their
    temporal relevance differs (the paper leaves this open).
    """

    PHASES = ("ed", "es")

    def __init__(self, channels: int, aspp_channels: int = 256, rates: tuple[int, int, int] = (12, 24, 36), feature_stride: int = 8):
        super().__init__()
        self.relevance = nn.ModuleDict({p: nn.Conv1d(channels, 1, 1) for p in self.PHASES})
        self.aspp = centre_tap_dilated_convolutions(ASPP(channels, list(rates), aspp_channels))
        self.decoder = nn.Sequential(
            nn.Conv2d(aspp_channels, aspp_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(aspp_channels),
            nn.ReLU(),
            nn.Conv2d(aspp_channels, 1, 1),
        )
        self.feature_stride = feature_stride

    def forward(self, z: torch.Tensor, out_size: tuple[int, int]) -> dict[str, torch.Tensor]:
        pooled = z.mean(dim=(3, 4))  # (B, C, T)
        frames = []
        for phase in self.PHASES:
            relevance = torch.softmax(self.relevance[phase](pooled), dim=-1)  # (B, 1, T), Eq. 3
            frames.append((z * relevance[..., None, None]).sum(dim=2))  # (B, C, H, W), Eq. 4
        size = (max(1, out_size[0] // self.feature_stride), max(1, out_size[1] // self.feature_stride))
        both = F.interpolate(torch.cat(frames), size=size, mode="bilinear", align_corners=False)
        logits = F.interpolate(self.decoder(self.aspp(both)), size=out_size, mode="bilinear", align_corners=False)[:, 0]
        ed, es = logits.chunk(2)
        return {"ed": ed, "es": es}
