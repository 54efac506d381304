"""Segmenter, window-style attention and classifier of the joint model
(section 3, Fig. 1 of ../shared/papers/ecg-attention-joint-seg-cls.txt), and
the two baselines it is compared with.

Fig. 1's exact widths are not in the text we have; the defaults below are our
choice (recorded in every run's config): a four-level 1D U-Net with
(16, 32, 64, 128) channels and kernel 9, and a classifier whose point-wise
convolution leads into four blocks of (32, 64, 128, 128) channels, each block
halving the length, so that global average pooling gives the 128 features the
paper's 128 x 128 and 128 x 2 perceptron expects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench.errors import ConfigError

JOINT_DEFAULTS = {
    "pooling": "l2",  # l2 | max (section 3.3)
    "kernel_size": 200,  # about half a normal beat at 360 Hz; 100 and 300 in section 5.3
    "unet_channels": [16, 32, 64, 128],
    "classifier_channels": [32, 64, 128, 128],
    "conv_kernel": 9,
}
CLASSIFIER_DEFAULTS = {k: JOINT_DEFAULTS[k] for k in ("classifier_channels", "conv_kernel")}
CASCADED_DEFAULTS = {**CLASSIFIER_DEFAULTS, "unet_channels": JOINT_DEFAULTS["unet_channels"]}


def conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(inplace=True))


def double_conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(conv_bn_relu(c_in, c_out, kernel, stride), conv_bn_relu(c_out, c_out, kernel))


class UNet1D(nn.Module):
    """The segmenter S (section 3.2): a 1D U-Net with skip connections and a
    one-channel output L, later expanded over the leads."""

    def __init__(self, leads: int, channels: Sequence[int], kernel: int):
        super().__init__()
        self.down = nn.ModuleList()
        c_in = leads
        for c in channels:
            self.down.append(double_conv(c_in, c, kernel))
            c_in = c
        self.up = nn.ModuleList(double_conv(c_deep + c_skip, c_skip, kernel) for c_deep, c_skip in zip(channels[:0:-1], channels[-2::-1]))
        self.head = nn.Conv1d(channels[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool1d(x, 2, ceil_mode=True))
            skips.append(x)
        for block, skip in zip(self.up, skips[-2::-1]):
            x = block(torch.cat([F.interpolate(x, size=skip.shape[-1]), skip], dim=1))
        return self.head(x)


def window_attention(l: torch.Tensor, pooling: str, kernel_size: int) -> torch.Tensor:
    """Window-style attention A from the segmenter output L (section 3.3, Eq. 1):
    L2-norm pooling sqrt(sum of l^2 over the window), or ReLU then max pooling;
    stride 1, zeros padded on both sides so A has L's length."""
    left = (kernel_size - 1) // 2
    pad = (left, kernel_size - 1 - left)
    if pooling == "l2":
        energy = F.avg_pool1d(F.pad(l * l, pad), kernel_size, stride=1) * kernel_size
        return torch.sqrt(energy + 1e-12)  # the epsilon keeps the gradient finite at an all-zero window
    if pooling == "max":
        return F.max_pool1d(F.pad(F.relu(l), pad), kernel_size, stride=1)
    raise ValueError(f"unknown pooling {pooling!r}")


class Classifier(nn.Module):
    """The classifier C (Fig. 1b, section 4.2): point-wise Conv1d, four blocks of
    two (Conv + BN + ReLU), global average pooling, MLP 128 x 128 and 128 x 2,
    log-softmax output for the NLL loss."""

    def __init__(self, leads: int, channels: Sequence[int], kernel: int, classes: int = 2):
        super().__init__()
        self.pointwise = nn.Conv1d(leads, channels[0], 1)
        blocks, c_in = [], channels[0]
        for c in channels:
            blocks.append(double_conv(c_in, c, kernel, stride=2))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.mlp = nn.Sequential(nn.Linear(c_in, 128), nn.ReLU(inplace=True), nn.Linear(128, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.blocks(self.pointwise(x)).mean(dim=-1)
        return F.log_softmax(self.mlp(features), dim=-1)


class ECGNet(nn.Module):
    """One of the compared arrangements (section 4.2, Fig. 2):
    ``joint``: X = A * D, then C (the paper's method);
    ``cascaded``: C applied to S's output, same depth, no attention product;
    ``classifier``: C alone on D.
    ``forward`` returns log-probabilities and, for ``joint``, the attention."""

    def __init__(self, arrangement: str, leads: int, model: Mapping[str, Any], class_weights: Sequence[float]):
        super().__init__()
        self.arrangement = arrangement
        self.pooling = model.get("pooling")
        self.kernel_size = int(model.get("kernel_size") or 0)
        kernel = int(model["conv_kernel"])
        self.segmenter = UNet1D(leads, list(model["unet_channels"]), kernel) if arrangement != "classifier" else None
        self.classifier = Classifier(leads, list(model["classifier_channels"]), kernel)
        self.register_buffer("class_weights", torch.tensor(class_weights, dtype=torch.float32))

    def attention(self, d: torch.Tensor) -> torch.Tensor:
        """A expanded over the leads: every lead gets the same weights (section 3.2)."""
        return window_attention(self.segmenter(d), self.pooling, self.kernel_size).expand_as(d)

    def forward(self, d: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.arrangement == "joint":
            a = self.attention(d)
            return {"log_probs": self.classifier(a * d), "attention": a}
        if self.arrangement == "cascaded":
            return {"log_probs": self.classifier(self.segmenter(d).expand_as(d))}
        return {"log_probs": self.classifier(d)}

    def loss(self, outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any]) -> torch.Tensor:
        """Class-weighted negative log-likelihood (section 4.2)."""
        return F.nll_loss(outputs["log_probs"].float(), batch["target"], weight=self.class_weights)

    def predict(self, outputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return outputs["log_probs"].exp()


def builder(arrangement: str, pooling: str | None = None):  # noqa: ANN201 - a ModelSpec build callable
    """``build(config, info)`` for one arrangement; ``pooling`` fixes the
    attention pooling of a named joint model."""

    def build(config: Mapping[str, Any], info: Mapping[str, Any]) -> ECGNet:
        model = dict(config["model"])
        if pooling is not None and model.get("pooling") != pooling:
            other = "ecg-joint-max" if pooling == "l2" else "ecg-joint-l2"
            raise ConfigError(f"model.pooling of ecg-joint-{pooling} is {pooling!r}, got {model.get('pooling')!r}; the other pooling is the model {other}.")
        if arrangement == "joint" and not (isinstance(model.get("kernel_size"), int) and model["kernel_size"] >= 1):
            raise ConfigError(f"model.kernel_size must be a positive whole number of samples, got {model.get('kernel_size')!r}.")
        # ``info`` is empty when only the parameter count is wanted: MIT-BIH's two leads, equal weights
        return ECGNet(arrangement, int(info.get("leads", 2)), model, info.get("class_weights", [1.0, 1.0]))

    return build
