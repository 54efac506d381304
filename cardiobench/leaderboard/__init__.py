"""Versioned leaderboards built from run records (``cardiobench leaderboard ...``).

``build`` renders every table as a pure function of the committed records and
the version ledger; ``check`` compares that with what is committed; ``submit``
adds a finished run; ``reproduce`` (:mod:`.reproduction`) re-runs recorded runs
and compares metrics; ``plot`` draws metric against parameter count.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cardiobench import atomic, plotting, records
from cardiobench.errors import CardiobenchError
from cardiobench.leaderboard import admission, external, tables
from cardiobench.leaderboard.assessment import assess
from cardiobench.leaderboard.protocol import row_label
from cardiobench.leaderboard.reproduction import Comparison, comparison_table, failure_message, reproduce
from cardiobench.leaderboard.store import LEDGER, Identity, Store, Table, data_name
from cardiobench.paths import cache_dir
from cardiobench.registry import Registry
from cardiobench.specs import MetricSpec

__all__ = ["Built", "Comparison", "build", "check", "comparison_table", "failure_message", "plot", "publish", "reproduce", "submit", "write"]


@dataclass
class Built:
    """Every file ``build`` produces, by path, and the tables behind them."""

    files: dict[Path, str]
    tables: list[Table]


def reproduce_hint(table: Table) -> str:
    if table.preset == "ci":
        return f"`cardiobench leaderboard reproduce --task {table.task} --preset ci`"
    data_root = "" if table.data.endswith("-synthetic") else f" --data-root <{table.dataset} folder>"
    return f"`cardiobench run --task {table.task} --model M --preset {table.preset} --seed S{data_root}` per record"


def build(store: Store, registry: Registry) -> Built:
    files: dict[Path, str] = {}
    entries, built = [], []
    for task_name in store.tasks():
        task = registry.task(task_name)
        ledger = store.ledger(task_name)
        for table in store.tables(task_name, ledger):
            assessed = assess(store, registry, table)
            reported = [] if external.is_external(table) else tables.reported_rows(registry.reported_for(task_name), table.dataset, assessed.metrics, task.checks)  # papers test in-domain
            folder = store.root / task_name
            files[folder / f"{table.stem}.csv"] = tables.csv_text(tables.frame(assessed.rows + reported, assessed.metrics))
            files[folder / f"{table.stem}.md"] = tables.markdown_text(table, assessed.rows, reported, registry, assessed.header, assessed.sections, task.paper_baseline)
            first = table.records[0]
            entries.append(
                {
                    "task": task_name,
                    "stem": table.stem,
                    "version": table.version,
                    "protocol": f"{table.preset} v{table.identity.preset_version}: {first['preset'].get('description', '')}",
                    "dataset": table.data,
                    "fingerprint": table.identity.fingerprint,
                    "records": len(table.records),
                    "date": max(r["finished_at"][:10] for r in table.records),
                    "reproduce": reproduce_hint(table),
                }
            )
            built.append(table)
        files[store.root / task_name / LEDGER] = store.ledger_text(ledger)
    files[store.root / "README.md"] = tables.index_text(entries)
    return Built(files, built)


def write(built: Built) -> list[Path]:
    changed = []
    for path, text in built.files.items():
        if not path.is_file() or path.read_text() != text:
            atomic.write_text(path, text)
            changed.append(path)
    return changed


def check(built: Built) -> str:
    """A unified diff of committed files against what the records give ('' when equal)."""
    diffs = []
    for path, text in sorted(built.files.items()):
        old = path.read_text() if path.is_file() else ""
        if old != text:
            diffs += difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True), f"{path} (committed)", f"{path} (from records)")
    return "".join(diffs)


def _table_of(existing: list[dict[str, Any]], record: dict[str, Any]) -> list[dict[str, Any]]:
    """Records among ``existing`` in the table version that ``record`` would join."""
    same = [r for r in existing if data_name(r) == data_name(record) and r["preset"]["name"] == record["preset"]["name"]]
    return [r for r in same if (r["task"]["version"], r["preset"]["version"]) == (record["task"]["version"], record["preset"]["version"])]


def submit(store: Store, registry: Registry, run_dirs: list[Path]) -> list[Path]:
    """Add the records of finished runs: all of them, or none when one is
    refused (every refused record is named, with its reasons, at once). A
    record already on the board unchanged is skipped, so repeating a
    submission that was cut short completes it."""
    accepted: list[dict[str, Any]] = []
    on_board: dict[str, list[dict[str, Any]]] = {}  # per task: its committed records, read once
    candidates, refused = [], []
    for run_dir in run_dirs:
        path = Path(run_dir) / records.RECORD_FILE
        if not path.is_file():
            refused.append(f"{run_dir}: no {records.RECORD_FILE} (only finished runs can be submitted)")
            continue
        record, why = admission.read(path)
        why = why or admission.problems(record, registry)
        if why:
            refused.append(f"{path}: {'; '.join(why)}")
        else:  # records of older versions may still name local paths
            candidates.append(records.portable(record, {cache_dir(): "<cache>", Path(run_dir).resolve().parent: "<runs>"}))
    if refused:
        raise CardiobenchError(f"Nothing was submitted: {len(refused)} record(s) refused - " + " | ".join(refused) + ".")
    for record in candidates:
        task = registry.task(record["task"]["name"]).name
        existing = on_board.setdefault(task, store.records(task))
        if any(records.dumps(r) == records.dumps(record) for r in existing):
            print(f"{record['run_id']} is already on the board (unchanged); not added again")
            continue  # e.g. a submission cut short: nothing to add, the rebuild still runs
        _admit(record, existing)
        existing.append(record)
        accepted.append(record)
    return [store.add_record(record) for record in accepted]


def publish(store: Store, registry: Registry, run_dirs: list[Path]) -> tuple[list[Path], list[Path]]:
    """:func:`submit` then rebuild the tables, holding the leaderboards' lock:
    two submissions at once take turns, and neither loses a record or tears a table."""
    with atomic.exclusive(store.root / ".submit"):
        added = submit(store, registry, run_dirs)
        return added, write(build(store, registry))


def _admit(record: dict[str, Any], existing: list[dict[str, Any]]) -> None:
    """Refuse a record that duplicates one in ``existing`` or cannot share its table."""
    peers = _table_of(existing, record)
    if any(r["run_id"] == record["run_id"] for r in existing):
        raise CardiobenchError(f"Run {record['run_id']} is already on the leaderboard.")
    twin = next((r for r in peers if row_label(r) == row_label(record) and r["seed"] == record["seed"] and Identity.of(r) == Identity.of(record)), None)
    if twin:
        raise CardiobenchError(f"The table already holds {row_label(record)} seed {record['seed']} (run {twin['run_id']}); submit another seed or remove that record first.")
    if peers:
        fingerprints = {r["dataset"]["fingerprint"] for r in peers}
        if record["dataset"]["fingerprint"] not in fingerprints:
            raise CardiobenchError(
                f"This run's data fingerprint {record['dataset']['fingerprint'][:12]} differs from the table's ({', '.join(f[:12] for f in sorted(fingerprints))}): "
                f"results on other data cannot share its rows. If the data changed on purpose, bump the preset's version to start a new table version."
            )
        versions = {r["environment"]["cardiobench"] for r in peers}
        if record["environment"]["cardiobench"] not in versions:
            raise CardiobenchError(
                f"This run was made by cardiobench {record['environment']['cardiobench']}, the table's records by {', '.join(sorted(versions))}; "
                f"re-run them with this version, or bump the preset's version if results changed."
            )


COST_AXES = {"parameters": ("parameters", 1e6, "parameters (millions)"), "flops": ("flops_per_item", 1e9, "forward GFLOPs per item")}


def parameter_figure(table: Table, metric: MetricSpec, cost: str = "parameters") -> Any | None:
    """The ranking metric (mean ± sd over seeds) against parameter count (or
    forward FLOPs per item), one point per model, named in a legend beside
    the axes (labels at the points overlap where models are alike); None when
    no row has the cost (records made before FLOPs were counted)."""
    key, scale, label = COST_AXES[cost]
    rows = [r for r in tables.reproduced_rows(table, [metric], intervals=False) if r.get(key)]
    if not rows:
        return None
    fig, ax = plotting.plt.subplots(figsize=(7.5, 4))
    for i, row in enumerate(rows):
        ax.errorbar(row[key] / scale, row[f"{metric.name}_mean"], yerr=row[f"{metric.name}_sd"], fmt="osD^vP*Xh<>"[i % 11], capsize=3, label=row["model"])
    ax.set(xlabel=label, ylabel=f"{metric.name} ({'higher' if metric.higher_is_better else 'lower'} is better)", title=f"{table.task} on {table.data}, preset {table.preset}, v{table.version}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot(store: Store, registry: Registry, task: str) -> list[Path]:
    """Per table version: the ranking metric against parameter count (PNG next to the table)."""
    metric = registry.metric(registry.task(task).rank_metric)
    return [plotting.save(parameter_figure(table, metric), store.root / task / f"{table.stem}.png") for table in store.tables(task, store.ledger(task))]  # every table has parameters
