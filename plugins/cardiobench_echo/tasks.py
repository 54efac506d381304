"""The echo plugin's tasks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiobench.plotting import regression_plots
from cardiobench.specs import TaskSpec

PRESETS = Path(__file__).parent / "presets"
STCA_CITATION = "Chen and Li, Semantic-aware temporal channel-wise attention for cardiac function assessment, ISBI 2022 (../shared/papers/stca-lvef-echo.txt)"

LVEF = TaskSpec(
    name="lvef",
    version=1,
    description="Left-ventricular ejection fraction (%) regressed from an apical-4-chamber echocardiogram video",
    citation=STCA_CITATION,
    modality="video-regression",
    default_dataset="echonet-dynamic",
    metrics=("mae", "rmse", "r2"),
    rank_metric="mae",
    presets_dir=PRESETS / "lvef",
    reference_baseline=lambda train_ef: np.mean(train_ef),
    reference_baseline_name="training-mean EF",
    plots=lambda preds, out: regression_plots(preds.y_true, preds.y_pred, out, "EF (%)"),
)
