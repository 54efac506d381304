"""The ecg plugin's task: PVC vs APB segments of MIT-BIH (section 4)."""

from __future__ import annotations

from pathlib import Path


from cardiobench import plotting
from cardiobench.contract import ModelContract
from cardiobench.engine.loop import Predictions
from cardiobench.evaluation import class_shares
from cardiobench.specs import TaskSpec
from cardiobench_ecg.analysis import analyse
from cardiobench_ecg.segments import CLASSES

PRESETS = Path(__file__).parent / "presets"
CITATION = "Attention based joint learning for supervised electrocardiogram arrhythmia differentiation with unsupervised abnormal beat segmentation (../shared/papers/ecg-attention-joint-seg-cls.txt)"


def roc_plot(preds: Predictions, out: Path) -> list[Path]:
    return [plotting.roc_curves(preds.y_true, preds.y_pred, out, list(CLASSES))]


ECG_PVC_APB = TaskSpec(
    name="ecg-pvc-apb",
    version=1,
    description="ECG segments (2000 samples, both leads) with PVC vs atrial premature beats; unsupervised abnormal-beat attention",
    citation=CITATION,
    modality="signal-classification",
    default_dataset="mitdb",
    metrics=("auc", "accuracy", "sensitivity", "specificity"),
    rank_metric="auc",
    presets_dir=PRESETS / "ecg-pvc-apb",
    reference_baseline=class_shares,
    reference_baseline_name="training class prior",
    paper_baseline="ecg-classifier",  # the classifier-alone baseline of section 5.1
    plots=roc_plot,
    analysis=analyse,
    contract=ModelContract("CL", 2, "classes", "1 for PVC, 0 for APB", classes=2),
)
