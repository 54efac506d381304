"""``leaderboard reproduce``: re-run recorded runs and compare their metrics.

How a re-run is compared depends on the two numerics signatures
(:mod:`cardiobench.engine.numerics`):

- **the same signature and data** (a portable record on any x86-64 CPU, a
  native one on the same kind of machine): the computation is the same, so
  every metric must come back bit for bit (up to :data:`EXACT_REL` relative,
  the order of float rounding);
- **another signature, or other data** (a native record re-run on another CPU,
  a record that names no signature, a synthetic set that a newer library
  wrote differently): training is chaotic in the last bit, so the re-run is
  compared statistically: inside the record's 95% bootstrap interval, or
  within the spread of its row's seeds. A fixed tolerance would fail on noise.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cardiobench.engine import numerics
from cardiobench.errors import CardiobenchError
from cardiobench.leaderboard.protocol import row_label
from cardiobench.leaderboard.store import Store, Table
from cardiobench.registry import Registry
from cardiobench.runner import RunRequest, run

EXACT_REL = 1e-12

BIT_FOR_BIT, SAME_UNDEFINED, IN_INTERVAL, IN_SPREAD, UNCHECKABLE = "bit for bit", "undefined in both", "in the record's 95% interval", "in its row's seed spread", "no interval to compare with"
DIFFERS, OUTSIDE, LOST = "differs", "outside the interval and the seed spread", "defined in only one"
FAILING = frozenset({DIFFERS, OUTSIDE, LOST})


@dataclass
class Comparison:
    """One metric of one record, recorded against re-run."""

    run_id: str
    model: str
    seed: int
    metric: str
    recorded: float | None
    now: float | None
    exact: bool = True  # same numerics signature: the bits must agree
    interval: tuple[float | None, float | None] = (None, None)  # the record's 95% interval
    spread: tuple[float, float] | None = None  # min and max over the seeds of the record's row

    @property
    def difference(self) -> float | None:
        """now - recorded; None where the metric is undefined (e.g. an empty subset)."""
        return None if self.now is None or self.recorded is None else self.now - self.recorded

    @property
    def verdict(self) -> str:
        if self.now is None or self.recorded is None:
            return SAME_UNDEFINED if self.now is None and self.recorded is None else LOST
        if self.exact:
            return BIT_FOR_BIT if math.isclose(self.now, self.recorded, rel_tol=EXACT_REL, abs_tol=EXACT_REL) else DIFFERS
        low, high = self.interval
        if low is not None and high is not None and low <= self.now <= high:
            return IN_INTERVAL
        if self.spread is not None and self.spread[0] <= self.now <= self.spread[1]:
            return IN_SPREAD
        return UNCHECKABLE if (low is None or high is None) and self.spread is None else OUTSIDE

    @property
    def ok(self) -> bool:
        return self.verdict not in FAILING


def _newest_tables(store: Store, task: str, preset: str, notes: list[str]) -> list[Table]:
    """The newest version of each of ``task``'s ``preset`` tables."""
    newest: dict[str, Table] = {}
    versions = [t for t in store.tables(task, store.ledger(task), joint=False) if t.preset == preset]
    for table in versions:
        if table.data not in newest or table.version > newest[table.data].version:
            newest[table.data] = table
    for table in versions:
        if newest[table.data] is not table:
            notes.append(f"{task}/{table.stem}: superseded by v{newest[table.data].version}; its {len(table.records)} record(s) are not re-run")
    return list(newest.values())


def _spread(table: Table, record: dict[str, Any], metric: str) -> tuple[float, float] | None:
    """The range of ``metric`` over the seeds of ``record``'s row (None for one seed)."""
    values = [r["metrics"][metric]["value"] for r in table.records if row_label(r) == row_label(record) and metric in r["metrics"]]
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if len(values) > 1 else None


def _how(record: dict[str, Any], again: dict[str, Any]) -> tuple[bool, str]:
    """Whether a re-run must match its record bit for bit (same numerics
    signature, same data), and why or why not, in words."""
    recorded, now = record["environment"].get("numerics"), again["environment"]["numerics"]
    statistically = "compared statistically (the record's 95% interval or its row's seed spread)"
    if record["dataset"]["fingerprint"] != again["dataset"]["fingerprint"]:
        return False, (
            f"the data came out differently (fingerprint {record['dataset']['fingerprint'][:12]} recorded, {again['dataset']['fingerprint'][:12]} now: "
            f"another version of a library the generator or reader uses, or changed files): {statistically}"
        )
    if recorded is None:
        return False, f"the records name no numerics signature; re-run with {numerics.describe(now)}: {statistically}"
    if recorded["key"] == now["key"]:
        return True, f"recorded and re-run with the same numerics signature, {numerics.describe(now)}: compared bit for bit"
    return False, f"recorded with {numerics.describe(recorded)}; re-run with {numerics.describe(now)}: another signature, {statistically}"


