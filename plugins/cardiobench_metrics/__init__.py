"""Metrics shared by every task, computed with scikit-learn.

A default feature that is a plugin like any other: it registers through the
``cardiobench`` entry-point group and can be blocked with
``CARDIOBENCH_DISABLE_PLUGINS=metrics``.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata
from sklearn import metrics as skm
from torchmetrics.functional.classification import binary_stat_scores

from cardiobench import __version__, hookimpl
from cardiobench.specs import MetricSpec
from cardiobench_metrics.hausdorff import hd95, hd95_from_stats, hd95_from_stats_many, hd95_stats, hd95_values

SKLEARN = "scikit-learn (Pedregosa et al., JMLR 12, 2011)"
TORCHMETRICS = "torchmetrics (Detlefsen et al., JOSS 7, 2022)"
SCIPY_MONAI = "scipy.ndimage distance transform, MONAI's HD95 definition (Cardoso et al., arXiv:2211.02701, 2022)"


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.mean_absolute_error(y_true, y_pred))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.root_mean_squared_error(y_true, y_pred))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.r2_score(y_true, y_pred))


def regression_stats(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per item (N, 2): the target and the prediction; mae, rmse and r2 from
    them in numpy with scikit-learn's formulas, without its per-call checks
    (a bootstrap computes them a thousand times; tests check they agree)."""
    return np.column_stack([np.asarray(y_true, dtype=np.float64).reshape(-1), np.asarray(y_pred, dtype=np.float64).reshape(-1)])


def mae_from_stats(stats: np.ndarray) -> float:
    return float(np.mean(np.abs(stats[:, 1] - stats[:, 0])))


def absolute_errors(stats: np.ndarray) -> np.ndarray:
    """Each item's absolute error (MAE's per-item values)."""
    return np.abs(stats[:, 1] - stats[:, 0])


def rmse_from_stats(stats: np.ndarray) -> float:
    return float(np.sqrt(np.mean((stats[:, 0] - stats[:, 1]) ** 2)))


def r2_from_stats(stats: np.ndarray) -> float:
    """1 - SSE / SST; undefined for one item; where the targets are constant,
    1 for a perfect fit, else 0 (scikit-learn's ``force_finite``)."""
    if len(stats) < 2:
        return float("nan")
    sse = float(np.sum((stats[:, 0] - stats[:, 1]) ** 2))
    sst = float(np.sum((stats[:, 0] - np.mean(stats[:, 0])) ** 2))
    if sst == 0:
        return 1.0 if sse == 0 else 0.0
    return 1.0 - sse / sst


def mae_from_stats_many(stats: np.ndarray) -> np.ndarray:
    """:func:`mae_from_stats` of R resamples at once, (R, N, 2) -> (R,)."""
    return np.mean(np.abs(stats[..., 1] - stats[..., 0]), axis=1)


def rmse_from_stats_many(stats: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean((stats[..., 0] - stats[..., 1]) ** 2, axis=1))


