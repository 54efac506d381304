"""The STCA model family on R(2+1)D-18 (Tran et al., CVPR 2018), rows of the
paper's Tables 2 and 3:

- ``r2plus1d-acr`` (M1): R(2+1)D-18 with the ACR head (section 2.3);
- ``tca`` (M2): plus a TCA module after each of the four stages (section 2.1);
- ``stca`` (M3): plus the semi-supervised LV branch reading the encoder output,
  whose ED mask turns the last TCA into S-TCA (sections 2.2, 2.2.1), trained
  with L = L_ef + beta alpha L_seg (Eq. 6-9);
- ``se`` and ``me``: SE or TEA's ME modules in TCA's places (appendix 7.4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import video

from cardiobench_echo.models.acr import AnchorHead, Anchors
from cardiobench_echo.models.attention import ATTENTIONS, TemporalChannelAttention, lv_attention_mask
from cardiobench_echo.models.segmentation import SemiSupervisedBranch
from cardiobench_echo.models.video_resnet import load_backbone_weights

STAGE_CHANNELS = (64, 128, 256, 512)


class EFNet(nn.Module):
    """R(2+1)D-18 encoder, optional attention after each stage, optional
    semi-supervised branch with S-TCA, and the ACR head on pooled features."""

    def __init__(
        self,
        attention: str | None,
        semantic: bool,
        anchors: int = 20,
        decode: str = "argmax",
        weight_grad: bool = True,
        beta: float = 0.01,
        hard_mask: bool = True,
        dilation: int = 3,
        weights: str | None = None,
    ):
        super().__init__()
        backbone = video.r2plus1d_18(weights=None)
        if weights:
            load_backbone_weights(backbone, weights)
        self.stem = backbone.stem
        self.stages = nn.ModuleList([backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4])
        self.attention = nn.ModuleList([ATTENTIONS[attention](c) for c in STAGE_CHANNELS] if attention else [])
        self.semantic = semantic
        if semantic:
            self.attention[-1] = TemporalChannelAttention(STAGE_CHANNELS[-1])  # S-TCA: the last TCA, masked
            self.segmentation = SemiSupervisedBranch(STAGE_CHANNELS[-1])
        self.head = AnchorHead(STAGE_CHANNELS[-1], Anchors(anchors))
        self.decode, self.weight_grad, self.beta = decode, weight_grad, beta
        self.hard_mask, self.dilation = hard_mask, dilation

    def encode(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Encoder features (after the last attention) and, with the branch, LV logits."""
        z = self.stem(x)
        out: dict[str, torch.Tensor] = {}
        for i, stage in enumerate(self.stages):
            z = stage(z)
            if not self.attention:
                continue
            if self.semantic and i == len(self.stages) - 1:
                out.update(self.segmentation(z, tuple(x.shape[-2:])))
                mask = lv_attention_mask(out["ed"], tuple(z.shape[-2:]), self.dilation, self.hard_mask)
                z = self.attention[i](z, mask)
            else:
                z = self.attention[i](z)
        out["features"] = z
        return out

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.encode(x)
        out["logits"], out["offsets"] = self.head(out["features"].mean(dim=(2, 3, 4)))
        return out

    def loss(self, outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any]) -> torch.Tensor:
        loss = self.head.anchors.loss(outputs["logits"], outputs["offsets"], batch["target"], self.weight_grad)
        if self.semantic and "pseudo_ed" in batch:  # training batches carry pseudo-labels (Eq. 6-9)
            seg = 0.5 * sum(
                F.binary_cross_entropy_with_logits(outputs[p].float(), batch[f"pseudo_{p}"].float(), reduction="none").sum(dim=(1, 2))
                for p in SemiSupervisedBranch.PHASES
            )
            loss = loss + self.beta * (batch["alpha"].float() * seg).mean()
        return loss

    def predict(self, outputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.head.anchors.decode(outputs["logits"], outputs["offsets"], self.decode)

    @torch.no_grad()
    def cam(self, x: torch.Tensor) -> torch.Tensor:
        """Class activation map (Zhou et al., CVPR 2016; appendix 7.6) of the
        predicted anchor class, averaged over time: (B, h, w)."""
        out = self.forward(x)
        k = out["logits"].argmax(dim=1)
        weights = self.head.classify.weight[k]  # (B, C)
        return torch.einsum("bc,bcthw->bhw", weights, out["features"]) / out["features"].shape[2]


def ef_net_builder(attention: str | None, semantic: bool = False) -> Callable[[Mapping[str, Any], Mapping[str, Any]], nn.Module]:
    def build(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
        m = config["model"]
        extra = {"beta": float(m["beta"]), "hard_mask": m["mask"] == "hard", "dilation": int(m["dilation"])} if semantic else {}
        return EFNet(attention, semantic, int(m["anchors"]), m["decode"], bool(m["acr_weight_grad"]), weights=m["weights"], **extra)

    return build


ACR_DEFAULTS = {"weights": None, "anchors": 20, "decode": "argmax", "acr_weight_grad": True}
STCA_DEFAULTS = {**ACR_DEFAULTS, "beta": 0.01, "mask": "hard", "dilation": 3}
