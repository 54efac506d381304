"""Numbers AG-Sononet (../shared/papers/ag-sononet-fetal-planes.txt) reports
on its private 14-class fetal screening data (13 standard planes and
background): Table 1 (every model), Table 2 (per class, AG-Sononet-FT-8) and
Table 3 (weakly supervised localisation, AG-Sononet-FT-16).

They are registered under ``fetal-planes-db`` so the leaderboards show them
beside our rows, but the data, the classes (14 vs our 6) and the protocol
differ: they are never comparable to, nor ranked against, FETAL_PLANES_DB runs.
"""

from __future__ import annotations

from cardiobench.specs import ReportedResult
from cardiobench_fetal.tasks import CITATION

DATASET = "fetal-planes-db"
SPLIT = "private 14-class test"
NOTES = "the paper's private 14-class data (38,243 test images), not FETAL_PLANES_DB"

# method as printed: (model, accuracy, F1, precision, recall, forward ms, backward ms, parameters in millions)
TABLE_1 = {
    "Sononet-8": ("sononet-8", 0.969, 0.899, 0.878, 0.922, 1.36, 2.60, 0.16),
    "AG-Sononet-8": ("ag-sononet-8", 0.976, 0.921, 0.911, 0.933, 1.86, 3.46, 0.18),
    "AG-Sononet-DS-8": ("ag-sononet-8-ds", 0.975, 0.918, 0.907, 0.929, 1.92, 3.51, 0.18),
    "AG-Sononet-FT-8": ("ag-sononet-8-ft", 0.977, 0.922, 0.916, 0.929, 1.92, 3.47, 0.18),
    "Sononet-16": ("sononet-16", 0.977, 0.923, 0.916, 0.931, 1.45, 3.92, 0.65),
    "AG-Sononet-16": ("ag-sononet-16", 0.976, 0.925, 0.917, 0.932, 1.88, 5.13, 0.70),
    "AG-Sononet-DS-16": ("ag-sononet-16-ds", 0.978, 0.924, 0.919, 0.929, 1.90, 5.19, 0.71),
    "AG-Sononet-FT-16": ("ag-sononet-16-ft", 0.978, 0.929, 0.924, 0.934, 1.94, 5.13, 0.70),
    "Sononet-32": ("sononet-32", 0.979, 0.931, 0.924, 0.938, 2.40, 6.72, 2.58),
    "AG-Sononet-32": ("ag-sononet-32", 0.980, 0.932, 0.928, 0.937, 3.01, 8.74, 2.79),
    "AG-Sononet-DS-32": ("ag-sononet-32-ds", 0.978, 0.929, 0.921, 0.937, 2.98, 8.81, 2.80),
    "AG-Sononet-FT-32": ("ag-sononet-32-ft", 0.980, 0.933, 0.931, 0.935, 2.92, 8.68, 2.79),
}
TABLE_1_METRICS = ("accuracy", "f1-macro", "precision-macro", "recall-macro", "forward_ms_per_image", "backward_ms_per_image", "parameters_millions")

# class: (precision, recall, F1) of AG-Sononet-FT-8
TABLE_2 = {
    "Brain (Cb.)": (0.988, 0.982, 0.985),
    "Brain (Tv.)": (0.980, 0.990, 0.985),
    "Profile": (0.953, 0.962, 0.958),
    "Lips": (0.976, 0.956, 0.966),
    "Abdominal": (0.963, 0.961, 0.962),
    "Kidneys": (0.863, 0.902, 0.882),
    "Femur": (0.975, 0.976, 0.975),
    "Spine (Cor.)": (0.935, 0.979, 0.957),
    "Spine (Sag.)": (0.936, 0.979, 0.957),
    "4CH": (0.943, 0.970, 0.956),
    "3VV": (0.694, 0.722, 0.708),
    "RVOT": (0.691, 0.705, 0.698),
    "LVOT": (0.925, 0.933, 0.929),
    "Background": (0.995, 0.992, 0.993),
}

# class: (IoU mean, IoU sd, Correct share, Relative share) of AG-Sononet-FT-16
TABLE_3 = {
    "Brain (Cb.)": (0.69, 0.11, 0.96, 0.96),
    "Brain (Tv.)": (0.68, 0.12, 0.96, 0.96),
    "Profile": (0.31, 0.08, 0.00, 0.80),
    "Lips": (0.42, 0.18, 0.36, 0.60),
    "Abdominal": (0.71, 0.10, 0.96, 0.96),
    "Kidneys": (0.73, 0.13, 0.92, 0.98),
    "Femur": (0.31, 0.11, 0.02, 0.58),
    "Spine (Cor.)": (0.53, 0.13, 0.56, 0.76),
    "Spine (Sag.)": (0.53, 0.11, 0.54, 0.94),
    "4CH": (0.61, 0.14, 0.76, 0.86),
    "3VV": (0.42, 0.14, 0.34, 0.62),
    "RVOT": (0.56, 0.15, 0.70, 0.76),
    "LVOT": (0.54, 0.15, 0.62, 0.80),
}


def _result(method: str, model: str | None, metric: str, value: float, table: str) -> ReportedResult:
    return ReportedResult("fetal-planes", DATASET, method, metric, value, SPLIT, CITATION, table, model=model, notes=NOTES)


def results() -> list[ReportedResult]:
    out = [_result(method, row[0], metric, value, "Table 1") for method, row in TABLE_1.items() for metric, value in zip(TABLE_1_METRICS, row[1:])]
    out += [_result("AG-Sononet-FT-8", "ag-sononet-8-ft", f"{metric}/{cls}", value, "Table 2") for cls, row in TABLE_2.items() for metric, value in zip(("precision", "recall", "f1"), row)]
    out += [_result("AG-Sononet-FT-16", "ag-sononet-16-ft", f"{metric}/{cls}", value, "Table 3") for cls, row in TABLE_3.items() for metric, value in zip(("iou_mean", "iou_sd", "correct", "relative"), row)]
    return out