def r2_from_stats_many(stats: np.ndarray) -> np.ndarray:
    """:func:`r2_from_stats` of R resamples at once (the same constant-target rule)."""
    sse = np.sum((stats[..., 0] - stats[..., 1]) ** 2, axis=1)
    sst = np.sum((stats[..., 0] - stats[..., 0].mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 1.0 - sse / sst
    value = np.where(sst == 0, np.where(sse == 0, 1.0, 0.0), value)
    return value if stats.shape[1] >= 2 else np.full(len(stats), np.nan)


def _labels_and_scores(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels and (N, K) class scores; (N,) scores are P(class 1)."""
    scores = np.asarray(y_pred, dtype=np.float64)
    if scores.ndim == 1:
        scores = np.stack([1 - scores, scores], axis=1)
    return np.asarray(y_true).astype(np.int64), scores


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    labels, scores = _labels_and_scores(y_true, y_pred)
    return float(skm.accuracy_score(labels, scores.argmax(axis=1)))


def sensitivity(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Recall of class 1, the task's positive class (PVC in ecg-pvc-apb)."""
    labels, scores = _labels_and_scores(y_true, y_pred)
    return float(skm.recall_score(labels, scores.argmax(axis=1), pos_label=1, average="binary", zero_division=np.nan))


def specificity(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Recall of class 0, the negatives of a binary task."""
    labels, scores = _labels_and_scores(y_true, y_pred)
    return float(skm.recall_score(labels, scores.argmax(axis=1), pos_label=0, average="binary", zero_division=np.nan))


def confusion_stats(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per item (N, 5) indicators: correct, true and predicted 1, true 1, true
    and predicted 0, true 0 - sufficient statistics of accuracy, sensitivity and
    specificity, so bootstrap intervals resample them instead of calling
    scikit-learn a thousand times (tests check both agree)."""
    labels, scores = _labels_and_scores(y_true, y_pred)
    predicted = scores.argmax(axis=1)
    return np.stack(
        [labels == predicted, (labels == 1) & (predicted == 1), labels == 1, (labels == 0) & (predicted == 0), labels == 0],
        axis=1,
    ).astype(np.float64)


def correct_items(stats: np.ndarray) -> np.ndarray:
    """Each item's outcome under accuracy: 1 right, 0 wrong (from :func:`confusion_stats`)."""
    return stats[:, 0]


def _ratio(hits: float, total: float) -> float:
    return hits / total if total > 0 else float("nan")


def accuracy_from_stats(stats: np.ndarray) -> float:
    return _ratio(stats[:, 0].sum(), len(stats))


def sensitivity_from_stats(stats: np.ndarray) -> float:
    return _ratio(stats[:, 1].sum(), stats[:, 2].sum())


def specificity_from_stats(stats: np.ndarray) -> float:
    return _ratio(stats[:, 3].sum(), stats[:, 4].sum())


def _ratio_many(hits: np.ndarray, total: np.ndarray, empty: float = float("nan")) -> np.ndarray:
    """Per resample ``hits / total`` (``empty`` where ``total`` is 0); sums of indicators or counts are exact."""
    return np.divide(hits, total, out=np.full(hits.shape, empty), where=total > 0)


def accuracy_from_stats_many(stats: np.ndarray) -> np.ndarray:
    return _ratio_many(stats[..., 0].sum(axis=1), np.full(len(stats), float(stats.shape[1])))


def sensitivity_from_stats_many(stats: np.ndarray) -> np.ndarray:
    return _ratio_many(stats[..., 1].sum(axis=1), stats[..., 2].sum(axis=1))


def specificity_from_stats_many(stats: np.ndarray) -> np.ndarray:
    return _ratio_many(stats[..., 3].sum(axis=1), stats[..., 4].sum(axis=1))


def auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """ROC AUC of each class against the rest, averaged over classes (the ECG
    paper's "AUC of the ROC curve for each class ... average value")."""
    labels, scores = _labels_and_scores(y_true, y_pred)
    if any((labels == k).all() or not (labels == k).any() for k in range(scores.shape[1])):
        return float("nan")  # undefined, as scikit-learn says for one class (without its warning: callers report it)
    return float(np.mean([skm.roc_auc_score(labels == k, scores[:, k]) for k in range(scores.shape[1])]))


def auc_stats(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per item (N, 1 + K): the label, then the K class scores."""
    labels, scores = _labels_and_scores(y_true, y_pred)
    return np.column_stack([labels, scores])


def auc_from_stats(stats: np.ndarray) -> float:
    """:func:`auc` by the Mann-Whitney identity (AUC = P(positive scores
    higher) + P(tie) / 2, from average ranks): the same number as
    scikit-learn's, without its per-call checks, for bootstrap resamples."""
    labels, values = stats[:, 0], []
    ranks = rankdata(stats[:, 1:], axis=0)  # every class's scores in one call
    for k in range(stats.shape[1] - 1):
        positive = labels == k
        n_pos, n_neg = int(positive.sum()), int((~positive).sum())
        if n_pos == 0 or n_neg == 0:
            return float("nan")  # undefined, as scikit-learn says for one class
        values.append((ranks[positive, k].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return float(np.mean(values))


def auc_from_stats_many(stats: np.ndarray) -> np.ndarray:
    """:func:`auc_from_stats` of R resamples at once, (R, N, 1 + K) -> (R,):
    the same ranks (average ranks along each resample) and the same sums."""
    labels, ranks = stats[..., 0], rankdata(stats[..., 1:], axis=1)
    values = []
    for k in range(stats.shape[2] - 1):
        positive = labels == k
        n_pos = positive.sum(axis=1)
        n_neg = positive.shape[1] - n_pos
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (np.where(positive, ranks[..., k], 0.0).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        values.append(np.where((n_pos == 0) | (n_neg == 0), np.nan, value))
    return np.mean(values, axis=0)


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


def dice_from_stats_many(stats: np.ndarray) -> np.ndarray:
    return _ratio_many(stats[..., 0].sum(axis=1), stats[..., 1].sum(axis=1), empty=1.0)


def dice(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return dice_from_stats(dice_stats(y_true, y_pred))


def dice_from_masks(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Dice of one mask pair."""
    return dice(np.asarray(truth)[None], np.asarray(prediction, dtype=np.float32)[None])


def jaccard_from_stats(stats: np.ndarray) -> float:
    """Jaccard (IoU) pooled over every pixel of every item: TP / (TP + FP + FN),
    from the same statistics as Dice (so it equals Dice / (2 - Dice))."""
    tp2, total = float(np.sum(stats[:, 0])), float(np.sum(stats[:, 1]))
    return tp2 / (2 * total - tp2) if total > 0 else 1.0


def jaccard_from_stats_many(stats: np.ndarray) -> np.ndarray:
    tp2, total = stats[..., 0].sum(axis=1), stats[..., 1].sum(axis=1)
    return _ratio_many(tp2, 2 * total - tp2, empty=1.0)


def jaccard(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return jaccard_from_stats(dice_stats(y_true, y_pred))


def slice_f1s(stats: np.ndarray) -> np.ndarray:
    """Pixel F1 (Dice) of each item; an item with an empty truth and an empty
    prediction scores 1 (nothing to find, nothing found)."""
    return np.divide(stats[:, 0], stats[:, 1], out=np.ones(len(stats)), where=stats[:, 1] > 0)


def f1_per_slice_from_stats(stats: np.ndarray) -> float:
    """:func:`slice_f1s` averaged over items."""
    return float(np.mean(slice_f1s(stats))) if len(stats) else float("nan")


def f1_per_slice(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return f1_per_slice_from_stats(dice_stats(y_true, y_pred))


AUC_BINS = 1000


def pixel_auc_stats(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per item (N, 2 * AUC_BINS): histograms of the positive and of the negative
    pixels' probabilities, quantised to 1/AUC_BINS."""
    truth = (np.asarray(y_true) > 0.5).reshape(len(y_true), -1)
    bins = np.clip((np.asarray(y_pred, dtype=np.float64) * AUC_BINS).astype(np.int64), 0, AUC_BINS - 1).reshape(len(y_pred), -1)
    offsets = np.arange(len(bins))[:, None] * 2 * AUC_BINS + np.where(truth, 0, AUC_BINS)
    return np.bincount((bins + offsets).ravel(), minlength=len(bins) * 2 * AUC_BINS).reshape(len(bins), 2 * AUC_BINS).astype(np.float64)


def pixel_auc_from_stats(stats: np.ndarray) -> float:
    """ROC AUC of pixel probabilities against the truth, pooled over all pixels
    (Mann-Whitney on the histograms; ties within a 1/AUC_BINS bin count half)."""
    positive, negative = stats[:, :AUC_BINS].sum(axis=0), stats[:, AUC_BINS:].sum(axis=0)
    n_pos, n_neg = positive.sum(), negative.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    below = np.cumsum(negative) - negative
    return float((positive * (below + negative / 2)).sum() / (n_pos * n_neg))


def pixel_auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return pixel_auc_from_stats(pixel_auc_stats(y_true, y_pred))


def _macro(kind: str):  # noqa: ANN202 - a metric function
    def fn(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        labels, scores = _labels_and_scores(y_true, y_pred)
        if len(labels) == 0:
            return float("nan")
        score = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[kind]
        return float(score(labels, scores.argmax(axis=1), average="macro", zero_division=0))

    fn.__name__ = f"{kind}_macro"
    return fn


def class_indicators(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per item (N, 2K): the one-hot true class, then the one-hot predicted
    class - sufficient statistics of the macro-averaged precision, recall and F1
    (averaged, as scikit-learn does, over the classes that occur in the truth
    or the predictions; 0 where a class is never predicted or never true)."""
    labels, scores = _labels_and_scores(y_true, y_pred)
    k = scores.shape[1]
    eye = np.eye(k)
    return np.concatenate([eye[labels], eye[scores.argmax(axis=1)]], axis=1)


def _macro_from_stats(kind: str):  # noqa: ANN202 - a from_stats function
    def from_stats(stats: np.ndarray) -> float:
        k = stats.shape[1] // 2
        truth, predicted = stats[:, :k], stats[:, k:]
        tp, n_true, n_pred = (truth * predicted).sum(0), truth.sum(0), predicted.sum(0)
        present = (n_true + n_pred) > 0
        if not present.any():
            return float("nan")
        if kind == "precision":
            values = np.divide(tp, n_pred, out=np.zeros(k), where=n_pred > 0)
        elif kind == "recall":
            values = np.divide(tp, n_true, out=np.zeros(k), where=n_true > 0)
        else:
            values = np.divide(2 * tp, n_true + n_pred, out=np.zeros(k), where=present)
        return float(values[present].mean())

    return from_stats


def _macro_from_stats_many(kind: str):  # noqa: ANN202 - a from_stats_many function
    """:func:`_macro_from_stats` of R resamples at once, (R, N, 2K) -> (R,)."""

    def from_stats_many(stats: np.ndarray) -> np.ndarray:
        k = stats.shape[2] // 2
        truth, predicted = stats[..., :k], stats[..., k:]
        tp, n_true, n_pred = (truth * predicted).sum(1), truth.sum(1), predicted.sum(1)
        present = (n_true + n_pred) > 0
        if kind == "precision":
            values = np.divide(tp, n_pred, out=np.zeros(tp.shape), where=n_pred > 0)
        elif kind == "recall":
            values = np.divide(tp, n_true, out=np.zeros(tp.shape), where=n_true > 0)
        else:
            values = np.divide(2 * tp, n_true + n_pred, out=np.zeros(tp.shape), where=present)
        counts = present.sum(1)
        return np.divide((values * present).sum(1), counts, out=np.full(len(stats), np.nan), where=counts > 0)

    return from_stats_many


@hookimpl
def cardiobench_metrics() -> list[MetricSpec]:
    return [
        MetricSpec("mae", "mean absolute error", False, mae, SKLEARN, regression_stats, mae_from_stats, mae_from_stats_many, absolute_errors),
        MetricSpec("rmse", "root mean squared error", False, rmse, SKLEARN, regression_stats, rmse_from_stats, rmse_from_stats_many),
        MetricSpec("r2", "coefficient of determination R^2", True, r2, SKLEARN, regression_stats, r2_from_stats, r2_from_stats_many),
        MetricSpec("accuracy", "share of items whose highest-scoring class is the true one", True, accuracy, SKLEARN, confusion_stats, accuracy_from_stats, accuracy_from_stats_many, correct_items, outcomes=True),
        MetricSpec("sensitivity", "recall of the positive class (class 1)", True, sensitivity, SKLEARN, confusion_stats, sensitivity_from_stats, sensitivity_from_stats_many),
        MetricSpec("specificity", "recall of the negative class (class 0)", True, specificity, SKLEARN, confusion_stats, specificity_from_stats, specificity_from_stats_many),
        MetricSpec("auc", "ROC AUC of each class against the rest, averaged over classes", True, auc, SKLEARN, auc_stats, auc_from_stats, auc_from_stats_many),
        MetricSpec("precision-macro", "precision of each class, averaged over classes (macro)", True, _macro("precision"), SKLEARN, class_indicators, _macro_from_stats("precision"), _macro_from_stats_many("precision")),
        MetricSpec("recall-macro", "recall of each class, averaged over classes (macro)", True, _macro("recall"), SKLEARN, class_indicators, _macro_from_stats("recall"), _macro_from_stats_many("recall")),
        MetricSpec("f1-macro", "F1 of each class, averaged over classes (macro)", True, _macro("f1"), SKLEARN, class_indicators, _macro_from_stats("f1"), _macro_from_stats_many("f1")),
        MetricSpec("dice", "Dice similarity of binary masks (threshold 0.5), pooled over all pixels", True, dice, TORCHMETRICS, dice_stats, dice_from_stats, dice_from_stats_many),
        MetricSpec("jaccard", "Jaccard similarity (IoU) of binary masks (threshold 0.5), pooled over all pixels", True, jaccard, TORCHMETRICS, dice_stats, jaccard_from_stats, jaccard_from_stats_many),
        MetricSpec("f1-per-slice", "pixel F1 (Dice) of each item's mask (threshold 0.5), averaged over items", True, f1_per_slice, TORCHMETRICS, dice_stats, f1_per_slice_from_stats, item_values=slice_f1s),
        MetricSpec("hd95", "95th-percentile Hausdorff distance of binary masks (threshold 0.5) in pixels of the evaluated grid, averaged over items where defined", False, hd95, SCIPY_MONAI, hd95_stats, hd95_from_stats, hd95_from_stats_many, hd95_values),
        MetricSpec("pixel-auc", "ROC AUC of pixel probabilities, pooled over all pixels (probabilities binned to 1/1000)", True, pixel_auc, SKLEARN, pixel_auc_stats, pixel_auc_from_stats),
    ]
