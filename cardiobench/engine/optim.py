"""Optimizers and learning-rate schedules from a run's ``train`` config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cardiobench.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("step", "onecycle", "cosine", "none")


@dataclass
class Optimization:
    """An optimizer and its schedule; ``per_step`` schedules advance every batch."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    per_step: bool


def build(model: nn.Module, train: Mapping[str, Any], steps_per_epoch: int) -> Optimization:
    params = [p for p in model.parameters() if p.requires_grad]
    name, lr, wd = train["optimizer"], float(train["lr"]), float(train["weight_decay"])
    if name == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(params, lr=lr, momentum=float(train["momentum"]), weight_decay=wd)
    elif name == "adam":
        optimizer = torch.optim.Adam(params, lr=lr, weight_decay=wd)
    elif name == "adamw":
        optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    else:
        raise ConfigError(f"train.optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}.")

    schedule, epochs = train["scheduler"], int(train["epochs"])
    if schedule == "step":
        return Optimization(optimizer, torch.optim.lr_scheduler.StepLR(optimizer, int(train["lr_step_epochs"]), float(train["lr_gamma"])), False)
    if schedule == "onecycle":
        total = max(1, epochs * steps_per_epoch)
        return Optimization(optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total), True)
    if schedule == "cosine":
        total = max(1, epochs * steps_per_epoch)
        return Optimization(optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total), True)
    if schedule == "none":
        return Optimization(optimizer, None, False)
    raise ConfigError(f"train.scheduler must be one of {', '.join(SCHEDULERS)}, got {schedule!r}.")
