"""Registered metrics against independent references (torchmetrics, numpy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.functional import mean_absolute_error, mean_squared_error, r2_score

from cardiobench.evaluation import bootstrap_ci, score
from cardiobench.engine.loop import Predictions


def test_regression_metrics_match_references(registry):
    rng = np.random.default_rng(1)
    y = rng.normal(55, 12, 257)
    p = y + rng.normal(0, 5, 257)
    t_y, t_p = torch.from_numpy(y), torch.from_numpy(p)
    assert np.isclose(registry.metric("mae").fn(y, p), float(mean_absolute_error(t_p, t_y)))
    assert np.isclose(registry.metric("rmse").fn(y, p), float(mean_squared_error(t_p, t_y, squared=False)))
    assert np.isclose(registry.metric("r2").fn(y, p), float(r2_score(t_p, t_y)))
    assert np.isclose(registry.metric("mae").fn(y, p), np.abs(y - p).mean())
    assert registry.metric("r2").higher_is_better and not registry.metric("mae").higher_is_better


def test_bootstrap_interval_brackets_the_value(registry):
    rng = np.random.default_rng(2)
    y = rng.normal(55, 12, 400)
    p = y + rng.normal(0, 5, 400)
    values = score([registry.metric("mae")], Predictions([str(i) for i in range(400)], y, p), 500, seed=0)
    mae = values["mae"]
    assert mae.ci_low < mae.value < mae.ci_high and mae.ci_high - mae.ci_low < 1.5
    assert bootstrap_ci(registry.metric("mae").fn, y, p, 500, 0) == bootstrap_ci(registry.metric("mae").fn, y, p, 500, 0)


def test_classification_metrics_match_torchmetrics(registry):
    from torchmetrics.functional.classification import binary_accuracy, binary_auroc, binary_recall, binary_specificity

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p1 = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
    scores = np.stack([1 - p1, p1], axis=1)
    target, preds = torch.as_tensor(y), torch.as_tensor(p1)
    assert registry.metric("accuracy").fn(y, scores) == pytest.approx(binary_accuracy(preds, target).item())
    assert registry.metric("sensitivity").fn(y, scores) == pytest.approx(binary_recall(preds, target).item())
    assert registry.metric("specificity").fn(y, scores) == pytest.approx(binary_specificity(preds, target).item())
    assert registry.metric("auc").fn(y, scores) == pytest.approx(binary_auroc(preds, target).item(), abs=1e-6)


def test_macro_metrics_match_torchmetrics(registry):
    from torchmetrics.functional.classification import multiclass_f1_score, multiclass_precision, multiclass_recall

    rng = np.random.default_rng(5)
    y = rng.integers(0, 6, 400)
    scores = rng.dirichlet(np.ones(6), 400) + 0.6 * np.eye(6)[y]
    target, preds = torch.as_tensor(y), torch.as_tensor(scores)
    for name, reference in (("precision-macro", multiclass_precision), ("recall-macro", multiclass_recall), ("f1-macro", multiclass_f1_score)):
        assert registry.metric(name).fn(y, scores) == pytest.approx(reference(preds, target, num_classes=6, average="macro").item()), name


@pytest.mark.parametrize("name", ["mae", "rmse", "r2", "accuracy", "sensitivity", "specificity", "auc", "dice", "precision-macro", "recall-macro", "f1-macro"])
def test_sufficient_statistics_give_the_library_value(registry, name):
    """A metric's bootstrap fast path (item_stats -> from_stats) equals its library fn."""
    metric = registry.metric(name)
    rng = np.random.default_rng(4)
    for n in (1, 2, 97):
        if name == "dice":
            y, p = rng.random((n, 9, 7)) > 0.6, rng.random((n, 9, 7))
        elif name in ("mae", "rmse", "r2"):
            y, p = rng.normal(55, 10, n), rng.normal(55, 12, n)
        elif name == "auc":  # coarse scores: ties, which count one half
            y, p = np.r_[0, 1, rng.integers(0, 2, n)], np.round(rng.dirichlet([1, 1], n + 2), 1)
        else:
            y, p = rng.integers(0, 2, n), rng.dirichlet([1, 1], n)
        expected = metric.fn(y, p)
        assert metric.from_stats(metric.item_stats(y, p)) == pytest.approx(expected, nan_ok=True)
    if name in ("mae", "rmse", "r2"):  # constant targets: R^2's 0/0, perfect and not
        flat = np.full(5, 40.0)
        for p in (flat, flat + rng.normal(0, 1, 5)):
            assert metric.from_stats(metric.item_stats(flat, p)) == pytest.approx(metric.fn(flat, p))
    if name in ("accuracy", "auc", "precision-macro", "recall-macro", "f1-macro"):
        labels, three = rng.integers(0, 3, 50), rng.dirichlet([1, 1, 1], 50)
        assert metric.from_stats(metric.item_stats(labels, three)) == pytest.approx(metric.fn(labels, three))


