"""The fetal plugin's task: standard-plane classification of fetal ultrasound
images (AG-Sononet, section 3), on FETAL_PLANES_DB's six planes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import default_collate

from cardiobench import plotting
from cardiobench.contract import ModelContract
from cardiobench.engine.loop import Predictions
from cardiobench.evaluation import class_shares
from cardiobench.specs import Fold, TaskSpec
from cardiobench_fetal.planes.layout import CLASSES, MACHINES

PRESETS = Path(__file__).parent / "presets"
CITATION = "Schlemper et al., Attention-Gated Networks for Improving Ultrasound Scan Plane Detection, MIDL 2018 (../shared/papers/ag-sononet-fetal-planes.txt)"
TIMING_BATCH = 16
TIMING_REPEATS = 3


def machine_of(ids: list[str] | tuple[str, ...], machine: str) -> np.ndarray:
    """Which test items (ids ``<US_Machine>:<Image_name>``) come from ``machine``."""
    return np.array([i.split("/")[-1].split(":", 1)[0] == machine for i in ids], dtype=bool)


def _subset_name(machine: str) -> str:
    return "other-machine" if machine == "Other" else machine.lower().replace(" ", "-")


def plots(preds: Predictions, out: Path) -> list[Path]:
    names = next(list(c) for c in CLASSES.values() if len(c) == preds.y_pred.shape[1])
    return [plotting.roc_curves(preds.y_true, preds.y_pred, out, names)]


def _median_ms(step: Callable[[], Any], device: torch.device) -> float:
    times = []
    for _ in range(TIMING_REPEATS + 1):  # the first call warms up
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times[1:]))


def timing(model: torch.nn.Module, fold: Fold, device: torch.device, _out: Path) -> dict[str, float]:
    """Forward and backward milliseconds per image on the run's device (Table 1),
    over a batch of test images, median of a few repeats."""
    batch = default_collate([fold.test[i] for i in range(min(TIMING_BATCH, len(fold.test)))])
    x, target = batch["input"].to(device), batch["target"].to(device)
    n = len(x)
    with torch.enable_grad():
        forward_ms = _median_ms(lambda: model(x), device)
        total_ms = _median_ms(lambda: model.loss(model(x), {"target": target}).backward(), device)
    model.zero_grad(set_to_none=True)
    return {"forward_ms_per_image": forward_ms / n, "backward_ms_per_image": max(total_ms - forward_ms, 0.0) / n}


FETAL_PLANES = TaskSpec(
    name="fetal-planes",
    version=1,
    description="Fetal ultrasound standard-plane classification (FETAL_PLANES_DB: 6 planes, Other as background; or 9 with the brain sub-planes)",
    citation=CITATION,
    modality="image-classification",
    default_dataset="fetal-planes-db",
    metrics=("f1-macro", "accuracy", "precision-macro", "recall-macro"),
    rank_metric="f1-macro",
    presets_dir=PRESETS / "fetal-planes",
    reference_baseline=class_shares,
    reference_baseline_name="training class prior",
    plots=plots,
    subsets={_subset_name(m): (lambda ids, m=m: machine_of(ids, m)) for m in MACHINES},
    analysis=timing,
    preview=plotting.grey_preview,
    contract=ModelContract("CHW", 1, "classes", "the plane, in the order of the data's class names", classes=6),
)
