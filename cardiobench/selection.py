"""Which validation score picks a fold's best epoch, and when it cannot.

A run selects by the task's ranking metric (``train.select_by: rank``) or by
the validation loss (``loss``). A ranking metric can be *undefined* on a
validation part, which is not a divergence: AUC, sensitivity or F1 need every
class present, and a handful of patients split by patient may leave one class
out. Such a fold is named before it trains and selects by validation loss
instead (the choice is recorded in the record's ``folds[].selection``); a
run whose losses stay finite is never reported as diverged.

A dataset lets the check see its validation part's classes without decoding
an item by giving the part a ``class_targets()`` method (one class index per
item, or None); without it, an undefined metric is still told from divergence after
the first epoch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from cardiobench.engine.loop import Selection
from cardiobench.errors import ConfigError
from cardiobench.registry import Registry
from cardiobench.specs import MetricSpec, TaskSpec

BY_LOSS = Selection("loss", lambda _pred, loss: loss)


def selection(registry: Registry, task: TaskSpec, select_by: str) -> Selection:
    """The selection ``train.select_by`` names."""
    if select_by == "loss":
        return BY_LOSS
    if select_by != "rank":
        raise ConfigError(f"train.select_by must be 'rank' or 'loss', got {select_by!r}.")
    metric = registry.metric(task.rank_metric)
    return Selection(metric.name, lambda pred, _loss: score(metric, pred.y_true, pred.y_pred), metric.higher_is_better)


def score(metric: MetricSpec, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``metric``, NaN where it is undefined or the predictions are not finite
    (a diverged epoch), without the library's warnings or errors."""
    if not np.all(np.isfinite(y_pred)):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(metric.fn(y_true, y_pred))
        except ValueError:
            return float("nan")


def undefined_on(metric: MetricSpec, part: Any, classes: Sequence[str]) -> str | None:
    """Why ``metric`` cannot score ``part`` (a validation Dataset) whatever the
    model predicts, from its ``class_targets()``; None when it can, or when
    the part does not say its classes."""
    targets_of = getattr(part, "class_targets", None)
    found = targets_of() if targets_of is not None else None
    if found is None:
        return None
    targets = np.asarray(found, dtype=np.int64)
    k = max(len(classes), int(targets.max(initial=0)) + 1)
    if len(targets) == 0:
        return "is empty"
    if np.isfinite(score(metric, targets, np.full((len(targets), k), 1.0 / k))):
        return None
    names = list(classes) if classes else [str(c) for c in range(k)]
    absent = [names[c] for c in range(k) if c not in set(targets.tolist())]
    return f"has no {' and no '.join(repr(a) for a in absent)} item" if absent else "has classes that leave it undefined"


def for_fold(chosen: Selection, task: TaskSpec, metric: MetricSpec, part: Any, classes: Sequence[str], fold_label: str) -> tuple[Selection, str]:
    """The selection a fold uses and, when it had to fall back to the
    validation loss, the sentence that says why (logged and recorded)."""
    if chosen.name != metric.name or task.contract is None or task.contract.output != "classes":
        return chosen, ""
    why = undefined_on(metric, part, classes)
    if why is None:
        return chosen, ""
    return BY_LOSS, f"{fold_label}the validation part {why}, so {metric.name} cannot select epochs: this fold selects its best epoch by validation loss"