def test_class_share_baseline_covers_classes_absent_from_training(registry):
    from cardiobench.runner import _baseline_predictions

    preds = Predictions(["a", "b"], np.array([0, 3]), np.full((2, 4), 0.25))
    baseline = _baseline_predictions(registry.task("fetal-planes"), np.array([0, 0, 1, 2]), preds)
    assert baseline.shape == (2, 4) and np.allclose(baseline[0], [0.5, 0.25, 0.25, 0.0])
    assert registry.metric("f1-macro").fn(preds.y_true, baseline) == pytest.approx(1 / 3)


def test_mask_metrics_match_scikit_learn():
    from sklearn.metrics import f1_score, jaccard_score, roc_auc_score

    import cardiobench_metrics as m

    rng = np.random.default_rng(3)
    truth = (rng.random((7, 16, 16)) < 0.3).astype(float)
    truth[2] = 0  # a slice without the structure
    prob = np.clip(0.35 * truth + 0.65 * rng.random(truth.shape), 0, 1)
    assert m.jaccard(truth, prob) == pytest.approx(jaccard_score(truth.ravel(), prob.ravel() >= 0.5))
    per_slice = [f1_score(t.ravel(), p.ravel() >= 0.5, zero_division=1.0) for t, p in zip(truth, prob)]
    assert m.f1_per_slice(truth, prob) == pytest.approx(np.mean(per_slice))
    binned = np.floor(prob * m.AUC_BINS).clip(0, m.AUC_BINS - 1)
    assert m.pixel_auc(truth, prob) == pytest.approx(roc_auc_score(truth.ravel(), binned.ravel()), abs=1e-12)
    assert m.pixel_auc(truth, prob) == pytest.approx(roc_auc_score(truth.ravel(), prob.ravel()), abs=2e-3)
    dice = m.dice(truth, prob)
    assert m.jaccard(truth, prob) == pytest.approx(dice / (2 - dice))


def test_hd95_matches_monai_and_defines_empty_masks(registry):
    """HD95 per item equals MONAI's compute_hausdorff_distance(percentile=95);
    both masks empty is 0, one empty is undefined and left out of the mean."""
    from monai.metrics import compute_hausdorff_distance
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(5)
    truth = np.stack([gaussian_filter(rng.normal(size=(40, 48)), 3) > 0.02 for _ in range(6)])
    prob = np.stack([gaussian_filter(rng.normal(size=(40, 48)), 3) for _ in range(6)]) + 0.5
    prob[0] = truth[0] * 0.9  # a perfect item
    stats = registry.metric("hd95").item_stats(truth, prob)
    reference = compute_hausdorff_distance(torch.as_tensor(prob > 0.5)[:, None].float(), torch.as_tensor(truth)[:, None].float(), percentile=95).numpy().ravel()
    assert stats[:, 1].all() and np.allclose(stats[:, 0], reference, atol=1e-4) and stats[0, 0] == 0
    empty, one_empty = np.zeros((1, 40, 48)), np.zeros((1, 40, 48))
    one_empty[0, 5:9, 5:9] = 1
    both = registry.metric("hd95").item_stats(np.concatenate([truth, empty, empty]), np.concatenate([prob, empty, one_empty]))
    assert both[6].tolist() == [0.0, 1.0] and both[7].tolist() == [0.0, 0.0]
    assert registry.metric("hd95").from_stats(both) == pytest.approx(reference.sum() / 7)


@pytest.mark.parametrize("name", ["auc", "accuracy", "sensitivity", "specificity", "dice", "jaccard", "hd95", "mae", "rmse", "r2", "f1-macro", "precision-macro", "recall-macro"])
def test_many_resamples_at_once_give_each_resamples_value_bit_for_bit(registry, name):
    """The leaderboard's vectorised bootstrap (``from_stats_many``) against the
    per-resample ``from_stats``, on the same resamples, ties and one-class draws included."""
    from cardiobench.evaluation import bootstrap_draws, bootstrap_draws_many, on_rows, on_rows_many

    metric = registry.metric(name)
    rng = np.random.default_rng(7)
    if name in ("dice", "jaccard", "hd95"):
        y_true, y_pred = rng.random((25, 6, 6)) > 0.6, rng.random((25, 6, 6)).astype(np.float32)
        y_true[2], y_pred[2] = False, 0.0  # an empty truth, predicted empty
    elif name in ("mae", "rmse", "r2"):
        y_true, y_pred = rng.normal(55, 10, 12).round(), rng.normal(55, 10, 12)
        y_true[:3] = 40.0  # some resamples draw a constant target (r2's special rule)
    elif name.endswith("-macro"):
        y_true, y_pred = rng.integers(0, 4, 12), rng.random((12, 4))
    else:
        y_true, y_pred = rng.integers(0, 3 if name == "auc" else 2, 12), np.round(rng.random((12, 3)) if name == "auc" else rng.random(12), 1)
        if name == "auc":
            y_pred /= y_pred.sum(1, keepdims=True)
    rows = np.arange(len(y_true))
    one = bootstrap_draws(on_rows(metric, y_true, y_pred), rows, 300, 3)
    many = bootstrap_draws_many(on_rows_many(metric, y_true, y_pred), rows, 300, 3, chunk=64)
    assert one is not None and np.array_equal(one, many, equal_nan=True)
