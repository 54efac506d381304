"""Figures written into run directories (matplotlib, headless)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cardiobench import atomic  # noqa: E402


def save(fig: plt.Figure, path: Path, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` atomically and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    atomic.write_bytes(path, buffer.getvalue())
    return path


def regression_plots(y_true: np.ndarray, y_pred: np.ndarray, out_dir: Path, quantity: str) -> list[Path]:
    """Predicted against true (with the identity line) and a Bland-Altman plot."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    lo, hi = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(y_true, y_pred, s=12, alpha=0.7)
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="identity")
    ax.set(xlabel=f"true {quantity}", ylabel=f"predicted {quantity}", title=f"Predicted vs true (n = {len(y_true)})")
    ax.legend(loc="upper left")
    scatter = save(fig, out_dir / "scatter.png")

    mean, diff = (y_true + y_pred) / 2, y_pred - y_true
    bias, spread = float(diff.mean()), float(1.96 * diff.std(ddof=1)) if len(diff) > 1 else 0.0
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.scatter(mean, diff, s=12, alpha=0.7)
    ax.axhline(bias, color="k", lw=1, label=f"bias {bias:+.2f}")
    for limit in (bias - spread, bias + spread):
        ax.axhline(limit, color="k", lw=1, ls="--")
    ax.set(xlabel=f"mean of true and predicted {quantity}", ylabel=f"predicted - true {quantity}", title=f"Bland-Altman (limits of agreement {bias - spread:.1f} to {bias + spread:.1f})")
    ax.legend(loc="upper right")
    return [scatter, save(fig, out_dir / "bland_altman.png")]


def roc_curves(y_true: np.ndarray, scores: np.ndarray, out_dir: Path, class_names: list[str]) -> Path:
    """One-vs-rest ROC curve per class from (N, K) class scores, AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y_true = np.asarray(y_true).astype(int)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for k, name in enumerate(class_names):
        positive = y_true == k
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, scores[:, k])
        ax.plot(fpr, tpr, lw=1.5, label=f"{name} (AUC {roc_auc_score(positive, scores[:, k]):.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, one class vs rest (n = {len(y_true)})")
    ax.legend(loc="lower right")
    return save(fig, out_dir / "roc.png")


def grey_preview(image: Any, _info: Any = None) -> np.ndarray:
    """A (1, H, W) image tensor (e.g. whitened) as RGB uint8, stretched to its range."""
    grey = image[0].float().cpu().numpy()
    grey = (grey - grey.min()) / max(float(grey.max() - grey.min()), 1e-6)
    return np.repeat((255 * grey).astype(np.uint8)[..., None], 3, axis=2)