def _check_plugins(store: Store, registry: Registry, tasks: list[str], preset: str) -> str:
    """The plugins the ``preset`` records of ``tasks`` were made with, checked
    loaded before anything runs; a note naming them (with versions)."""
    needed: dict[str, set[str]] = {}
    for task_name in tasks:
        for record in store.records(task_name) if task_name in store.native_tasks() else []:
            if record["preset"]["name"] == preset:
                for part in ("task", "model", "dataset"):
                    needed.setdefault(record[part]["plugin"], set()).add(record["environment"].get("plugins", {}).get(record[part]["plugin"], "?"))
    loaded = {p.name: p.version for p in registry.plugins}
    missing = sorted(p for p in needed if p not in loaded and p != "__main__")
    if missing:
        raise CardiobenchError(
            f"The {preset!r} records need plugin(s) that are not loaded: {', '.join(f'{p} (recorded {sorted(needed[p])[0]})' for p in missing)}. "
            f"Install them, or load a module with {' '.join(f'--plugin {p}' for p in missing)}."
        )
    return "plugins these records need: " + ", ".join(f"{p} {loaded[p]} (recorded {', '.join(sorted(needed[p]))})" for p in sorted(needed) if p in loaded)


def reproduce(store: Store, registry: Registry, task: str | None, preset: str, runs_dir: Path | None = None, device: str = "cpu") -> tuple[list[Comparison], list[str]]:
    """Re-run every record of the newest version of each ``preset`` table
    (older versions are history: their data or protocol identity is not the
    current one) whose task and preset versions are current; returns the
    comparisons and notes (skipped records, and how each group was compared)."""
    comparisons, notes = [], []
    how: Counter[str] = Counter()
    scratch = Path(runs_dir) if runs_dir else Path(tempfile.mkdtemp(prefix="cardiobench-reproduce-"))
    tasks = [task] if task else store.tasks()
    notes.append(_check_plugins(store, registry, tasks, preset))
    for task_name in tasks:
        spec = registry.task(task_name)
        for table in _newest_tables(store, task_name, preset, notes):
            for record in table.records:
                if record["task"]["version"] != spec.version:
                    notes.append(f"{record['run_id']}: task version {record['task']['version']} is not the current {spec.version}; skipped")
                    continue
                kind = (record.get("provenance") or {"kind": "trained"})["kind"]
                if kind != "trained":
                    notes.append(f"{record['run_id']}: its model was not trained in the run ({kind}: the weights or predictions are not committed); skipped")
                    continue
                request = RunRequest(
                    task=task_name,
                    model=record["model"]["name"],
                    dataset=record["dataset"]["name"],
                    data_root=record["request"]["data_root"],
                    preset=preset,
                    seed=record["seed"],
                    overrides=list(record["request"]["overrides"]),
                    device=device,
                    test_dataset=record.get("test_dataset", {}).get("name"),
                    test_data_root=record["request"].get("test_data_root"),
                )
                outcome = run(request, registry, scratch)
                if outcome.record["preset"]["version"] != record["preset"]["version"]:
                    notes.append(f"{record['run_id']}: preset version {record['preset']['version']} is not the current {outcome.record['preset']['version']}; not compared")
                    continue
                exact, why = _how(record, outcome.record)
                how[why] += 1
                for name, value in record["metrics"].items():
                    comparisons.append(
                        Comparison(record["run_id"], record["model"]["name"], record["seed"], name, value["value"], outcome.record["metrics"][name]["value"], exact, (value.get("ci_low"), value.get("ci_high")), _spread(table, record, name))
                    )
    notes += [f"{count} record(s): {text}" for text, count in how.items()]
    return comparisons, notes


def comparison_table(comparisons: list[Comparison]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"run": c.run_id, "model": c.model, "seed": c.seed, "metric": c.metric, "recorded": c.recorded, "now": c.now, "difference": c.difference, "check": c.verdict, "ok": c.ok} for c in comparisons],
        schema_overrides={"recorded": pl.Float64, "now": pl.Float64, "difference": pl.Float64},
    )


def failure_message(comparisons: list[Comparison]) -> str:
    """The error when some comparisons fail, counting each kind of failure."""
    failed = Counter(c.verdict for c in comparisons if not c.ok)
    kinds = "; ".join(f"{n} {verdict}" for verdict, n in failed.items())
    return (
        f"{sum(failed.values())} of {len(comparisons)} metric(s) did not reproduce ({kinds}; table above). "
        f"'{DIFFERS}': a re-run with the record's own numerics signature must give the same bits, so the code, data or software changed; "
        f"'{OUTSIDE}': a re-run on other numerics fell outside the record's 95% interval and its row's seed spread."
    )
