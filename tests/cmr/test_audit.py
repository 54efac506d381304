"""The consistency audit of reported numbers: constructed rows, and the
impossible rows the two DCM papers report."""

from __future__ import annotations

import pytest

from cardiobench import audit
from cardiobench.specs import ReportedResult


def _row(task: str, method: str, **values: float) -> list[ReportedResult]:
    return [ReportedResult(task, "d", method, metric, value, "test", "paper", "Table X") for metric, value in values.items()]


def test_accuracy_must_lie_between_sensitivity_and_specificity():
    check = audit.accuracy_between_sensitivity_and_specificity()
    results = _row("t", "fine", accuracy=0.8, sensitivity=0.7, specificity=0.9) + _row("t", "too-high", accuracy=0.95, sensitivity=0.7, specificity=0.9)
    results += _row("t", "incomplete", accuracy=0.1, sensitivity=0.7)
    found = audit.audit([check], results)
    assert [v.method for v in found] == ["too-high"]
    assert "accuracy 0.95, sensitivity 0.7, specificity 0.9" in found[0].text()


def test_jaccard_bound_by_dice():
    check = audit.jaccard_dice_bound()
    exact = 0.8 / (2 - 0.8)
    results = _row("s", "equal", dice=0.8, jaccard=exact) + _row("s", "low", dice=0.8, jaccard=exact - 0.01) + _row("s", "above-dice", dice=0.5, jaccard=0.6)
    assert sorted(v.method for v in audit.audit([check], results)) == ["above-dice", "low"]


def test_the_papers_impossible_rows_are_flagged(registry):
    flagged = {}
    for task in ("myo-seg", "dcm-cls"):
        spec = registry.task(task)
        for v in audit.audit(spec.checks, registry.reported_for(task)):
            flagged.setdefault(v.table, set()).add(v.method)
    assert flagged == {
        "paper 1 Table 2": {"DeepLabV3", "SegNet", "U-Net"},
        "paper 1 Table 3": {"Residual attention network", "ResNet50", "ResNet101", "Multi-task attention network (ours)"},
        "ACNet Table II": {"VGG16"},
    }


def test_patient_grouping_scores_the_mean_of_each_patients_slices():
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from cardiobench.engine.loop import Predictions
    from cardiobench.evaluation import score
    from cardiobench.specs import Grouping
    from cardiobench_cmr.acdc.dataset import patient_of
    from cardiobench_metrics import cardiobench_metrics

    auc = next(m for m in cardiobench_metrics() if m.name == "auc")
    rng = np.random.default_rng(0)
    patients = [f"patient{i:03d}" for i in range(12)]
    truth = {p: int(i % 3 == 0) for i, p in enumerate(patients)}
    ids, y_true, p1 = [], [], []
    for p in patients:
        for z in range(int(rng.integers(2, 6))):
            ids.append(f"{p}:ED:z{z:02d}")
            y_true.append(truth[p])
            p1.append(float(np.clip(0.3 * truth[p] + rng.random(), 0, 1)))
    p1 = np.array(p1)
    preds = Predictions(ids, np.array(y_true), np.stack([1 - p1, p1], axis=1))
    values = score([auc], preds, 0, 0, groupings=[(Grouping("patient", patient_of, ("auc",)), [auc])])
    mean_score = [p1[[i for i, name in enumerate(ids) if name.startswith(p + ":")]].mean() for p in patients]
    assert values["auc/patient"].value == pytest.approx(roc_auc_score([truth[p] for p in patients], mean_score), abs=1e-12)
    assert values["auc"].value == pytest.approx(roc_auc_score(y_true, p1), abs=1e-12)
