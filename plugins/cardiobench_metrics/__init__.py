"""Metrics shared by every task, computed with scikit-learn.

A default feature that is a plugin like any other: it registers through the
``cardiobench`` entry-point group and can be blocked with
``CARDIOBENCH_DISABLE_PLUGINS=metrics``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn import metrics as skm
from torchmetrics.functional.classification import binary_stat_scores

from cardiobench import __version__, hookimpl
from cardiobench.specs import MetricSpec

SKLEARN = "scikit-learn (Pedregosa et al., JMLR 12, 2011)"
TORCHMETRICS = "torchmetrics (Detlefsen et al., JOSS 7, 2022)"


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.mean_absolute_error(y_true, y_pred))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.root_mean_squared_error(y_true, y_pred))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.r2_score(y_true, y_pred))


def dice_stats(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per item (N, ...) masks/probabilities (threshold 0.5): (N, 2) rows of
    (2 TP, 2 TP + FP + FN), from torchmetrics' binary stat scores."""
    target = torch.as_tensor(np.asarray(y_true) > 0.5).reshape(len(y_true), -1)
    preds = torch.as_tensor(np.asarray(y_pred, dtype=np.float32)).reshape(len(y_pred), -1)
    average = "samplewise" if len(preds) > 1 else "global"  # torchmetrics' samplewise mode needs two items
    scores = binary_stat_scores(preds, target.long(), threshold=0.5, multidim_average=average).reshape(len(preds), 5)
    tp, fp, _tn, fn, _support = scores.double().unbind(-1)
    return torch.stack([2 * tp, 2 * tp + fp + fn], dim=1).numpy()


def dice_from_stats(stats: np.ndarray) -> float:
    """Dice pooled over every pixel of every item (EchoNet-Dynamic's overall Dice)."""
    total = float(np.sum(stats[:, 1]))
    return float(np.sum(stats[:, 0]) / total) if total > 0 else 1.0


def dice(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return dice_from_stats(dice_stats(y_true, y_pred))


def dice_from_masks(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Dice of one mask pair."""
    return dice(np.asarray(truth)[None], np.asarray(prediction, dtype=np.float32)[None])


@hookimpl
def cardiobench_metrics() -> list[MetricSpec]:
    return [
        MetricSpec("mae", "mean absolute error", False, mae, SKLEARN),
        MetricSpec("rmse", "root mean squared error", False, rmse, SKLEARN),
        MetricSpec("r2", "coefficient of determination R^2", True, r2, SKLEARN),
        MetricSpec("dice", "Dice similarity of binary masks (threshold 0.5), pooled over all pixels", True, dice, TORCHMETRICS, dice_stats, dice_from_stats),
    ]
