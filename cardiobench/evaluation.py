"""Metric values with 95% bootstrap confidence intervals over evaluated samples."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from cardiobench.engine.loop import Predictions
from cardiobench.specs import MetricSpec


@dataclass(frozen=True)
class MetricValue:
    value: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _safe(fn: Callable[[np.ndarray, np.ndarray], float], y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """A metric value, NaN where it is undefined (e.g. AUC of a one-class resample)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(fn(y_true, y_pred))
        except ValueError:
            return float("nan")


def bootstrap_ci(
    fn: Callable[[np.ndarray, np.ndarray], float],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    resamples: int,
    seed: int,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval: resample samples with replacement."""
    if resamples <= 0 or len(y_true) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(y_true), size=(resamples, len(y_true)))
    values = np.array([_safe(fn, y_true[d], y_pred[d]) for d in draws])
    if np.all(np.isnan(values)):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)


def metric_value(metric: MetricSpec, y_true: np.ndarray, y_pred: np.ndarray, resamples: int, seed: int) -> MetricValue:
    """A metric and its bootstrap interval over items (or over their sufficient statistics)."""
    if metric.item_stats is not None and metric.from_stats is not None:
        stats = np.asarray(metric.item_stats(y_true, y_pred), dtype=np.float64)
        from_stats = metric.from_stats
        value = _safe(lambda s, _: from_stats(s), stats, stats)
        low, high = bootstrap_ci(lambda s, _: from_stats(s), stats, stats, resamples, seed)
    else:
        value = _safe(metric.fn, y_true, y_pred)
        low, high = bootstrap_ci(metric.fn, y_true, y_pred, resamples, seed)
    return MetricValue(value, low, high)


def score(
    metrics: Iterable[MetricSpec],
    predictions: Predictions,
    resamples: int,
    seed: int,
    subsets: Mapping[str, Callable[[Sequence[str]], np.ndarray]] | None = None,
) -> dict[str, MetricValue]:
    """Every metric on ``predictions`` with its bootstrap interval, then on each
    subset of items as ``<metric>/<subset>``."""
    groups: dict[str, np.ndarray | None] = {"": None}
    groups.update({name: np.asarray(select(predictions.ids), dtype=bool) for name, select in (subsets or {}).items()})
    out = {}
    for suffix, keep in groups.items():
        y_true = predictions.y_true if keep is None else predictions.y_true[keep]
        y_pred = predictions.y_pred if keep is None else predictions.y_pred[keep]
        for i, metric in enumerate(metrics):
            out[metric.name + (f"/{suffix}" if suffix else "")] = metric_value(metric, y_true, y_pred, resamples, seed + i)
    return out
