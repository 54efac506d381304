"""Metrics shared by every task, computed with scikit-learn.

A default feature that is a plugin like any other: it registers through the
``cardiobench`` entry-point group and can be blocked with
``CARDIOBENCH_DISABLE_PLUGINS=metrics``.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from cardiobench import __version__, hookimpl
from cardiobench.specs import MetricSpec

SKLEARN = "scikit-learn (Pedregosa et al., JMLR 12, 2011)"


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.mean_absolute_error(y_true, y_pred))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.root_mean_squared_error(y_true, y_pred))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.r2_score(y_true, y_pred))


@hookimpl
def cardiobench_metrics() -> list[MetricSpec]:
    return [
        MetricSpec("mae", "mean absolute error", False, mae, SKLEARN),
        MetricSpec("rmse", "root mean squared error", False, rmse, SKLEARN),
        MetricSpec("r2", "coefficient of determination R^2", True, r2, SKLEARN),
    ]
