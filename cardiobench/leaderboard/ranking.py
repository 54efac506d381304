"""Honest ranks for a table: which models differ significantly, each model's
possible ranks, the top group, each model against the trivial baseline, how
stable the ranking is under resampling, and whether ranking per seed (or fold)
first would change the top.

Works on the rows of :func:`.tables.reproduced_rows` (ranked), whose ranking
metric carries bootstrap draws that share resamples across rows (see
:mod:`cardiobench.statistics` for the tests and their references).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardiobench import statistics
from cardiobench.leaderboard import tables
from cardiobench.specs import MetricSpec


@dataclass
class Judgement:
    """What the statistics say about one table's reproduced rows."""

    metric: MetricSpec
    models: list[str]
    comparable: list[bool]  # rows with draws on the table's shared test items
    p_holm: np.ndarray  # (n, n) Holm-adjusted p of every compared pair; NaN where not compared
    difference: np.ndarray  # (n, n) row minus column of the ranking metric
    stability: statistics.Stability | None
    stable_models: list[str] = field(default_factory=list)  # the rows behind ``stability``, in its order
    per_unit_top: str = ""  # the first model when ranking per seed (or fold) first, then averaging ranks
    baseline_compared: bool = False
    units: str = ""
    wilcoxon: bool = False  # rows carry ``p_wilcoxon_vs_best``
    mcnemar: str = ""  # the right/wrong metric behind the rows' ``p_mcnemar_vs_best``


def _shared_items(rows: list[dict[str, Any]]) -> list[bool]:
    """Rows whose draws pair with the first comparable row's (same test ids and fold sizes)."""
    reference = None
    out = []
    for row in rows:
        records = row["_records"]
        items = records[0].get("test_items")
        key = (tuple(items["ids"]), tuple(tables.fold_sizes(records[0]))) if items else None
        usable = row.get("_draws") is not None and key is not None
        if usable and reference is None:
            reference = key
        out.append(usable and key == reference)
    return out


def _baseline_predictions(record: dict[str, Any], metric: MetricSpec) -> np.ndarray | None:
    """The task's trivial reference for every test item, rebuilt from the
    record: the training-mean target (regression), the training class shares,
    or for a rank-based metric (AUC) any constant score, which ranks every
    item alike. None where the record does not say enough."""
    items, info = record.get("test_items"), record["dataset"].get("info", {})
    if items is None or "y_pred" not in items:
        return None  # maps: the record keeps per-item statistics, not predictions
    y_true, n = np.asarray(items["y_true"]), len(items["ids"])
    if np.asarray(items["y_pred"]).ndim == 1 and "train_target_mean" in info:
        return np.full(n, float(info["train_target_mean"]))
    if np.asarray(items["y_pred"]).ndim != 2:
        return None
    k = np.asarray(items["y_pred"]).shape[1]
    train_counts = info.get("class_counts", {}).get("train")
    if isinstance(train_counts, dict) and len(train_counts) == k:
        shares = np.asarray(list(train_counts.values()), dtype=np.float64)
        return np.tile(shares / shares.sum(), (n, 1))
    if metric.name == "auc" and len(np.unique(y_true)) > 1:
        return np.full((n, k), 1.0 / k)
    return None


def _against(rows: list[dict[str, Any]], metric: MetricSpec, comparable: list[bool], value: float, draws: np.ndarray, skip: int | None = None) -> list[statistics.PairedTest | None]:
    """Each comparable row (but ``skip``) against a reference with ``value``
    and ``draws`` on the same resamples; a positive difference is better."""
    sign = 1.0 if metric.higher_is_better else -1.0
    return [
        statistics.paired_test(sign * row[f"{metric.name}_mean"], sign * value, sign * row["_draws"], sign * draws) if ok and i != skip else None
        for i, (row, ok) in enumerate(zip(rows, comparable))
    ]


def _record_tests(rows: list[dict[str, Any]], tests: list[statistics.PairedTest | None], which: str) -> None:
    """``better_than_<which>`` and ``p_vs_<which>`` of every row, Holm over rows."""
    adjusted = statistics.holm([t.p if t is not None else np.nan for t in tests])
    for row, test, p in zip(rows, tests, adjusted):
        row[f"better_than_{which}"] = None if test is None else bool(p < statistics.ALPHA and test.difference > 0)
        row[f"p_vs_{which}"] = None if test is None else float(p)


