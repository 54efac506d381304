"""Consistency audit of the papers' reported numbers.

A task declares relations its metrics must satisfy
(:class:`~cardiobench.specs.ConsistencyCheck`); every reported row (one
method in one table of one paper) is checked against each relation whose
metrics it reports. The leaderboards show violations as footnotes beside the
row; ``cardiobench audit`` lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cardiobench.specs import ConsistencyCheck, ReportedResult

SLACK = 5e-4  # reported numbers are rounded to 3-4 decimals


def accuracy_between_sensitivity_and_specificity() -> ConsistencyCheck:
    """Accuracy = p * sensitivity + (1 - p) * specificity for positive share p,
    so it lies between them (for a mean over folds, exactly so when the folds
    share p, as stratified folds do)."""
    return ConsistencyCheck(
        "accuracy-between-sensitivity-and-specificity",
        ("accuracy", "sensitivity", "specificity"),
        lambda v: min(v["sensitivity"], v["specificity"]) - SLACK <= v["accuracy"] <= max(v["sensitivity"], v["specificity"]) + SLACK,
        "for a binary task accuracy is a weighted mean of sensitivity and specificity, so it must lie between them",
    )


def jaccard_dice_bound(dice: str = "dice", jaccard: str = "jaccard") -> ConsistencyCheck:
    """J = D / (2 - D) for one pair of masks; averaged over masks (D / (2 - D)
    is convex) mean J >= mean D / (2 - mean D), and J <= D always."""
    return ConsistencyCheck(
        "jaccard-dice-bound",
        (dice, jaccard),
        lambda v: v[dice] / (2 - v[dice]) - SLACK <= v[jaccard] <= v[dice] + SLACK,
        "for the same masks Jaccard = Dice / (2 - Dice) per mask, so mean Jaccard >= mean Dice / (2 - mean Dice) and Jaccard <= Dice",
    )


def unit_interval(metrics: Sequence[str]) -> ConsistencyCheck:
    return ConsistencyCheck("unit-interval", tuple(metrics), lambda v: all(0 <= v[m] <= 1 for m in metrics), "these metrics are shares and lie in [0, 1]")


@dataclass(frozen=True)
class Violation:
    """A reported row that breaks a check."""

    table: str
    method: str
    citation: str
    check: ConsistencyCheck
    values: Mapping[str, float]

    @property
    def row(self) -> tuple[str, str, str]:
        return (self.table, self.method, self.citation)

    def detail(self) -> str:
        shown = ", ".join(f"{m} {self.values[m]:g}" for m in self.check.metrics)
        return f"{shown} - {self.check.statement}"

    def text(self) -> str:
        return f"{self.method} ({self.table}): {self.detail()}"


def rows(results: Sequence[ReportedResult], dataset: str | None = None) -> dict[tuple[str, str, str], dict[str, float]]:
    """Reported values grouped by row (table, method, citation)."""
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in results:
        if dataset is None or r.dataset == dataset:
            out.setdefault((r.table, r.method, r.citation), {})[r.metric] = float(r.value)
    return out


def audit(checks: Sequence[ConsistencyCheck], results: Sequence[ReportedResult], dataset: str | None = None) -> list[Violation]:
    """Every (row, check) pair of one task's reported rows (of ``dataset``, if
    given) that violates a check the row reports the metrics of."""
    out = []
    for (table, method, citation), values in sorted(rows(results, dataset).items()):
        for check in checks:
            if all(m in values for m in check.metrics) and not check.holds(values):
                out.append(Violation(table, method, citation, check, {m: values[m] for m in check.metrics}))
    return out
