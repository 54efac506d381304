"""Full models from bare networks: a task kind's standard loss and decoding.

A bare ``nn.Module`` maps a batch's ``input`` to logits or a value; the
engine trains a model that also has ``loss(outputs, batch)`` and
``predict(outputs)``. These public base classes add them for each output kind
of a :class:`~cardiobench.contract.ModelContract`, so neither a plugin nor a
user re-writes them; :func:`complete` picks one from a task's contract.

- :class:`ClassifierModel`: class logits, cross-entropy, softmax.
- :class:`ScalarModel`: one value, MSE (EchoNet-Dynamic's and the STCA
  paper's regression loss) or L1, identity; its output starts at the
  training targets' mean (EchoNet-Dynamic initialises the head's bias so).
- :class:`MaskModel`: binary mask logits, BCE + Dice by default (BCE, Dice or
  the Jaccard distance as options), sigmoid. A two-channel output (background,
  foreground) is read as the logit ``l1 - l0``, with which BCE is exactly the
  two-class cross-entropy and sigmoid exactly the foreground's softmax.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench.contract import ModelContract
from cardiobench.engine.losses import check_scalar_loss, check_segmentation_loss, scalar_loss, segmentation_loss
from cardiobench.errors import ConfigError

DEFAULT_LOSS = {"classes": "ce", "scalar": "mse", "mask": "bce+dice"}


def _tensor_output(outputs: Any) -> torch.Tensor:
    """A network's tensor output: a dict's ``out`` (torchvision segmenters), a tuple's first."""
    if isinstance(outputs, Mapping):
        return outputs["out"]
    if isinstance(outputs, (tuple, list)):
        return outputs[0]
    return outputs


class TaskModel(nn.Module):
    """A network ``net`` with a task kind's loss and decoding; subclasses set both."""

    def __init__(self, net: nn.Module | None = None):
        super().__init__()
        if net is not None:
            self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _tensor_output(self.net(x))


class ClassifierModel(TaskModel):
    """(B, n) class logits; cross-entropy; softmax probabilities."""

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return F.cross_entropy(outputs.float(), batch["target"].long())

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(outputs.float(), dim=1)


class ScalarModel(TaskModel):
    """One value per item, ``offset`` (the training targets' mean, kept with
    the weights) plus the network's output; MSE or L1; the value itself."""

    def __init__(self, net: nn.Module, offset: float = 0.0, loss: str = "mse"):
        super().__init__(net)
        self.loss_kind = check_scalar_loss(loss)
        self.register_buffer("offset", torch.tensor(float(offset)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out.reshape(out.shape[0]) if out.dim() > 1 and out[0].numel() == 1 else out  # (B, k>1) stays, for the contract check to name

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return scalar_loss(self.loss_kind, outputs + self.offset, batch["target"])

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs.float() + self.offset


class MaskModel(TaskModel):
    """(B, H, W) foreground logits from a (B, 1 or 2, H, W) output; BCE + Dice,
    BCE, Dice or Jaccard distance; sigmoid probabilities."""

    def __init__(self, net: nn.Module | None = None, loss: str = "bce+dice", loss_key: str = "objective.loss"):
        super().__init__(net)
        self.seg_loss = check_segmentation_loss(loss, loss_key)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return foreground_logits(super().forward(x))

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return segmentation_loss(self.seg_loss, outputs, batch["target"])

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(outputs)


def foreground_logits(out: torch.Tensor) -> torch.Tensor:
    """(B, H, W) logits of a (B, 1, H, W) or (background, foreground) (B, 2, H, W) output."""
    if out.dim() == 4 and out.shape[1] == 1:
        return out[:, 0]
    if out.dim() == 4 and out.shape[1] == 2:
        return out[:, 1] - out[:, 0]
    return out


def is_complete(model: nn.Module) -> bool:
    """Whether ``model`` has its own ``loss`` and ``predict``."""
    return callable(getattr(model, "loss", None)) and callable(getattr(model, "predict", None))


def complete(model: nn.Module, contract: ModelContract, info: Mapping[str, Any], loss: str | None = None) -> nn.Module:
    """``model`` itself if it has ``loss`` and ``predict``, else wrapped in the
    base class of ``contract``'s output kind with ``loss`` (its default if None)."""
    if is_complete(model):
        return model
    if contract.output == "classes":
        if loss not in (None, "ce"):
            raise ConfigError(f"objective.loss must be 'ce' for a classification task, got {loss!r}.")
        return ClassifierModel(model)
    if contract.output == "scalar":
        return ScalarModel(model, float(info.get("train_target_mean", 0.0)), loss or DEFAULT_LOSS["scalar"])
    return MaskModel(model, loss or DEFAULT_LOSS["mask"])