def baseline_tests(rows: list[dict[str, Any]], metric: MetricSpec, comparable: list[bool]) -> list[statistics.PairedTest | None]:
    """Each comparable row against the trivial reference on the same resamples."""
    first = next((r for r, ok in zip(rows, comparable) if ok), None)
    record = first["_records"][0] if first is not None else None
    baseline = _baseline_predictions(record, metric) if record is not None else None
    if baseline is None:
        return [None] * len(rows)
    reference = tables.pooled_draws([dict(record, test_items=dict(record["test_items"], y_pred=baseline.tolist()))], metric)
    if reference is None or reference.draws is None:
        return [None] * len(rows)
    return _against(rows, metric, comparable, reference.value, reference.draws)


def _per_unit_top(rows: list[dict[str, Any]], metric: MetricSpec) -> tuple[str, str]:
    """Rank-then-aggregate: rank the models within every seed (several seeds)
    or fold (one seed, cross-validated) that all rows share, average the
    ranks; the model with the best mean rank, and what the units were."""
    def units(row: dict[str, Any]) -> dict[tuple[int, str], float]:
        out = {}
        for record in row["_records"]:
            folds = record.get("folds", [])
            if len(row["_records"]) == 1 and len(folds) > 1:
                out |= {(record["seed"], f["name"]): f["metrics"][metric.name]["value"] for f in folds}
            else:
                out[(record["seed"], "")] = record["metrics"][metric.name]["value"]
        return out

    per_row = [units(r) for r in rows]
    shared = sorted(set.intersection(*(set(u) for u in per_row))) if per_row else []
    if len(shared) < 2:
        return "", ""
    values = np.array([[u[key] for key in shared] for u in per_row])
    ranks = statistics.bootstrap_ranks(values, metric.higher_is_better)
    best = int(np.argmin(ranks.mean(axis=1)))
    kind = "folds" if shared[0][1] else "seeds"
    return rows[best]["model"], f"{len(shared)} {kind}"


def paper_baseline_tests(rows: list[dict[str, Any]], metric: MetricSpec, comparable: list[bool], name: str) -> list[statistics.PairedTest | None]:
    """Each comparable row against the task's paper baseline row."""
    index = next((i for i, r in enumerate(rows) if r["model"] == name and comparable[i]), None)
    if index is None:
        return [None] * len(rows)
    return _against(rows, metric, comparable, rows[index][f"{metric.name}_mean"], rows[index]["_draws"], skip=index)


def _versus_first(rows: list[dict[str, Any]], values: list[np.ndarray | None], test: Callable[[np.ndarray, np.ndarray], float], key: str) -> bool:
    """``row[key]``: ``test`` of each row's per-item values against the first
    row's, Holm over rows; False when no pair could be tested."""
    if not rows or values[0] is None:
        return False
    raw = [test(v, values[0]) if i > 0 and v is not None and len(v) == len(values[0]) else np.nan for i, v in enumerate(values)]
    for row, p in zip(rows, statistics.holm(raw)):
        row[key] = None if not np.isfinite(p) else float(p)
    return any(np.isfinite(raw))


def wilcoxon_tests(rows: list[dict[str, Any]], metric: MetricSpec, comparable: list[bool]) -> bool:
    """``p_wilcoxon_vs_best`` of every comparable row after the first: the
    Wilcoxon signed-rank test of its per-item values (seeds averaged) against
    the first row's, Holm over rows. False when the metric is not a mean over
    items (pooled Dice, AUC), is right/wrong (McNemar's), or the rows keep no per-item values."""
    if metric.outcomes:
        return False
    values = [tables.seed_mean_item_values(row["_records"], metric) if ok else None for row, ok in zip(rows, comparable)]
    return _versus_first(rows, values, statistics.wilcoxon_signed_rank, "p_wilcoxon_vs_best")


