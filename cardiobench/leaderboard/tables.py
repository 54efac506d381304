"""Leaderboard tables from run records: one row per model (mean and sd over
seeds, a 95% bootstrap CI paired across seeds), the papers' reported rows apart, rendered
as CSV and markdown with polars. Everything here is deterministic: the same
records give the same bytes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from cardiobench.engine import numerics
from cardiobench.evaluation import MetricValue, bootstrap_draws, bootstrap_draws_many, fold_mean, on_rows, on_rows_many, safe_value
from cardiobench.leaderboard.protocol import describe, row_label
from cardiobench.leaderboard.store import Table
from cardiobench.registry import Registry
from cardiobench.audit import Violation, audit
from cardiobench.audit import rows as reported_values
from cardiobench.specs import ConsistencyCheck, MetricSpec, ReportedResult
from cardiobench.tables import markdown

RESAMPLES = 1000
BOOTSTRAP_SEED = 0


def _date(record: dict[str, Any]) -> str:
    return record["finished_at"][:10]


def fold_sizes(record: dict[str, Any]) -> list[int]:
    """Test items per fold (``test_items`` holds them fold after fold)."""
    return [int(f["n_test"]) for f in record.get("folds", [])] or [len(record["test_items"]["ids"])]


def data_source(record: dict[str, Any]) -> str:
    """Where a record's data came from, without the local path (`... at PATH`) it was read at."""
    return str(record["dataset"]["source"]).split(" at ")[0]


