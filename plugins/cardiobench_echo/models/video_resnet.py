"""The video baselines of Table 1: MC3, R3D and R(2+1)D (Tran et al., CVPR 2018),
18 layers each, from ``torchvision.models.video``, with EchoNet-Dynamic's
regression head: one output, MSE loss, bias initialised to the training-mean EF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import video

from cardiobench.engine import checkpoint
from cardiobench.errors import ConfigError

BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "r2plus1d": video.r2plus1d_18,
    "mc3": video.mc3_18,
    "r3d": video.r3d_18,
}


def load_backbone_weights(backbone: nn.Module, path: str | Path) -> None:
    """Load a torchvision-format state dict (e.g. Kinetics-400 weights a user
    downloaded); tensors whose shape differs (the classifier) are skipped."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"model.weights: weights file {path} does not exist.")
    state = checkpoint.load(path)
    state = state.get("model", state) if isinstance(state, dict) else state
    own = backbone.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise ConfigError(f"model.weights: {path} holds no tensor matching this backbone; expected a torchvision video ResNet state dict.")
    backbone.load_state_dict(usable, strict=False)


class EFRegressor(nn.Module):
    """A video backbone with a one-output head, trained with MSE (the paper's M0)."""

    def __init__(self, backbone: nn.Module, target_mean: float):
        super().__init__()
        self.backbone = backbone
        self.backbone.fc = nn.Linear(self.backbone.fc.in_features, 1)
        with torch.no_grad():
            self.backbone.fc.bias.fill_(target_mean)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x).squeeze(1)

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return F.mse_loss(outputs.float(), batch["target"].float())

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs


def build_backbone(name: str, config: Mapping[str, Any]) -> nn.Module:
    backbone = BACKBONES[name](weights=None)
    if config["model"]["weights"]:
        load_backbone_weights(backbone, config["model"]["weights"])
    return backbone


def regressor_builder(name: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], nn.Module]:
    def build(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
        return EFRegressor(build_backbone(name, config), float(info.get("train_target_mean", 55.6)))

    return build
