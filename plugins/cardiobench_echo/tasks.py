"""The echo plugin's tasks: EF regression from video (``lvef``) and LV
segmentation of the traced frames (``lvef-seg``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cardiobench import plotting
from cardiobench.contract import ModelContract
from cardiobench.engine.loop import Predictions
from cardiobench.specs import TaskSpec
from cardiobench_echo.echonet.frames import phase_of
from cardiobench_metrics import dice_stats

PRESETS = Path(__file__).parent / "presets"
STCA_CITATION = "Chen and Li, Semantic-aware temporal channel-wise attention for cardiac function assessment, ISBI 2022 (../shared/papers/stca-lvef-echo.txt)"


def first_frame(clip: torch.Tensor, info: Mapping[str, Any]) -> np.ndarray:
    """The first frame of a normalised (C, T, H, W) clip as RGB uint8."""
    mean = np.asarray(info["channel_mean"], dtype=np.float32)
    std = np.asarray(info["channel_std"], dtype=np.float32)
    frame = clip[:, 0].permute(1, 2, 0).cpu().numpy() * std + mean
    return np.clip(frame, 0, 255).astype(np.uint8)


def segmentation_plots(preds: Predictions, out: Path) -> list[Path]:
    """Per-frame Dice of the ED and ES test frames."""
    stats = dice_stats(preds.y_true, preds.y_pred)
    per_frame = stats[:, 0] / np.maximum(stats[:, 1], 1e-9)
    fig, ax = plotting.plt.subplots(figsize=(5, 3.5))
    for phase in ("ED", "ES"):
        keep = phase_of(preds.ids, phase)
        ax.hist(per_frame[keep], bins=20, range=(0, 1), alpha=0.6, label=f"{phase} (mean {per_frame[keep].mean():.3f})")
    ax.set(xlabel="Dice per test frame", ylabel="frames", title="LV segmentation on traced frames")
    ax.legend(loc="upper left")
    return [plotting.save(fig, out / "dice_per_frame.png")]


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
    paper_baseline="r2plus1d",  # the R(2+1)D baseline of STCA's Table 2
    plots=lambda preds, out: plotting.regression_plots(preds.y_true, preds.y_pred, out, "EF (%)"),
    preview=first_frame,
    contract=ModelContract("CTHW", 3, "scalar", "left-ventricular ejection fraction", unit="EF %"),
)

LVEF_SEG = TaskSpec(
    name="lvef-seg",
    version=1,
    description="Left-ventricle segmentation of the traced end-diastolic and end-systolic frames (mask = traced polygon)",
    citation=STCA_CITATION + "; Ouyang et al., Nature 580, 2020",
    modality="image-segmentation",
    default_dataset="echonet-dynamic",
    metrics=("dice", "hd95"),
    rank_metric="dice",
    presets_dir=PRESETS / "lvef-seg",
    plots=segmentation_plots,
    subsets={"ed": lambda ids: phase_of(ids, "ED"), "es": lambda ids: phase_of(ids, "ES")},
    contract=ModelContract("CHW", 3, "mask", "the traced left ventricle"),
)
