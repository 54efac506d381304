"""An undefined validation metric is not a divergence: the fold says which
class its validation part lacks and selects by loss; a non-finite loss is
reported as the divergence it is."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from cardiobench import selection
from cardiobench_metrics import auc
from tests.conftest import cli


class Part:
    def __init__(self, targets):
        self.targets = targets

    def class_targets(self):
        return self.targets


def test_the_missing_classes_are_named(registry):
    metric = registry.metric("auc")
    assert selection.undefined_on(metric, Part([0, 0, 3, 3]), ("N", "S", "V", "F")) == "has no 'S' and no 'V' item"
    assert selection.undefined_on(metric, Part([0, 1, 2, 3]), ("N", "S", "V", "F")) is None
    assert selection.undefined_on(registry.metric("accuracy"), Part([0, 0]), ("N", "S")) is None, "accuracy is defined on one class"
    assert selection.undefined_on(metric, object(), ("N", "S")) is None, "a part that does not say its classes is judged after an epoch"
    chosen, note = selection.for_fold(selection.selection(registry, registry.task("dcm-cls"), "rank"), registry.task("dcm-cls"), metric, Part([0, 0, 0]), ("other", "DCM"), "[fold2] ")
    assert chosen is selection.BY_LOSS and note.startswith("[fold2] the validation part has no 'DCM' item, so auc cannot select epochs")


def test_auc_of_one_class_is_nan_without_a_library_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(auc(np.array([1, 1, 1]), np.array([[0.2, 0.8], [0.4, 0.6], [0.1, 0.9]])))


def test_a_non_finite_loss_is_reported_as_divergence(tmp_path: Path):
    result = cli("run", "--task", "lvef", "--model", "r2plus1d", "--preset", "ci", "--set", "train.lr=1e30", "--runs-dir", tmp_path, "--no-progress")
    assert result.code != 0 and "training diverged: the loss became non-finite at epoch 1" in result.err, result.err
