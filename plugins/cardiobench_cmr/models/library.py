"""Baselines taken from well-kept libraries, never with pretrained weights:
U-Net from MONAI, ResNet-50/101 and VGG16 from timm (one input channel)."""

from __future__ import annotations

from collections.abc import Sequence

import timm
import torch
from torch import nn

from cardiobench.errors import ConfigError
from cardiobench.task_models import ClassifierModel
from cardiobench_cmr.models.heads import Classifier


def unet(features: Sequence[int]) -> nn.Module:
    """MONAI's BasicUNet (Ronneberger et al. 2015: two 3x3 convolutions per
    level, max pooling, transposed-convolution upsampling, concatenated skips);
    ``features`` = 5 level widths + the last decoder's (64..1024, 64 is the original)."""
    try:
        from monai.networks.nets import BasicUNet
    except ImportError as exc:
        raise ConfigError("Model 'unet' needs MONAI: pip install 'cardiobench[cmr]' (or pip install monai).") from exc
    return BasicUNet(spatial_dims=2, in_channels=1, out_channels=1, features=tuple(int(f) for f in features))


class TimmFeatures(nn.Module):
    """A timm network's feature maps (B, C, h, w), its head removed."""

    def __init__(self, name: str):
        super().__init__()
        self.net = timm.create_model(name, pretrained=False, in_chans=1, num_classes=0, global_pool="")
        self.out_channels = self.net.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features(x)


def resnet(name: str, classes: int = 2) -> Classifier:
    """timm ResNet-50/101: its own global pooling and linear head, so the class activation map is exact."""
    features = TimmFeatures(name)
    return Classifier(features, features.out_channels, classes)


def timm_classifier(name: str, classes: int = 2) -> ClassifierModel:
    """A whole timm classifier (VGG16 keeps its 4096-wide fully connected
    layers) with the core classifier's cross-entropy and softmax."""
    return ClassifierModel(timm.create_model(name, pretrained=False, in_chans=1, num_classes=classes))