def outcome_metric(ranking: MetricSpec, metrics: Sequence[MetricSpec]) -> MetricSpec | None:
    """The metric McNemar's test compares: the ranking metric when it is
    right/wrong per item (accuracy), else the table's first such metric."""
    return ranking if ranking.outcomes else next((m for m in metrics if m.outcomes), None)


def mcnemar_tests(rows: list[dict[str, Any]], metric: MetricSpec | None, comparable: list[bool]) -> bool:
    """``p_mcnemar_vs_best`` of every comparable row after the first: the
    exact McNemar test of its right/wrong items against the first row's, Holm
    over rows. With several seeds an item counts as right when it is right in
    more than half of them (our choice: one outcome per item keeps the items
    independent, which pooling the seeds' outcomes would not)."""
    if metric is None:
        return False
    shares = [tables.seed_mean_item_values(row["_records"], metric) if ok else None for row, ok in zip(rows, comparable)]
    return _versus_first(rows, [None if s is None else s > 0.5 for s in shares], statistics.mcnemar_exact, "p_mcnemar_vs_best")


def judge(rows: list[dict[str, Any]], metric: MetricSpec, paper_baseline: str = "", metrics: Sequence[MetricSpec] = ()) -> Judgement:
    """Pairwise paired tests (Holm within the table), rank ranges, the top
    group, baseline tests and rank stability; fields are added to ``rows``.
    ``metrics`` (the table's) may name a right/wrong metric for McNemar's test."""
    n = len(rows)
    comparable = _shared_items(rows)
    value = metric.name + "_mean"
    p = np.full((n, n), np.nan)
    difference = np.full((n, n), np.nan)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if comparable[i] and comparable[j]]
    tests = [statistics.paired_test(rows[i][value], rows[j][value], rows[i]["_draws"], rows[j]["_draws"]) for i, j in pairs]
    for (i, j), test, adjusted in zip(pairs, tests, statistics.holm([t.p for t in tests])):
        p[i, j] = p[j, i] = adjusted
        difference[i, j], difference[j, i] = test.difference, -test.difference
    sign = 1.0 if metric.higher_is_better else -1.0
    better = (p < statistics.ALPHA) & (sign * difference > 0)
    ranges = statistics.rank_ranges(n, better)
    baseline = baseline_tests(rows, metric, comparable)
    _record_tests(rows, baseline, "baseline")
    _record_tests(rows, paper_baseline_tests(rows, metric, comparable, paper_baseline), "paper_baseline")
    top = _top_group(p, comparable)
    for i, row in enumerate(rows):
        row["rank_range"] = statistics.rank_label(*ranges[i]) if comparable[i] else str(row["rank"])
        row["top_group"] = top[i] if comparable[0] else None
        row["p_vs_best"] = None if i == 0 or not np.isfinite(p[0, i]) else float(p[0, i])
    wilcoxon = wilcoxon_tests(rows, metric, comparable)
    outcomes = outcome_metric(metric, metrics)
    mcnemar = mcnemar_tests(rows, outcomes, comparable)
    stability = None
    usable = [i for i in range(n) if comparable[i]]
    if len(usable) >= 2:
        stability = statistics.rank_stability(np.array([rows[i][value] for i in usable]), np.stack([rows[i]["_draws"] for i in usable]), metric.higher_is_better)
    first_by_units, units = _per_unit_top(rows, metric)
    return Judgement(
        metric, [r["model"] for r in rows], comparable, p, difference, stability,
        stable_models=[rows[i]["model"] for i in usable], per_unit_top=first_by_units, units=units, baseline_compared=any(t is not None for t in baseline),
        wilcoxon=wilcoxon, mcnemar=outcomes.name if mcnemar and outcomes is not None else "",
    )


