"""A model held to its task's contract: one batch checked before training,
and failures inside the model's own code blamed on the model's plugin."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode
from torch import nn

from cardiobench.contract import ModelContract, forward_problems, loss_problems, predict_problems
from cardiobench.errors import CardiobenchError, PluginError, bulleted, out_of_memory
from cardiobench.task_models import TaskModel

MODEL_METHODS = ("forward", "loss", "predict", "joint_predict")


def _model_method(model: nn.Module, traceback: TracebackType | None) -> str | None:
    """The outermost of ``model``'s (or a sub-module's) own methods the
    traceback passes through: the model's code raised, not the engine's."""
    modules = {id(m) for m in model.modules()}
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_name in MODEL_METHODS and id(frame.f_locals.get("self")) in modules:
            return frame.f_code.co_name
        traceback = traceback.tb_next
    return None


@contextlib.contextmanager
def blame_model(model: nn.Module, who: str) -> Iterator[None]:
    """An exception raised inside ``model``'s ``forward``/``loss``/``predict``
    becomes a ``PluginError`` naming ``who`` (``model 'x' (plugin 'y')``);
    out-of-memory, our own errors and the engine's failures pass unchanged."""
    try:
        yield
    except CardiobenchError:
        raise
    except Exception as exc:
        method = None if out_of_memory(exc) else _model_method(model, exc.__traceback__)
        if method is None:
            raise
        raise PluginError(f"{who[0].upper()}{who[1:]} raised in {method}: {type(exc).__name__}: {exc}. This is a bug in that model (re-run with --debug for the traceback).") from exc


def check_model(model: nn.Module, batch: Mapping[str, Any], contract: ModelContract, task: str, who: str) -> float:
    """Run one batch through ``forward``, ``loss`` and ``predict`` (evaluation
    mode, no gradients, random state restored: training is unchanged) and
    raise one ``PluginError`` listing every way the model breaks ``contract``.
    Returns the forward pass's FLOPs per item, as PyTorch's
    ``FlopCounterMode`` counts them (matrix products and convolutions)."""
    problems: list[str] = []
    training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad(), blame_model(model, who):
            with counter:
                outputs = model(batch["input"])
            if isinstance(model, TaskModel):  # a bare network the core completed: its output shape is known
                problems += forward_problems(contract, batch["input"], outputs)
            if not problems:
                problems += loss_problems(model.loss(outputs, batch))
                problems += predict_problems(contract, batch["input"], model.predict(outputs))
    finally:
        model.train(training)
    if problems:
        raise PluginError(f"{task}: {bulleted(problems)}; {who} breaks the task's model contract (see: cardiobench list tasks --contract). The first batch showed it, before training.")
    return counter.get_total_flops() / max(len(batch["input"]), 1)
