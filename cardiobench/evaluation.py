"""Metric values with 95% bootstrap confidence intervals over evaluated samples."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from cardiobench.engine.loop import Predictions, mean_by_key
from cardiobench.specs import Grouping, MetricSpec


@dataclass(frozen=True)
class MetricValue:
    """A value, its 95% interval, and the bootstrap values behind the interval."""

    value: float
    ci_low: float
    ci_high: float
    draws: np.ndarray | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}


RowMetric = Callable[[np.ndarray], float]
"""A metric of the items at some row indices (repeats allowed)."""


def on_rows(metric: MetricSpec, y_true: np.ndarray, y_pred: np.ndarray) -> RowMetric:
    """``metric`` as a function of row indices; through its sufficient
    statistics, computed once, when the metric has them."""
    if metric.item_stats is not None and metric.from_stats is not None:
        stats, from_stats = np.asarray(metric.item_stats(y_true, y_pred), dtype=np.float64), metric.from_stats
        return lambda rows: from_stats(stats[rows])
    return lambda rows: metric.fn(y_true[rows], y_pred[rows])


ManyRowMetric = Callable[[np.ndarray], np.ndarray]
"""A metric of R resamples at once: (R, n) row indices -> (R,) values."""


def on_rows_many(metric: MetricSpec, y_true: np.ndarray, y_pred: np.ndarray) -> ManyRowMetric | None:
    """``metric`` of many resamples at once, where it offers ``from_stats_many``; else None."""
    if metric.item_stats is None or metric.from_stats_many is None:
        return None
    stats, many = np.asarray(metric.item_stats(y_true, y_pred), dtype=np.float64), metric.from_stats_many
    return lambda rows: many(stats[rows])


def bootstrap_draws_many(fn: ManyRowMetric, rows: np.ndarray, resamples: int, seed: int, chunk: int = 100) -> np.ndarray | None:
    """:func:`bootstrap_draws` (the same resamples) for a metric of many resamples at once, ``chunk`` at a time."""
    if resamples <= 0 or len(rows) < 2:
        return None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(rows), size=(resamples, len(rows)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.concatenate([np.asarray(fn(rows[draws[i : i + chunk]]), dtype=np.float64) for i in range(0, resamples, chunk)])


def safe_value(fn: RowMetric, rows: np.ndarray) -> float:
    """A metric value, NaN where it is undefined (e.g. AUC of a one-class resample)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(fn(rows))
        except ValueError:
            return float("nan")


def bootstrap_draws(fn: RowMetric, rows: np.ndarray, resamples: int, seed: int) -> np.ndarray | None:
    """``fn`` on ``resamples`` resamples of ``rows`` (with replacement)."""
    if resamples <= 0 or len(rows) < 2:
        return None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(rows), size=(resamples, len(rows)))
    return np.array([safe_value(fn, rows[d]) for d in draws])


def percentile_interval(values: np.ndarray | None, level: float = 0.95) -> tuple[float, float]:
    if values is None or np.all(np.isnan(values)):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(fn: Callable[[np.ndarray, np.ndarray], float], y_true: np.ndarray, y_pred: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    """Percentile bootstrap 95% interval: resample items with replacement."""
    return percentile_interval(bootstrap_draws(lambda rows: fn(y_true[rows], y_pred[rows]), np.arange(len(y_true)), resamples, seed))


def metric_value(metric: MetricSpec, y_true: np.ndarray, y_pred: np.ndarray, resamples: int, seed: int) -> MetricValue:
    """A metric and its bootstrap interval over items (or over their sufficient statistics)."""
    fn, rows = on_rows(metric, y_true, y_pred), np.arange(len(y_true))
    draws = bootstrap_draws(fn, rows, resamples, seed)
    return MetricValue(safe_value(fn, rows), *percentile_interval(draws), draws)


def fold_mean(per_fold: Sequence[MetricValue]) -> MetricValue:
    """The mean over cross-validation folds (what papers report), with the
    interval of that mean: each fold's test set resampled on its own, the
    resampled fold values averaged."""
    values = [v.value for v in per_fold if np.isfinite(v.value)]
    mean = float(np.mean(values)) if values else float("nan")
    if any(v.draws is None for v in per_fold):
        return MetricValue(mean, float("nan"), float("nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a resample where every fold is undefined stays NaN
        draws = np.nanmean(np.stack([v.draws for v in per_fold]), axis=0)
    return MetricValue(mean, *percentile_interval(draws), draws)


def score(
    metrics: Iterable[MetricSpec],
    predictions: Predictions,
    resamples: int,
    seed: int,
    subsets: Mapping[str, Callable[[Sequence[str]], np.ndarray]] | None = None,
    groupings: Sequence[tuple[Grouping, Sequence[MetricSpec]]] = (),
) -> dict[str, MetricValue]:
    """Every metric on ``predictions`` with its bootstrap interval, then on each
    subset of items as ``<metric>/<subset>``, then each grouping's metrics on
    the predictions averaged per group as ``<metric>/<grouping>``."""
    groups: dict[str, np.ndarray | None] = {"": None}
    groups.update({name: np.asarray(select(predictions.ids), dtype=bool) for name, select in (subsets or {}).items()})
    out = {}
    for suffix, keep in groups.items():
        y_true = predictions.y_true if keep is None else predictions.y_true[keep]
        y_pred = predictions.y_pred if keep is None else predictions.y_pred[keep]
        for i, metric in enumerate(metrics):
            out[metric.name + (f"/{suffix}" if suffix else "")] = metric_value(metric, y_true, y_pred, resamples, seed + i)
    for grouping, grouped_metrics in groupings:
        grouped = group_means(predictions, grouping.key)
        for i, metric in enumerate(grouped_metrics):
            out[f"{metric.name}/{grouping.name}"] = metric_value(metric, grouped.y_true, grouped.y_pred, resamples, seed + i)
    return out


def group_means(predictions: Predictions, key: Callable[[str], str]) -> Predictions:
    """Predictions averaged over the items sharing ``key(id)``."""
    return mean_by_key([key(i) for i in predictions.ids], predictions.y_true, predictions.y_pred)


def per_class(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support of each class (scikit-learn), from
    (N,) labels and (N, K) scores; 0 where a class is never predicted."""
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(np.asarray(y_true).astype(np.int64), np.asarray(y_pred).argmax(axis=1), labels=labels, zero_division=0)
    return {name: {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]), "support": int(support[k])} for k, name in enumerate(class_names)}


def class_shares(train_labels: np.ndarray) -> np.ndarray:
    """The trivial classifier: every item scored with the training class shares
    (classes above the largest training label are padded by the runner)."""
    labels = np.asarray(train_labels, dtype=np.int64)
    return np.bincount(labels) / max(len(labels), 1)
