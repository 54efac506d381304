"""How well the unsupervised attention finds the abnormal beats, measured
against MIT-BIH's beat annotations (beyond the paper, which graded by eye,
section 5.2), and Fig. 3-style plots of the attention and the after-attention
signal.

Per test segment, over its real (unpadded) samples, with a = attention:
- ``attention_mass_abnormal``: sum of a inside abnormal beats' windows / sum of a;
- ``attention_mass_chance``: the share of samples inside those windows (what a
  flat attention would give), and ``attention_lift`` = mass / chance;
- ``peak_in_abnormal``: share of segments whose attention maximum lies in an
  abnormal beat's window;
- ``abnormal_beats_above_normal``: share of abnormal beats whose window's
  maximum exceeds the maximum of every normal beat's window in the segment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cardiobench import plotting
from cardiobench.specs import Fold
from cardiobench_ecg.segments import CLASSES

PLOTTED_PER_CLASS = 2


def attention_maps(model: torch.nn.Module, fold: Fold, device: torch.device, batch_size: int = 64) -> np.ndarray | None:
    """(N, length) attention of the first lead for every test segment, or None
    when the model has no attention."""
    if getattr(model, "arrangement", None) != "joint":
        return None
    signals = fold.test.signals
    maps = [model.attention(signals[i : i + batch_size].to(device))[:, 0].float().cpu().numpy() for i in range(0, len(signals), batch_size)]
    return np.concatenate(maps)


def localisation(attention: np.ndarray, beats: list[np.ndarray]) -> dict[str, float]:
    """The numbers of the module docstring, over segments with an abnormal beat."""
    mass, chance, peak_hits, beat_hits, n_abnormal = [], [], [], 0, 0
    for a, rows in zip(attention, beats):
        end = int(rows[:, 1].max())
        a = a[:end]
        inside = np.zeros(end, dtype=bool)
        for start, stop, abnormal in rows:
            inside[start:stop] |= bool(abnormal)
        if not inside.any():
            continue
        mass.append(a[inside].sum() / max(a.sum(), 1e-12))
        chance.append(inside.mean())
        peak_hits.append(inside[int(np.argmax(a))])
        normal_peak = max((a[s:e].max() for s, e, ab in rows if not ab and e > s), default=-np.inf)
        for start, stop, abnormal in rows:
            if abnormal and stop > start:
                n_abnormal += 1
                beat_hits += a[start:stop].max() > normal_peak
    if not mass:
        return {}
    mean_mass, mean_chance = float(np.mean(mass)), float(np.mean(chance))
    return {
        "attention_mass_abnormal": mean_mass,
        "attention_mass_chance": mean_chance,
        "attention_lift": mean_mass / mean_chance,
        "peak_in_abnormal": float(np.mean(peak_hits)),
        "abnormal_beats_above_normal": beat_hits / n_abnormal,
    }


def plot_examples(fold: Fold, attention: np.ndarray, out: Path) -> Path:
    """Fig. 3 style: per example, the ECG (lead 1) over its attention heat map
    with annotated abnormal beats shaded, and below it the after-attention signal."""
    labels, signals = fold.test.labels.numpy(), fold.test.signals  # each property gathers the whole test set once
    chosen = [i for k in (1, 0) for i in np.flatnonzero(labels == k)[:PLOTTED_PER_CLASS]]
    fig, axes = plotting.plt.subplots(2, len(chosen), figsize=(4 * len(chosen), 4.5), squeeze=False, sharex=True)
    for col, i in enumerate(chosen):
        rows = fold.test.beats[i]
        end = int(rows[:, 1].max())
        d, a = signals[i, 0, :end].numpy(), attention[i, :end]
        top, bottom = axes[0, col], axes[1, col]
        top.imshow(a[None, :], aspect="auto", cmap="inferno", extent=(0, end, d.min() - 0.1, d.max() + 0.1), alpha=0.7)
        top.plot(d, color="white", lw=0.8)
        for start, stop, abnormal in rows:
            if abnormal:
                for ax in (top, bottom):
                    ax.axvspan(start, stop, color="cyan", alpha=0.15)
        bottom.plot(a * d, color="black", lw=0.8)
        top.set_title(f"{fold.test.ids[i]} ({CLASSES[labels[i]]})", fontsize=9)
        bottom.set_xlabel("sample")
    axes[0, 0].set_ylabel("ECG + attention")
    axes[1, 0].set_ylabel("after attention")
    fig.suptitle("Attention heat map and after-attention signal; annotated abnormal beats shaded")
    return plotting.save(fig, out / "attention_examples.png")


def analyse(model: torch.nn.Module, fold: Fold, device: torch.device, out: Path) -> dict[str, float]:
    """The task's analysis hook: localisation numbers plus the example plot."""
    attention = attention_maps(model, fold, device)
    if attention is None:
        return {}
    plot_examples(fold, attention, out)
    return localisation(attention, fold.test.beats)
