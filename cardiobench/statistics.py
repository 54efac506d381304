"""Which differences in a table are real: paired comparisons, Holm's
adjustment, rank ranges and the stability of a ranking.

Everything here works on *bootstrap draws* that share their resamples: draw
r of every model was computed on the same resampled test items (the
leaderboard's interval engine, :func:`cardiobench.leaderboard.tables.pooled_draws`,
seeds it so), so ``draws_a - draws_b`` is the bootstrap distribution of the
paired difference (Efron and Tibshirani, *An Introduction to the Bootstrap*,
1993, ch. 16; sacreBLEU's paired bootstrap, Koehn 2004).

- :func:`paired_test`: the difference, its 95% percentile interval and a
  two-sided p-value from the bootstrap standard error (z = d / se*), which
  unlike a tail count has no floor at 1/R, so Holm's adjustment over many
  pairs can still find a clear difference.
- :func:`mcnemar_exact`: the exact McNemar test for paired right/wrong
  outcomes (accuracy-type metrics on one seed).
- :func:`wilcoxon_signed_rank`: the Wilcoxon signed-rank test (scipy) on
  paired per-item values, for metrics that are a mean over items (MAE, HD95).
- :func:`holm`: Holm's step-down adjustment (Holm, Scand J Stat 6:65-70, 1979).
- :func:`rank_ranges`: each model's possible ranks given the significant
  pairs: 1 + (models significantly better) to n - (models significantly worse).
- :func:`rank_stability`: each resample's ranking against the table's, as
  Kendall's tau, and how often each model takes each rank (challengeR's
  blob plot; Wiesenfarth et al., Sci Rep 11:2369, 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05


@dataclass(frozen=True)
class PairedTest:
    """``a`` minus ``b`` of a metric: the observed difference, its 95%
    bootstrap interval and the two-sided p-value of "no difference"."""

    difference: float
    ci_low: float
    ci_high: float
    p: float
    method: str


def paired_test(value_a: float, value_b: float, draws_a: np.ndarray, draws_b: np.ndarray) -> PairedTest:
    """The paired bootstrap comparison of two models whose draws share resamples."""
    diff = np.asarray(draws_a, dtype=np.float64) - np.asarray(draws_b, dtype=np.float64)
    diff = diff[np.isfinite(diff)]
    observed = float(value_a - value_b)
    if len(diff) < 2:
        return PairedTest(observed, float("nan"), float("nan"), float("nan"), "paired bootstrap")
    low, high = np.percentile(diff, [2.5, 97.5])
    se = float(np.std(diff, ddof=1))
    if se == 0.0:
        p = 1.0 if observed == 0.0 else 0.0
    else:
        p = float(2 * stats.norm.sf(abs(observed) / se))
    return PairedTest(observed, float(low), float(high), p, "paired bootstrap")


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant
    pairs (a right where b is wrong against the reverse) at one half."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def wilcoxon_signed_rank(values_a: np.ndarray, values_b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of per-item values of two models on
    the same items (items undefined for either left out; zero differences
    dropped, Wilcoxon's rule); 1 where no item differs, NaN under two items."""
    a, b = np.asarray(values_a, dtype=np.float64), np.asarray(values_b, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    difference = a[keep] - b[keep]
    if len(difference) < 2:
        return float("nan")
    if not np.any(difference != 0):
        return 1.0
    return float(stats.wilcoxon(difference, zero_method="wilcox").pvalue)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (NaN stays NaN and counts in no family)."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(len(p), np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m, running = len(order), 0.0
    for i, index in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[index]))
        out[index] = running
    return out


def rank_ranges(n: int, better: np.ndarray) -> list[tuple[int, int]]:
    """(best, worst) possible rank of each of ``n`` models, where
    ``better[i, j]`` says model i is significantly better than model j."""
    better = np.asarray(better, dtype=bool)
    return [(1 + int(better[:, i].sum()), n - int(better[i, :].sum())) for i in range(n)]


def rank_label(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


@dataclass(frozen=True)
class Stability:
    """Kendall's tau between the table's ranking and each bootstrap ranking
    (median and 95% interval), the share of resamples that keep the first
    model first (or tied for first), and ``counts[i, k]``: how often model i took rank k + 1."""

    tau_median: float
    tau_low: float
    tau_high: float
    first_kept: float
    counts: np.ndarray

    @property
    def stable(self) -> bool:
        """Our rule: a ranking is stable when at least 95% of the resamples
        agree with it at tau >= 0.8 and keep its first model first in at least 95%."""
        return self.tau_low >= 0.8 and self.first_kept >= 0.95


def bootstrap_ranks(draws: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """(models, R) draws -> (models, R) ranks per resample (ties share the mean rank)."""
    signed = -np.asarray(draws, dtype=np.float64) if higher_is_better else np.asarray(draws, dtype=np.float64)
    return stats.rankdata(signed, axis=0)


def rank_stability(values: np.ndarray, draws: np.ndarray, higher_is_better: bool) -> Stability:
    """How the ranking by ``values`` (models,) holds over ``draws`` (models, R)."""
    keep = np.all(np.isfinite(draws), axis=0)
    draws = np.asarray(draws)[:, keep]
    table = bootstrap_ranks(np.asarray(values)[:, None], higher_is_better)[:, 0]
    ranks = bootstrap_ranks(draws, higher_is_better)
    taus = np.array([stats.kendalltau(table, ranks[:, r]).statistic for r in range(ranks.shape[1])])
    taus = np.where(np.isnan(taus), 1.0, taus)  # a resample where every model ties agrees with any order
    first = int(np.argmin(table))
    n = len(values)
    counts = np.stack([np.bincount(np.clip(np.rint(ranks[i]).astype(int) - 1, 0, n - 1), minlength=n) for i in range(n)])
    low, median, high = np.percentile(taus, [2.5, 50, 97.5])
    signed = -draws if higher_is_better else draws
    first_kept = float(np.mean(signed[first] <= signed.min(axis=0)))  # first, or tied for first
    return Stability(float(median), float(low), float(high), first_kept, counts)
