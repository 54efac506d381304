"""The figures of a table's statistics: the significance matrix of every
compared pair and the rank-stability blob plot (challengeR's, Wiesenfarth et
al., Sci Rep 11:2369, 2021), in the style of the site's other plots."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap

from cardiobench import plotting, statistics
from cardiobench.leaderboard.ranking import Judgement


def significance_figure(judgement: Judgement) -> Any | None:
    """Row against column: green where the row is significantly better, red
    where worse (Holm-adjusted p < alpha), grey where not significant."""
    shown = [i for i, ok in enumerate(judgement.comparable) if ok]
    if len(shown) < 2:
        return None
    n = len(shown)
    sign = 1.0 if judgement.metric.higher_is_better else -1.0
    grid = np.zeros((n, n))
    for a, i in enumerate(shown):
        for b, j in enumerate(shown):
            if i != j and judgement.p_holm[i, j] < statistics.ALPHA:
                grid[a, b] = np.sign(sign * judgement.difference[i, j])
    size = 1.2 + 0.42 * n
    fig, ax = plotting.plt.subplots(figsize=(size + 1.6, size))
    ax.imshow(grid, cmap=ListedColormap(["#d7301f", "#e5e5e5", "#1a9850"]), vmin=-1, vmax=1)
    names = [judgement.models[i] for i in shown]
    ax.set_xticks(range(n), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    for a in range(n):
        ax.text(a, a, "·", ha="center", va="center", color="#666")
    ax.set_title(f"{judgement.metric.name}: row vs column (Holm p < {statistics.ALPHA})", fontsize=9)
    ax.set_xlabel("green: row significantly better; red: worse; grey: no significant difference", fontsize=7)
    fig.tight_layout()
    return fig


def stability_figure(judgement: Judgement) -> Any | None:
    """Each model's bootstrap rank distribution: a blob per rank, its area the
    share of resamples, the median rank marked."""
    s = judgement.stability
    if s is None:
        return None
    n = len(judgement.stable_models)
    shares = s.counts / np.maximum(s.counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plotting.plt.subplots(figsize=(1.6 + 0.5 * n, 3.4))
    for i in range(n):
        ranks = np.flatnonzero(shares[i])
        ax.scatter([i] * len(ranks), ranks + 1, s=600 * shares[i, ranks], color="#3b6ea8", alpha=0.75, edgecolors="none")
        cumulative = np.cumsum(shares[i])
        ax.plot([i - 0.3, i + 0.3], [int(np.searchsorted(cumulative, 0.5)) + 1] * 2, color="#222", lw=1)
    ax.set_xticks(range(n), judgement.stable_models, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(n + 0.6, 0.4)
    ax.set_yticks(range(1, n + 1))
    ax.set_ylabel("rank in bootstrap resamples")
    ax.set_title(f"Rank stability ({judgement.metric.name}): Kendall tau median {s.tau_median:.2f} [{s.tau_low:.2f}, {s.tau_high:.2f}]", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