def pooled_ci(records: Sequence[dict[str, Any]], metric: MetricSpec) -> tuple[float | None, float | None]:
    """95% CI of the seed-averaged headline metric, resampling test items (paired
    across seeds). A cross-validated run's headline is the mean over folds, so
    each fold's test set is resampled on its own and the fold values averaged,
    as the run's own interval is. A single record without per-item
    predictions (segmentation maps) keeps its own interval; None when several
    lack them or the seeds' test sets differ."""
    items = [r.get("test_items") for r in records]
    if len(records) == 1 and items[0] is None:
        own = records[0]["metrics"].get(metric.name, {})
        return own.get("ci_low"), own.get("ci_high")
    if any(i is None for i in items) or any(i["ids"] != items[0]["ids"] for i in items):
        return None, None
    sizes = fold_sizes(records[0])
    if sum(sizes) != len(items[0]["ids"]) or any(fold_sizes(r) != sizes for r in records):
        return None, None
    y_true = np.asarray(items[0]["y_true"], dtype=np.float64)
    per_seed = [on_rows(metric, y_true, np.asarray(i["y_pred"], dtype=np.float64)) for i in items]
    many = [on_rows_many(metric, y_true, np.asarray(i["y_pred"], dtype=np.float64)) for i in items]

    def seed_mean(rows: np.ndarray) -> float:
        return float(np.mean([fn(rows) for fn in per_seed]))

    def draws(rows: np.ndarray, seed: int) -> np.ndarray | None:
        if all(m is not None for m in many):  # every resample at once
            return bootstrap_draws_many(lambda r: np.mean([m(r) for m in many], axis=0), rows, RESAMPLES, seed)
        return bootstrap_draws(seed_mean, rows, RESAMPLES, seed)

    bounds = np.cumsum([0, *sizes])
    folds = [np.arange(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]
    per_fold = [MetricValue(safe_value(seed_mean, rows), np.nan, np.nan, draws(rows, BOOTSTRAP_SEED + k)) for k, rows in enumerate(folds)]
    interval = fold_mean(per_fold)
    return (interval.ci_low, interval.ci_high) if np.isfinite(interval.ci_low) else (None, None)


def cell(row: dict[str, Any], metric: str) -> str:
    """``mean ± sd [ci_low, ci_high]``; no ``± sd`` for a single seed."""
    spread = "" if row[f"{metric}_sd"] is None else f" ± {_fmt(row[f'{metric}_sd'])}"
    interval = "" if row[f"{metric}_ci_low"] is None else f" [{_fmt(row[f'{metric}_ci_low'])}, {_fmt(row[f'{metric}_ci_high'])}]"
    return f"{_fmt(row[f'{metric}_mean'])}{spread}{interval}"


def reproduced_rows(table: Table, metrics: list[MetricSpec], intervals: bool = True) -> list[dict[str, Any]]:
    """One row per model: mean and sd over seeds, and (``intervals``) the bootstrap CI (:func:`pooled_ci`)."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for record in table.records:
        by_model.setdefault(row_label(record), []).append(record)
    rows = []
    for model, group in sorted(by_model.items()):
        plugin = group[0]["model"]["plugin"]
        row: dict[str, Any] = {"model": model, "plugin": f"{plugin} {group[0]['environment'].get('plugins', {}).get(plugin, '')}".strip(), "protocol_notes": describe(group[0]), "parameters": group[0]["model"]["parameters"], "seeds": len(group)}
        for metric in metrics:
            values = np.array([r["metrics"][metric.name]["value"] for r in group], dtype=np.float64)
            low, high = pooled_ci(group, metric) if intervals else (None, None)
            row |= {
                f"{metric.name}_mean": float(values.mean()),
                f"{metric.name}_sd": float(values.std(ddof=1)) if len(values) > 1 else None,  # no spread from one seed
                f"{metric.name}_ci_low": low,
                f"{metric.name}_ci_high": high,
            }
        row |= {
            "source": "reproduced",
            "citation": "",
            "protocol": f"{table.preset} v{table.identity.preset_version}",
            "cardiobench": ", ".join(sorted({r["environment"]["cardiobench"] for r in group})),
            "date": max(_date(r) for r in group),
        }
        rows.append(row)
    return rows


def rank(rows: list[dict[str, Any]], metric: MetricSpec) -> list[dict[str, Any]]:
    """Order reproduced rows by the ranking metric (its direction) and number them."""
    ordered = sorted(rows, key=lambda r: (-r[f"{metric.name}_mean"] if metric.higher_is_better else r[f"{metric.name}_mean"], r["model"]))
    return [{"rank": i + 1, **r} for i, r in enumerate(ordered)]


def reported_rows(results: Sequence[ReportedResult], dataset: str, metrics: list[MetricSpec], checks: Sequence[ConsistencyCheck] = ()) -> list[dict[str, Any]]:
    """One task's reported rows of ``dataset``; ``audit`` lists the checks each violates."""
    grouped = reported_values(results, dataset)
    meta = {(r.table, r.method, r.citation): r for r in results if r.dataset == dataset}
    flagged: dict[tuple[str, str, str], list[Violation]] = {}
    for violation in audit(checks, results, dataset):
        flagged.setdefault(violation.row, []).append(violation)
    rows = []
    names = {m.name for m in metrics}
    for key in sorted(grouped):
        if not names & set(grouped[key]):
            continue  # no task metric: listed under other_reported
        r = meta[key]
        row: dict[str, Any] = {"rank": None, "model": r.model or "", "method": r.method, "parameters": None, "seeds": None}
        for metric in metrics:
            row |= {f"{metric.name}_mean": grouped[key].get(metric.name), f"{metric.name}_sd": None, f"{metric.name}_ci_low": None, f"{metric.name}_ci_high": None}
        row |= {"source": f"reported ({r.table}, {r.split} split)", "citation": r.citation, "protocol": r.protocol, "cardiobench": "", "date": "", "audit": flagged.get(key, [])}
        rows.append(row)
    return rows


def frame(rows: list[dict[str, Any]], metrics: list[MetricSpec]) -> pl.DataFrame:
    columns = ["rank", "model", "method", "parameters", "seeds"]
    columns += [f"{m.name}_{part}" for m in metrics for part in ("mean", "sd", "ci_low", "ci_high")]
    columns += ["source", "citation", "protocol", "cardiobench", "date"]
    schema = {c: (pl.Float64 if any(c.endswith(s) for s in ("_mean", "_sd", "_ci_low", "_ci_high")) else pl.Int64 if c in ("rank", "parameters", "seeds") else pl.String) for c in columns}
    return pl.DataFrame([{c: r.get(c, r.get("model") if c == "method" else None) for c in columns} for r in rows], schema=schema, orient="row")


def csv_text(data: pl.DataFrame) -> str:
    return data.write_csv(float_precision=6)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def record_numerics(record: dict[str, Any]) -> str:
    """The numerics signature that made a record, in words."""
    sig = record["environment"].get("numerics")
    return numerics.describe(sig) if sig else "no signature recorded (made before records carried one)"


def numerics_text(records: Sequence[dict[str, Any]]) -> str:
    """The numerics signatures that made a table's records, with how many each."""
    made = Counter(record_numerics(r) for r in records)
    return "; ".join(f"{text} ({n} record{'s' if n != 1 else ''})" for text, n in made.items())


def markdown_text(table: Table, reproduced: list[dict[str, Any]], reported: list[dict[str, Any]], registry: Registry) -> str:
    task = registry.task(table.task)
    metrics = [registry.metric(m) for m in task.metrics]
    ranking = registry.metric(task.rank_metric)
    first = table.records[0]
    lines = [
        f"# {table.task} on {table.data}, preset {table.preset}: table v{table.version}",
        "",
        f"- **Task**: {table.task} v{table.identity.task_version}: {task.description}.",
        f"- **Protocol**: preset `{table.preset}` v{table.identity.preset_version}: {first['preset'].get('description', '')}.",
        f"- **Data**: {table.data}, fingerprint `{table.identity.fingerprint[:16]}`; {data_source(first)}.",
        f"- **Ranking**: {ranking.name} ({'higher' if ranking.higher_is_better else 'lower'} is better), mean over seeds; metrics as mean ± sd over seeds (no sd for one seed) [95% bootstrap CI of that mean: test items resampled, paired across seeds, within each fold for cross-validated runs; none where the records keep no per-item predictions (segmentation maps) over several seeds].",
        f"- **Numerics**: {numerics_text(table.records)}.",
        f"- **Built from** {len(table.records)} run record(s) in `records/` (table schema v{table.identity.schema_version}).",
        "",
        "## Reproduced",
        "",
    ]
    rows = [
        {"rank": r["rank"], "model": r["model"], "plugin": r["plugin"], "params": f"{r['parameters'] / 1e6:.2f}M", "seeds": r["seeds"]}
        | {m.name: cell(r, m.name) for m in metrics}
        | {"cardiobench": r["cardiobench"], "date": r["date"]}
        for r in reproduced
    ]
    lines.append(markdown(pl.DataFrame(rows)))
    labelled = [f"`{r['model']}`: {r['protocol_notes']}" for r in reproduced if r["protocol_notes"]]
    if labelled:
        lines += ["", "Rows in brackets follow another protocol than the preset's plain one and are never averaged with it: " + "; ".join(labelled) + "."]
    joint = sorted({(r["model"]["name"], r["joint_of"]) for r in table.records if "joint_of" in r})
    if joint:
        lines += ["", "Multi-task rows: " + "; ".join(f"`{model}` is scored by its {table.task} head in its `{of}` runs (one model, one training, both tasks)" for model, of in joint) + "."]
    if reported:
        lines += [
            "",
            "## Reported by the papers",
            "",
            f"Numbers the papers state on their own data (real {table.dataset} or the private data their source column names) with their own protocols: shown for reference, never ranked against the rows above.",
            "",
        ]
        notes: list[str] = []
        shown = []
        for r in reported:
            marks = []
            for violation in r.get("audit", []):
                notes.append(violation.text())
                marks.append(f"[{len(notes)}]")
            shown.append({"method": r["method"], "model": r["model"], "protocol": r["protocol"]} | {m.name: _fmt(r[f"{m.name}_mean"]) for m in metrics} | {"audit": " ".join(marks), "source": r["source"], "citation": r["citation"]})
        lines.append(markdown(pl.DataFrame(shown) if notes else pl.DataFrame(shown).drop("audit")))
        if notes:
            lines += ["", "Audit (`cardiobench audit`): reported numbers that cannot all be right together.", ""]
            lines += [f"{i}. {note}" for i, note in enumerate(notes, 1)]
    extra = other_reported(registry.reported_for(table.task), table.dataset, metrics)
    if extra:
        lines += ["", "### Other reported numbers", "", "Numbers the papers state beyond the task's metrics (timings, parameters, per-class and localisation tables), for reference.", ""]
        lines.append(markdown(pl.DataFrame(extra)))
    return "\n".join(lines) + "\n"


def other_reported(results: Sequence[ReportedResult], dataset: str, metrics: list[MetricSpec]) -> list[dict[str, Any]]:
    """Reported numbers of ``dataset`` whose metric is not one of the task's, one row per number."""
    names = {m.name for m in metrics}
    return [{"table": r.table, "method": r.method, "metric": r.metric, "value": f"{r.value:g}", "split": r.split} for r in results if r.dataset == dataset and r.metric not in names]


INDEX_HEADER = """# Leaderboards

Tables built by `cardiobench leaderboard build` from the run records committed under
`<task>/records/`; CI checks them with `cardiobench leaderboard build --check` and re-runs
every `ci`-preset record with `cardiobench leaderboard reproduce --preset ci`.

## Versioning rules

- A table is one task on one dataset under one preset: `<task>/<dataset>__<preset>__v<N>.{csv,md}`,
  where `<dataset>` ends in `-synthetic` for runs on the generated stand-in (no
  `--data-root`), so real and synthetic results never share a table.
- Its version N is pinned to an identity: the task's version, the preset's (protocol's)
  version, the dataset fingerprint (labels, file list and split) and the table schema
  version. `<task>/versions.json` is the ledger of those identities.
- A record with a new identity starts version N + 1; the old version's records and files
  stay, so history remains readable. Bump a task's or preset's version whenever a change
  could alter results; the build then refuses to mix old and new records in one table.
- Reproduced rows are ranked by the task's ranking metric; the papers' reported rows are
  shown apart, labelled with table and citation, and never ranked against them.
- A row is one protocol: records average into it only when model, model arguments,
  result-changing `--set` overrides and weights provenance (trained in the run, fine-tuned or
  evaluated from given weights, outside predictions) agree; any other record gets its own
  row, labelled with what differs (`[args ...]`, `[--set ...]`, `[eval-only ...]`) and
  spelled out under the table. Each row names the plugin (and version) that made it.
- `cardiobench leaderboard submit RUN_DIR...` adds runs' records (all or none) after
  validating them and refusing duplicates and records whose code version or data fingerprint differ from the
  table's; `cardiobench leaderboard reproduce --task T --preset ci` re-runs records and
  compares each metric with the record: bit for bit when the re-run's numerics signature
  is the record's (`ci` presets use portable numerics, the same on any x86-64 CPU), else
  statistically (inside the record's 95% interval or its row's seed spread).

## Tables
"""


def index_text(entries: list[dict[str, Any]]) -> str:
    rows = [
        {
            "table": f"[{e['task']}/{e['stem']}]({e['task']}/{e['stem']}.md)",
            "version": e["version"],
            "protocol": e["protocol"],
            "dataset (fingerprint)": f"{e['dataset']} ({e['fingerprint'][:12]})",
            "records": e["records"],
            "date": e["date"],
            "reproduce": e["reproduce"],
        }
        for e in entries
    ]
    return INDEX_HEADER + "\n" + (markdown(pl.DataFrame(rows)) if rows else "No tables yet.") + "\n"
