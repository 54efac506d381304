"""One table's reproduced rows with everything the statistics say of them,
computed once for the markdown, the CSV and the site alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cardiobench.leaderboard import external, ranking, tables
from cardiobench.leaderboard.store import Store, Table
from cardiobench.registry import Registry
from cardiobench.specs import MetricSpec


@dataclass
class Assessment:
    """A table's ranked rows (with their tests, and gaps on an external
    table), the judgement behind them, its header lines and extra sections."""

    metrics: list[MetricSpec]
    rank_metric: MetricSpec
    rows: list[dict[str, Any]]
    judgement: ranking.Judgement
    header: list[str]
    sections: list[str]

    @property
    def gaps(self) -> list[dict[str, Any]]:
        """Rows with an in-domain result to compare the external one with."""
        return [r for r in self.rows if "gap" in r]


def assess(store: Store, registry: Registry, table: Table) -> Assessment:
    task = registry.task(table.task)
    metrics = [registry.metric(m) for m in task.metrics]
    rank_metric = registry.metric(task.rank_metric)
    rows = tables.rank(tables.reproduced_rows(table, metrics, ranking=rank_metric.name), rank_metric)
    judgement = ranking.judge(rows, rank_metric, task.paper_baseline, metrics)
    header = ranking.header_lines(judgement, tables.RESAMPLES, tables.BOOTSTRAP_SEED, task.reference_baseline_name, task.paper_baseline)
    sections = [s for s in [ranking.matrix_section(judgement)] if s]
    if external.is_external(table):
        external.add_gaps(rows, table, store.records(table.task), rank_metric)
        sections.append(external.gap_section(rows, table, rank_metric))
    return Assessment(metrics, rank_metric, rows, judgement, header, sections)
