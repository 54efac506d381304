"""External-validation tables (``<train>-to-<test>``): each row beside the
same model's in-domain result, with the gap.

An external run trains exactly as the in-domain run of the same model, preset
and seed (:mod:`cardiobench.cross_dataset`; the records' training histories
are compared to confirm it), so the gap is one training recipe tested on two
test sets. The two sets share no items, so the gap's 95% interval is the
percentile interval of the difference of two independent bootstraps (each
row's own resamples), not a paired one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cardiobench.evaluation import percentile_interval
from cardiobench.leaderboard import tables
from cardiobench.leaderboard.protocol import row_label
from cardiobench.leaderboard.store import Table
from cardiobench.specs import MetricSpec

GAP_COLUMNS = ("in_domain_mean", "gap", "gap_ci_low", "gap_ci_high", "gap_ratio")


def is_external(table: Table) -> bool:
    return "test_dataset" in table.records[0]


def _history(record: dict[str, Any]) -> list[list[dict[str, float]]]:
    return [[{k: v for k, v in epoch.items() if k != "seconds"} for epoch in fold.get("history", [])] for fold in record.get("folds", [])]


def in_domain_records(table: Table, candidates: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per row label, the in-domain records of the same training data, preset and preset version."""
    first = table.records[0]
    out: dict[str, list[dict[str, Any]]] = {}
    for record in candidates:
        if (
            "test_dataset" not in record
            and record["dataset"]["fingerprint"] == first["dataset"]["fingerprint"]
            and record["request"]["data_root"] == first["request"]["data_root"]
            and record["preset"]["name"] == first["preset"]["name"]
            and record["preset"]["version"] == first["preset"]["version"]
        ):
            out.setdefault(row_label(record), []).append(record)
    return out


def add_gaps(rows: list[dict[str, Any]], table: Table, candidates: list[dict[str, Any]], metric: MetricSpec) -> None:
    """``in_domain_mean``, ``gap`` (external minus in-domain) with its
    interval, ``gap_ratio`` and ``same_training`` on every row that has
    in-domain records of the same seeds."""
    domestic = in_domain_records(table, candidates)
    for row in rows:
        external = {r["seed"]: r for r in row["_records"]}
        home = {r["seed"]: r for r in domestic.get(row["model"], []) if r["seed"] in external}
        if not home:
            continue
        seeds = sorted(home)
        ours, theirs = [external[s] for s in seeds], [home[s] for s in seeds]
        outside = float(np.mean([r["metrics"][metric.name]["value"] for r in ours]))
        inside = float(np.mean([r["metrics"][metric.name]["value"] for r in theirs]))
        a, b = tables.pooled_draws(ours, metric), tables.pooled_draws(theirs, metric)
        low, high = percentile_interval(a.draws - b.draws) if a is not None and b is not None and a.draws is not None and b.draws is not None else (float("nan"), float("nan"))
        row |= {
            "in_domain_mean": inside,
            "gap": outside - inside,
            "gap_ci_low": low if np.isfinite(low) else None,
            "gap_ci_high": high if np.isfinite(high) else None,
            "gap_ratio": outside / inside if inside else None,
            "same_training": all(_history(x) == _history(y) for x, y in zip(ours, theirs)),
            "in_domain_seeds": len(seeds),
        }


def gap_section(rows: list[dict[str, Any]], table: Table, metric: MetricSpec) -> str:
    """The markdown section: in-domain against external, per row."""
    shown = [r for r in rows if "gap" in r]
    first = table.records[0]
    train, test = first["dataset"]["name"], first["test_dataset"]["name"]
    if not shown:
        return f"## In-domain against external\n\nNo row has an in-domain record ({train} test split) of the same preset and seeds yet, so no gap is shown."
    worse = "higher" if not metric.higher_is_better else "lower"
    lines = [
        "## In-domain against external",
        "",
        f"Each model trained on {train} and selected on its validation split, tested on {train}'s own test split (in-domain, from that table's records of the same preset and seeds) and on {test}'s (this table). "
        f"**gap** = external − in-domain {metric.name} ({worse} external is worse) with the 95% interval of two independent bootstraps (the test sets share no items); **ratio** = external / in-domain; "
        "**same training**: the two records' training histories are identical (the external run trained exactly the in-domain run's model).",
        "",
        "| model | seeds | in-domain | external | gap [95% CI] | ratio | same training |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in shown:
        interval = f" [{r['gap_ci_low']:.3f}, {r['gap_ci_high']:.3f}]" if r["gap_ci_low"] is not None else ""
        ratio = f"{r['gap_ratio']:.2f}" if r["gap_ratio"] is not None else ""
        lines.append(f"| `{r['model']}` | {r['in_domain_seeds']} | {r['in_domain_mean']:.3f} | {r[f'{metric.name}_mean']:.3f} | {r['gap']:+.3f}{interval} | {ratio} | {'yes' if r['same_training'] else 'no'} |")
    return "\n".join(lines)