def header_lines(judgement: Judgement, resamples: int, seed: int, baseline_name: str, paper_baseline: str = "") -> list[str]:
    """The table's bullet lines on how its ranks and comparisons were made and how stable they are."""
    metric, n = judgement.metric, sum(judgement.comparable)
    if n < 2:
        return ["- **Comparisons**: none (fewer than two rows keep per-item predictions or statistics on the same test items): ranks are by the mean alone."]
    lines = [
        f"- **Comparisons**: every pair of rows on the same test items, by the difference of {metric.name}: paired bootstrap ({resamples} resamples, seed {seed}; items resampled within folds, "
        f"the same resamples for every row, seeds averaged), two-sided p from the bootstrap standard error, Holm-adjusted over the table's {n * (n - 1) // 2} pair{'s' if n > 2 else ''} (α = {statistics.ALPHA}). "
        f"**rank** is each model's range of possible ranks: 1 + the models significantly better, to {n} − the models significantly worse; ● marks the top group, the rows not significantly different from the first.",
    ]
    if judgement.wilcoxon:
        lines.append(f"- **Wilcoxon**: {metric.name} is a mean over items, so `Wilcoxon p vs #1` also tests each row's per-item values (seeds averaged) against the first row's with the Wilcoxon signed-rank test (scipy; zero differences dropped), Holm over rows.")
    if judgement.mcnemar:
        lines.append(
            f"- **McNemar**: `McNemar p vs #1` tests each row's right and wrong items under {judgement.mcnemar} against the first row's with the exact McNemar test "
            f"(a binomial test of the items only one of the two gets right; with several seeds an item is right when right in most of them), Holm over rows."
        )
    if paper_baseline and paper_baseline in judgement.models:
        lines.append(f"- **Paper baseline**: `> {paper_baseline}` tests each row against `{paper_baseline}`, the model the task's paper compares with, the same way (Holm over rows).")
    if judgement.baseline_compared:
        lines.append(f"- **Baseline**: `> baseline` compares each row with the {baseline_name or 'trivial reference'} on the same resamples (Holm over rows): yes when significantly better.")
    s = judgement.stability
    if s is not None:
        verdict = "stable" if s.stable else "**unstable**"
        lines.append(
            f"- **Rank stability**: Kendall's tau between this ranking and the {resamples} bootstrap rankings: median {s.tau_median:.2f} [95%: {s.tau_low:.2f}, {s.tau_high:.2f}]; "
            f"the first row stays first in {100 * s.first_kept:.0f}% of resamples. The ranking is {verdict} (our rule: stable when tau's 2.5% point is at least 0.8 and the first stays first in at least 95%)."
        )
    if judgement.per_unit_top:
        tops = [m for m, top in zip(judgement.models, _top_group(judgement.p_holm, judgement.comparable)) if top]
        same = "in the top group" if judgement.per_unit_top in tops else "**outside the top group**"
        lines.append(f"- **Rank then aggregate**: ranking within each of the {judgement.units} first, then averaging ranks, puts `{judgement.per_unit_top}` first: {same}.")
    return lines


def _top_group(p: np.ndarray, comparable: list[bool]) -> list[bool]:
    """Rows not significantly different from the first (the first included)."""
    return [ok and (i == 0 or not p[0, i] < statistics.ALPHA) for i, ok in enumerate(comparable)]


def matrix_section(judgement: Judgement) -> str:
    """Holm-adjusted p of every compared pair, the row's difference's sign marked."""
    shown = [i for i, ok in enumerate(judgement.comparable) if ok]
    if len(shown) < 2:
        return ""
    better = "higher" if judgement.metric.higher_is_better else "lower"
    head = f"## Pairwise comparisons\n\nHolm-adjusted p of row against column ({judgement.metric.name}, {better} is better); `+` the row is better, `−` worse; bold where p < {statistics.ALPHA}.\n"
    names = [judgement.models[i] for i in shown]
    lines = ["| | " + " | ".join(f"`{n}`" for n in names) + " |", "|---|" + "---|" * len(names)]
    sign = 1.0 if judgement.metric.higher_is_better else -1.0
    for i in shown:
        cells = []
        for j in shown:
            if i == j:
                cells.append("")
                continue
            p, d = judgement.p_holm[i, j], sign * judgement.difference[i, j]
            text = f"{'+' if d > 0 else '−' if d < 0 else '='}{tables.p_text(p)}"
            cells.append(f"**{text}**" if p < statistics.ALPHA else text)
        lines.append(f"| `{judgement.models[i]}` | " + " | ".join(cells) + " |")
    return head + "\n" + "\n".join(lines)
