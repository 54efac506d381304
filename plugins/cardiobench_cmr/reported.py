"""Numbers the two DCM papers report, on their private data (paper 1: 1,155
LGE slices, 5-fold CV; ACNet: 485 T1-mapping slices, 5-fold CV). Never
comparable with ACDC runs: other images, other labels."""

from __future__ import annotations

from cardiobench.specs import ReportedResult
from cardiobench_cmr.tasks import ACNET_CITATION, MTL_CITATION

DATASET = "acdc"
SEG_COLUMNS = ("dice", "pixel-auc", "f1-per-slice", "jaccard")
CLS_COLUMNS = ("accuracy", "sensitivity", "specificity", "auc")

# paper 1, Table 2 (DSC, AUC, F1-score, JSC) and Table 3 (accuracy, sensitivity, specificity, AUC)
MTL_TABLE_2 = {
    ("DeepLabV3", "deeplabv3"): (0.7806, 0.8561, 0.7729, 0.6127),
    ("SegNet", "segnet"): (0.7496, 0.7751, 0.7187, 0.5155),
    ("U-Net", "unet"): (0.7613, 0.8168, 0.7403, 0.5611),
    ("Multi-task attention network (ours)", "mtl-attn"): (0.8165, 0.9230, 0.8164, 0.6966),
}
MTL_TABLE_3 = {
    ("Residual attention network", "resattnet56"): (0.9258, 0.1026, 0.8375, 0.9532),
    ("ResNet50", "resnet50"): (0.9208, 0.2251, 0.8261, 0.9429),
    ("ResNet101", "resnet101"): (0.9431, 0.2870, 0.8729, 0.9623),
    ("Multi-task attention network (ours)", "mtl-attn"): (0.9763, 0.7592, 0.9164, 0.9832),
}
# ACNet, Table I (experiment 1) and Table II (experiment 2, minority class enlarged): accuracy, sensitivity, specificity
ACNET_TABLE_I = {
    ("Residual attention network", "resattnet56"): (0.4179, 0.1067, 0.9571),
    ("VGG16", "vgg16"): (0.8593, 0.3642, 0.9142),
    ("ResNet50", "resnet50"): (0.6251, 0.1753, 0.8327),
    ("ResNet101", "resnet101"): (0.8347, 0.3162, 0.9059),
    ("ACNet (ours)", "acnet"): (0.9277, 0.5305, 0.9901),
}
ACNET_TABLE_II = {
    ("Residual attention network", "resattnet56"): (0.4718, 0.6890, 0.3510),
    ("VGG16", "vgg16"): (0.9452, 0.7891, 0.9405),
    ("ResNet50", "resnet50"): (0.7859, 0.7132, 0.8327),
    ("ResNet101", "resnet101"): (0.9274, 0.7672, 0.9361),
    ("ACNet (ours)", "acnet"): (0.97152, 0.9582, 0.9761),
}


def _rows(task: str, table: str, citation: str, split: str, columns: tuple[str, ...], rows: dict, protocol: str = "paper", notes: str = "") -> list[ReportedResult]:
    return [
        ReportedResult(task, DATASET, method, metric, value, split, citation, table, protocol, model, notes)
        for (method, model), values in rows.items()
        for metric, value in zip(columns, values)
    ]


def results() -> list[ReportedResult]:
    lge = "private LGE, 5-fold CV"
    t1 = "private T1-mapping, 5-fold CV"
    return (
        _rows("myo-seg", "paper 1 Table 2", MTL_CITATION, lge, SEG_COLUMNS, MTL_TABLE_2)
        + _rows("dcm-cls", "paper 1 Table 3", MTL_CITATION, lge, CLS_COLUMNS, MTL_TABLE_3)
        + _rows("dcm-cls", "ACNet Table I", ACNET_CITATION, t1, CLS_COLUMNS[:3], ACNET_TABLE_I, notes="experiment 1: 485 slices, 36 normal")
        + _rows("dcm-cls", "ACNet Table II", ACNET_CITATION, t1, CLS_COLUMNS[:3], ACNET_TABLE_II, protocol="paper+oversample", notes="experiment 2: normal slices enlarged from 36 to 191 by rotation and noise")
    )
