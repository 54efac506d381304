"""A fold's model, ready for the engine: built (a bare network completed by
the task's contract), given its trained weights if the run names them, and
checked on one batch against the task's model contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.data import default_collate

from cardiobench import task_models
from cardiobench.engine import checkpoint
from cardiobench.engine.weights import LoadReport, WeightsSource, load_into
from cardiobench.errors import PluginError
from cardiobench.model_check import check_model
from cardiobench.specs import Fold, ModelSpec, TaskSpec


def build(spec: ModelSpec, task: TaskSpec, values: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
    """``spec``'s model for ``task``, completed with the task's standard loss
    and decoding when ``build`` gave a bare network."""
    model = spec.build(values, info)
    if task_models.is_complete(model):
        return model
    if task.contract is None:
        raise PluginError(f"Model {spec.name!r} built a network without loss and predict, and task {task.name!r} declares no model contract to complete it with.")
    return task_models.complete(model, task.contract.resolved(info), info, (values.get("objective") or {}).get("loss"))


@dataclass(frozen=True)
class Weights:
    """The trained weights a run starts from (``--weights``), and whether it trains at all."""

    source: WeightsSource
    eval_only: bool = False
    reinit_mismatched: bool = False

    def load(self, model: nn.Module, fold: str, folds: int) -> LoadReport:
        return load_into(model, self.source.for_fold(fold, folds), self.reinit_mismatched)


def first_batch(fold: Fold, size: int = 2) -> dict[str, Any]:
    """The first ``size`` validation items as a batch (no loader, no random draw)."""
    items = fold.val if len(fold.val) else fold.test
    return default_collate([items[i] for i in range(min(size, len(items)))])


def check(model: nn.Module, task: TaskSpec, fold: Fold, info: Mapping[str, Any], who: str) -> float | None:
    """One batch through a freshly built model, on the CPU, against the task's
    contract (if it declares one); the fold's own model is built again after,
    from its own seed, so training is unchanged. Returns the forward FLOPs per
    item at the task's input shape (None without a contract)."""
    if task.contract is None:
        return None
    return check_model(model, first_batch(fold), task.contract.resolved(info), task.name, who)


def keep_as_best(model: nn.Module, folder: Path) -> None:
    """An evaluated model's weights as the fold's ``best.pt``, so ``cardiobench eval`` re-tests it like a trained run."""
    checkpoint.save(folder / "best.pt", {"epoch": -1, "model": model.state_dict()})
