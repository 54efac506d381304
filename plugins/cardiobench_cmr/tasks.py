"""The cmr plugin's tasks on ACDC slices: myocardium segmentation
(``myo-seg``, paper 1 Table 2) and DCM classification (``dcm-cls``, paper 1
Table 3 and ACNet Tables I-II), with the consistency checks that audit the
papers' reported rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import default_collate

from cardiobench import audit, plotting
from cardiobench.contract import ModelContract
from cardiobench.engine.loop import Predictions
from cardiobench.evaluation import class_shares
from cardiobench.specs import Fold, Grouping, TaskSpec
from cardiobench_cmr.acdc.dataset import CLASSES, CLS_TASK, SEG_TASK, patient_of
from cardiobench_metrics import dice_stats

PRESETS = Path(__file__).parent / "presets"
MTL_CITATION = "Luo et al., Multi-task learning using attention-based convolutional encoder-decoder for dilated cardiomyopathy CMR segmentation and classification, CMC 63(2), 2020 (../shared/papers/mtl-dcm-cmr-seg-cls.txt)"
ACNET_CITATION = "Luo et al., ACNet: attention-based convolution network with additional discriminative features for DCM classification, SEKE 2019 (../shared/papers/acnet-dcm-t1-cls.txt)"
OVERLAYS = 6


def mask_overlays(model: torch.nn.Module, fold: Fold, device: torch.device, out: Path) -> dict[str, float]:
    """Image, truth and predicted myocardium for a few test slices with
    myocardium, when the model predicts masks (a segmenter or the multi-task
    model); returns no numbers."""
    items = []
    for i in range(0, len(fold.test), max(1, len(fold.test) // (4 * OVERLAYS))):  # spread over the test set
        item = fold.test[i]
        if item["targets"][SEG_TASK].sum() > 0:
            items.append(item)
        if len(items) == OVERLAYS:
            break
    if not items:
        return {}
    batch = default_collate(items)
    outputs = model(batch["input"].to(device))
    joint = getattr(model, "joint_predict", None)
    if joint is not None:
        masks = joint(outputs)[SEG_TASK]
    elif isinstance(outputs, torch.Tensor) and outputs.ndim == 3:
        masks = model.predict(outputs)
    else:
        return {}
    fig, axes = plotting.plt.subplots(len(items), 3, figsize=(6, 2 * len(items)), squeeze=False)
    for row, (item, mask) in enumerate(zip(items, masks.float().cpu().numpy())):
        image = plotting.grey_preview(item["input"])
        for col, (title, shown) in enumerate((("image", None), ("truth", item["targets"][SEG_TASK].numpy()), ("prediction", mask >= 0.5))):
            axes[row, col].imshow(image)
            if shown is not None:
                axes[row, col].imshow(np.ma.masked_where(shown == 0, shown), cmap="autumn", alpha=0.5, vmin=0, vmax=1)
            axes[row, col].set_axis_off()
            axes[row, col].set_title(f"{title}" + (f"  {item['id']}" if col == 0 else ""), fontsize=7)
    plotting.save(fig, out / "mask_overlays.png")
    return {}


def seg_plots(preds: Predictions, out: Path) -> list[Path]:
    """Per-slice Dice of the test slices with myocardium."""
    stats = dice_stats(preds.y_true, preds.y_pred)  # (2 TP, 2 TP + FP + FN) per slice
    keep = (preds.y_true > 0.5).reshape(len(preds), -1).any(axis=1)
    dice = stats[keep, 0] / np.maximum(stats[keep, 1], 1)
    fig, ax = plotting.plt.subplots(figsize=(5, 3.5))
    ax.hist(dice, bins=20, range=(0, 1))
    ax.set(xlabel="Dice per test slice with myocardium", ylabel="slices", title=f"myocardium, mean {dice.mean():.3f} over {keep.sum()} slices")
    return [plotting.save(fig, out / "dice_per_slice.png")]


def cls_plots(preds: Predictions, out: Path) -> list[Path]:
    return [plotting.roc_curves(preds.y_true, preds.y_pred, out, list(CLASSES))]


MYO_SEG = TaskSpec(
    name=SEG_TASK,
    version=1,
    description="Myocardium segmentation of short-axis cine-MRI slices at ED and ES (ACDC label 2), the public stand-in for paper 1's LGE slices",
    citation=MTL_CITATION,
    modality="image-segmentation",
    default_dataset="acdc",
    metrics=("dice", "jaccard", "pixel-auc", "f1-per-slice", "hd95"),
    rank_metric="dice",
    presets_dir=PRESETS / SEG_TASK,
    plots=seg_plots,
    analysis=mask_overlays,
    preview=plotting.grey_preview,
    checks=(audit.jaccard_dice_bound(), audit.unit_interval(("dice", "jaccard", "pixel-auc", "f1-per-slice"))),
    contract=ModelContract("CHW", 1, "mask", "the myocardium (ACDC label 2)"),
)

DCM_CLS = TaskSpec(
    name=CLS_TASK,
    version=1,
    description="DCM or not from one short-axis cine-MRI slice (ACDC: DCM against HCM, MINF, NOR and RV), the public stand-in for the papers' LGE and T1-mapping labels",
    citation=f"{MTL_CITATION}; {ACNET_CITATION}",
    modality="image-classification",
    default_dataset="acdc",
    metrics=("auc", "accuracy", "sensitivity", "specificity"),
    rank_metric="auc",
    presets_dir=PRESETS / CLS_TASK,
    reference_baseline=class_shares,
    reference_baseline_name="training class prior",
    plots=cls_plots,
    analysis=mask_overlays,
    preview=plotting.grey_preview,
    groupings=(Grouping("patient", patient_of, ("auc", "accuracy")),),
    checks=(audit.accuracy_between_sensitivity_and_specificity(), audit.unit_interval(("auc", "accuracy", "sensitivity", "specificity"))),
    contract=ModelContract("CHW", 1, "classes", "1 for DCM, 0 otherwise", classes=2),
)
