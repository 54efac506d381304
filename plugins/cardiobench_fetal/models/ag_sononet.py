"""Attention-gated Sononet (Schlemper et al., MIDL 2018, section 2, Fig. 1-2).

The adaptation module is removed; the last stage's features are the gridded
gating signal g. Two grid attention gates (Eq. 2) weight the features of
stages 3 and 4 (the paper's layers 11 and 14) and sum them over positions;
the coarsest features are average-pooled. Three linear heads read the three
vectors, combined by the aggregation strategy:

- ``mean`` (AG-Sononet): each head is trained with cross-entropy, the
  prediction is the mean of the three softmax outputs;
- ``deep-supervision`` (AG-Sononet-DS): a fourth head on the concatenated
  vectors makes the prediction; loss 1 x its cross-entropy + 0.1 x each head's;
- ``fine-tune`` (AG-Sononet-FT): a linear layer on the three heads' logits
  makes the prediction, trained with cross-entropy.

Where the paper is silent this follows the authors' implementation
(``sononet_grid_attention.py``, ``grid_attention_layer.py`` and the
``config_sononet_grid_att_*`` files): inter-channel width 8n for both gates;
W_f (theta) and W_g (phi) 1x1 convolutions without bias (so no b_g) and psi
with a bias; no output transform W; the ``concatenation_mean_flow``
normalisation (psi - min) / sum(psi - min) (our ``norm="range"``); the head
weights and the per-head loss weights above. Every gate runs through
:func:`cardiobench.kernels.attention_gate` (Triton on CUDA).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench.kernels import attention_gate
from cardiobench_fetal.models.sononet import Features, init_reference, widths

AGGREGATIONS = ("mean", "deep-supervision", "fine-tune")
DS_WEIGHTS = (1.0, 0.1, 0.1, 0.1)  # config_sononet_grid_att_8_deepsup.json


class AttentionGate(nn.Module):
    """Grid attention gate (Eq. 2): c = psi . ReLU(W_f f + up(W_g g)) + b_psi,
    alpha = normalise(c) over positions, output sum_i alpha_i f_i."""

    def __init__(self, channels: int, gating_channels: int, inter_channels: int, norm: str = "range", backend: str | None = None):
        super().__init__()
        self.theta = nn.Conv2d(channels, inter_channels, 1, bias=False)
        self.phi = nn.Conv2d(gating_channels, inter_channels, 1, bias=False)
        self.psi = nn.Conv2d(inter_channels, 1, 1, bias=True)
        self.norm, self.backend = norm, backend

    def forward(self, f: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(pooled (B, C), alpha (B, 1, H, W))."""
        return attention_gate(f, g, self.theta.weight[:, :, 0, 0], self.phi.weight[:, :, 0, 0], None, self.psi.weight[0, :, 0, 0], self.psi.bias, self.norm, self.backend)


class AGSononet(nn.Module):
    """AG-Sononet-n with one of :data:`AGGREGATIONS`."""

    def __init__(self, n: int, n_classes: int, aggregation: str = "mean", norm: str = "range", in_channels: int = 1, backend: str | None = None):
        super().__init__()
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
        c = widths(n)
        self.aggregation = aggregation
        self.features = Features(n, in_channels)
        self.gate1 = AttentionGate(c[2], c[4], c[3], norm, backend)
        self.gate2 = AttentionGate(c[3], c[4], c[3], norm, backend)
        self.heads = nn.ModuleList([nn.Linear(c[2], n_classes), nn.Linear(c[3], n_classes), nn.Linear(c[4], n_classes)])
        if aggregation == "deep-supervision":
            self.combine = nn.Linear(c[2] + c[3] + c[4], n_classes)
        elif aggregation == "fine-tune":
            self.combine = nn.Linear(3 * n_classes, n_classes)
        init_reference(self)

    def attend(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
        """(the three vectors, the two attention maps, the coarsest features)."""
        f3, f4, g = self.features(x)
        pooled1, alpha1 = self.gate1(f3, g)
        pooled2, alpha2 = self.gate2(f4, g)
        return [pooled1, pooled2, g.mean(dim=(2, 3))], [alpha1, alpha2], g

    def forward(self, x: torch.Tensor) -> list[torch.Tensor] | torch.Tensor:
        return self.aggregate(self.attend(x)[0])

    def aggregate(self, vectors: list[torch.Tensor]) -> list[torch.Tensor] | torch.Tensor:
        logits = [head(v) for head, v in zip(self.heads, vectors)]
        if self.aggregation == "mean":
            return logits
        if self.aggregation == "deep-supervision":
            return [self.combine(torch.cat(vectors, dim=1)), *logits]
        return self.combine(torch.cat(logits, dim=1))

    def loss(self, outputs: list[torch.Tensor] | torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        target = batch["target"]
        if self.aggregation == "fine-tune":
            return F.cross_entropy(outputs, target)
        weights = (1.0,) * 3 if self.aggregation == "mean" else DS_WEIGHTS
        return sum(w * F.cross_entropy(o, target) for w, o in zip(weights, outputs))

    def predict(self, outputs: list[torch.Tensor] | torch.Tensor) -> torch.Tensor:
        if self.aggregation == "mean":
            return torch.stack([torch.softmax(o.float(), dim=1) for o in outputs]).mean(0)
        if self.aggregation == "deep-supervision":
            return torch.softmax(outputs[0].float(), dim=1)
        return torch.softmax(outputs.float(), dim=1)

    def attention_maps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """AG1 and AG2 (the gates' alpha) and AG3, the class activation map of
        the coarsest scale for the predicted class (paper Fig. 3), each (B, h, w)."""
        vectors, alphas, g = self.attend(x)
        predicted = self.predict(self.aggregate(vectors)).argmax(1)
        cam = torch.einsum("bc,bchw->bhw", self.heads[2].weight[predicted], g)
        return {"AG1": alphas[0][:, 0], "AG2": alphas[1][:, 0], "AG3": cam}
