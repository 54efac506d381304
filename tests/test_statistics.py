"""The ranking statistics against references on constructed data: the paired
bootstrap finds a known difference and keeps its false-positive rate on null
data; exact McNemar equals the binomial formula (statsmodels' exact test);
Holm against a hand-checked example; ties, clear wins, rank ranges and rank
stability on constructed tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cardiobench import statistics
from cardiobench.evaluation import bootstrap_draws_many

N, R = 200, 1000


def _mae_draws(errors: np.ndarray, seed: int) -> np.ndarray:
    """MAE of R resamples of per-item absolute errors, the resamples fixed by ``seed`` (shared by every model)."""
    return bootstrap_draws_many(lambda rows: errors[rows].mean(axis=1), np.arange(len(errors)), R, seed)


def test_a_known_difference_is_found():
    rng = np.random.default_rng(0)
    a, b = np.abs(rng.normal(0, 1.0, N)), np.abs(rng.normal(0, 1.3, N))  # b errs 30% more
    test = statistics.paired_test(a.mean(), b.mean(), _mae_draws(a, 1), _mae_draws(b, 1))
    assert test.p < 0.01 and test.ci_high < 0 and test.difference == pytest.approx(a.mean() - b.mean())


def test_no_difference_is_found_at_about_the_stated_rate():
    """Two models whose errors are exchangeable item by item: over 200 data
    sets, p < 0.05 in about 5% (binomial 99.9% band)."""
    rejections = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        shared = np.abs(rng.normal(0, 1, N))
        a, b = shared + np.abs(rng.normal(0, 0.5, N)), shared + np.abs(rng.normal(0, 0.5, N))
        rejections += statistics.paired_test(a.mean(), b.mean(), _mae_draws(a, seed), _mae_draws(b, seed)).p < 0.05
    assert rejections <= stats.binom.ppf(0.999, 200, 0.05)


def test_identical_models_tie_and_a_model_better_on_every_item_wins():
    errors = np.abs(np.random.default_rng(3).normal(size=N))
    same = statistics.paired_test(errors.mean(), errors.mean(), _mae_draws(errors, 0), _mae_draws(errors, 0))
    assert same.p == 1.0 and same.difference == 0.0 and same.ci_low == same.ci_high == 0.0
    better = errors * 0.8
    win = statistics.paired_test(better.mean(), errors.mean(), _mae_draws(better, 0), _mae_draws(errors, 0))
    assert win.p < 1e-6 and win.ci_high < 0
    assert statistics.holm([win.p] * 36)[0] < 0.05, "a clear win survives Holm over a nine-model table"


def test_exact_mcnemar_is_the_binomial_test_of_the_discordant_pairs():
    rng = np.random.default_rng(5)
    a = rng.random(120) < 0.8
    b = np.where(rng.random(120) < 0.15, ~a, a)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    reference = min(1.0, 2 * stats.binom.cdf(min(only_a, only_b), only_a + only_b, 0.5))  # statsmodels' mcnemar(exact=True)
    assert statistics.mcnemar_exact(a, b) == pytest.approx(reference)
    assert statistics.mcnemar_exact(a, a) == 1.0


def test_mcnemar_finds_a_known_difference_and_keeps_its_rate_on_null_data():
    """b gets 12% of a's right items wrong: found. Two classifiers that each
    get an item right with the same chance: p < 0.05 in at most about 5% of
    300 data sets (the exact test is conservative)."""
    rng = np.random.default_rng(1)
    a = rng.random(N) < 0.85
    assert statistics.mcnemar_exact(a, a & (rng.random(N) > 0.12)) < 0.01
    rejections = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        easy = rng.random(N) < 0.7  # items both tend to get right
        chance = np.where(easy, 0.9, 0.4)
        rejections += statistics.mcnemar_exact(rng.random(N) < chance, rng.random(N) < chance) < 0.05
    assert rejections <= stats.binom.ppf(0.999, 300, 0.05)


def test_holm_by_hand():
    """p = 0.01, 0.04, 0.03, 0.005 -> sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06."""
    np.testing.assert_allclose(statistics.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(statistics.holm([0.2, np.nan])[1]) and statistics.holm([0.2, np.nan])[0] == pytest.approx(0.2)


def test_rank_ranges_of_a_constructed_table():
    """A and B indistinguishable, both better than C; D worse than all."""
    better = np.zeros((4, 4), dtype=bool)
    better[0, 2] = better[1, 2] = True
    better[:3, 3] = True
    assert [statistics.rank_label(*r) for r in statistics.rank_ranges(4, better)] == ["1-2", "1-2", "3", "4"]


def test_rank_stability_of_a_clear_and_a_noisy_table():
    rng = np.random.default_rng(2)
    clear = np.stack([rng.normal(m, 0.01, R) for m in (1.0, 2.0, 3.0)])
    steady = statistics.rank_stability(np.array([1.0, 2.0, 3.0]), clear, higher_is_better=False)
    assert steady.stable and steady.tau_median == 1.0 and steady.first_kept == 1.0 and steady.counts[0, 0] == R
    noisy = np.stack([rng.normal(m, 1.0, R) for m in (1.0, 1.1, 1.2)])
    shaky = statistics.rank_stability(np.array([1.0, 1.1, 1.2]), noisy, higher_is_better=False)
    assert not shaky.stable and shaky.first_kept < 0.6 and shaky.counts.sum(axis=1).tolist() == [R] * 3


def test_wilcoxon_signed_rank_is_scipys_on_the_items_both_define():
    from scipy.stats import wilcoxon

    rng = np.random.default_rng(11)
    a, b = rng.gamma(2.0, 2.0, 60), rng.gamma(2.0, 2.4, 60)
    b[:4] = a[:4]  # zero differences are dropped
    a_nan = a.copy()
    a_nan[10] = np.nan  # undefined for one model: the item is left out
    keep = np.ones(60, bool)
    keep[10] = False
    assert statistics.wilcoxon_signed_rank(a_nan, b) == pytest.approx(wilcoxon(a[keep] - b[keep], zero_method="wilcox").pvalue)
    assert statistics.wilcoxon_signed_rank(a, a) == 1.0 and np.isnan(statistics.wilcoxon_signed_rank(a[:1], b[:1]))
