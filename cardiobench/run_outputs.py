"""The files a run leaves behind besides its record: each finished fold
(``folds/<fold>.json`` with its arrays in ``folds/<fold>.npz``), the pooled
``predictions.csv`` and, for map predictions, ``predictions.npz``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from cardiobench import atomic
from cardiobench.engine.loop import Predictions


@dataclass
class FoldResult:
    """One finished fold: its test predictions (with a multi-task model's
    ``joint`` predictions), training history and analysis."""

    name: str
    predictions: Predictions
    best_epoch: int
    history: list[dict[str, float]]
    train_seconds: float
    train_samples: int
    eval_throughput: float
    baseline: np.ndarray | None
    parameters: int
    analysis: dict[str, float]
    selection: str = ""  # why this fold selected by validation loss instead of the ranking metric, if it did

    def save(self, folder: Path) -> Path:
        """Write the arrays, then the JSON that marks the fold finished."""
        p = self.predictions
        arrays = {"ids": np.asarray(p.ids), "y_true": p.y_true, "y_pred": p.y_pred}
        if self.baseline is not None:
            arrays["baseline"] = self.baseline
        for task, joint in p.joint.items():
            arrays[f"joint/{task}/y_true"], arrays[f"joint/{task}/y_pred"] = joint.y_true, joint.y_pred
        atomic.write_with(folder / f"{self.name}.npz", lambda handle: np.savez_compressed(handle, **arrays))
        meta = {
            "name": self.name,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "train_seconds": self.train_seconds,
            "train_samples": self.train_samples,
            "eval_throughput": self.eval_throughput,
            "parameters": self.parameters,
            "analysis": self.analysis,
            "joint_tasks": sorted(p.joint),
            "selection": self.selection,
        }
        path = folder / f"{self.name}.json"
        atomic.write_text(path, json.dumps(meta))
        return path

    @classmethod
    def load(cls, path: Path) -> FoldResult:
        meta = json.loads(path.read_text())
        with np.load(path.with_suffix(".npz")) as arrays:
            ids = [str(i) for i in arrays["ids"]]
            joint = {task: Predictions(ids, arrays[f"joint/{task}/y_true"], arrays[f"joint/{task}/y_pred"]) for task in meta["joint_tasks"]}
            preds = Predictions(ids, arrays["y_true"], arrays["y_pred"].astype(np.float64), joint)
            baseline = arrays["baseline"].astype(np.float64) if "baseline" in arrays.files else None
        return cls(meta["name"], preds, meta["best_epoch"], meta["history"], meta["train_seconds"], meta["train_samples"], meta["eval_throughput"], baseline, meta["parameters"], meta["analysis"], meta.get("selection", ""))


def pooled(named: list[tuple[str, Predictions]]) -> Predictions:
    """Every fold's predictions in one set, ids prefixed ``<fold>/`` when there are several."""
    return Predictions(
        [f"{name}/{i}" if len(named) > 1 else i for name, p in named for i in p.ids],
        np.concatenate([p.y_true for _, p in named]),
        np.concatenate([p.y_pred for _, p in named]),
    )


def predictions_frame(results: list[FoldResult]) -> pl.DataFrame:
    """One row per test item: values, per-class scores, or for maps (masks)
    the true and predicted pixel counts (the maps go to predictions.npz)."""
    frames = []
    for r in results:
        p = r.predictions
        cols: dict[str, Any] = {"fold": [r.name] * len(p), "id": p.ids}
        if p.y_pred.ndim > 2:
            cols["true_pixels"] = (p.y_true > 0.5).reshape(len(p), -1).sum(axis=1)
            cols["predicted_pixels"] = (p.y_pred > 0.5).reshape(len(p), -1).sum(axis=1)
        elif p.y_pred.ndim == 2:
            cols["y_true"] = p.y_true
            cols.update({f"score_{k}": p.y_pred[:, k] for k in range(p.y_pred.shape[1])})
        else:
            cols["y_true"], cols["y_pred"] = p.y_true, p.y_pred
        frames.append(pl.DataFrame(cols))
    return pl.concat(frames)


def save_maps(path: Path, named: list[tuple[str, Predictions]]) -> None:
    """Map predictions (segmentation masks) as float16 probabilities and uint8 truth."""
    ids = np.array([f"{name}/{i}" for name, p in named for i in p.ids])
    truth = np.concatenate([(p.y_true > 0.5).astype(np.uint8) for _, p in named])
    prob = np.concatenate([p.y_pred.astype(np.float16) for _, p in named])
    atomic.write_with(path, lambda handle: np.savez_compressed(handle, ids=ids, y_true=truth, y_pred=prob))
