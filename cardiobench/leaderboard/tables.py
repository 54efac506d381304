"""Leaderboard tables from run records: one row per model (mean and sd over
seeds, a 95% bootstrap CI paired across seeds), the papers' reported rows apart, rendered
as CSV and markdown with polars. Everything here is deterministic: the same
records give the same bytes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from cardiobench.engine import numerics
from cardiobench.evaluation import ManyRowMetric, MetricValue, RowMetric, bootstrap_draws, bootstrap_draws_many, fold_mean, on_rows, on_rows_many, safe_value
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


def item_stats(items: dict[str, Any], metric: MetricSpec) -> np.ndarray | None:
    """A record's per-item sufficient statistics of ``metric``: kept in the
    record (segmentation) or computed from its predictions; None without them."""
    if "stats" in items:
        return np.asarray(items["stats"][metric.name], dtype=np.float64) if metric.name in items["stats"] else None
    if metric.item_stats is None:
        return None
    return np.asarray(metric.item_stats(np.asarray(items["y_true"], dtype=np.float64), np.asarray(items["y_pred"], dtype=np.float64)), dtype=np.float64)


def item_metric(items: dict[str, Any], metric: MetricSpec) -> tuple[RowMetric, ManyRowMetric | None] | None:
    """``metric`` of a record's test items as a function of row indices (and
    of many resamples at once, where the metric offers it): from the
    predictions, or from the per-item statistics a segmentation record keeps."""
    if "stats" in items:
        stats, one, many = item_stats(items, metric), metric.from_stats, metric.from_stats_many
        if stats is None or one is None:
            return None
        return (lambda rows: one(stats[rows])), (None if many is None else lambda rows: many(stats[rows]))
    y_true, y_pred = np.asarray(items["y_true"], dtype=np.float64), np.asarray(items["y_pred"], dtype=np.float64)
    return on_rows(metric, y_true, y_pred), on_rows_many(metric, y_true, y_pred)


def seed_mean_item_values(records: Sequence[dict[str, Any]], metric: MetricSpec) -> np.ndarray | None:
    """Each test item's value of ``metric`` (its ``item_values``), averaged
    over the seeds, for the Wilcoxon signed-rank test; None where the metric
    has no per-item values or a record keeps no per-item statistics."""
    if metric.item_values is None or metric.item_stats is None:
        return None
    stats = [item_stats(r["test_items"], metric) if r.get("test_items") else None for r in records]
    if any(s is None for s in stats):
        return None
    return np.mean([metric.item_values(s) for s in stats], axis=0)


def pooled_draws(records: Sequence[dict[str, Any]], metric: MetricSpec) -> MetricValue | None:
    """The seed-averaged headline metric with its 95% CI and bootstrap draws,
    resampling test items (paired across seeds). A cross-validated run's
    headline is the mean over folds, so each fold's test set is resampled on
    its own and the fold values averaged, as the run's own interval is. The
    resamples depend only on the fold sizes and :data:`BOOTSTRAP_SEED`, so two
    rows on the same test items share them: their draws pair
    (:mod:`cardiobench.statistics`). None when a record lacks per-item
    predictions (segmentation maps) or the seeds' test sets differ."""
    items = [r.get("test_items") for r in records]
    if any(i is None for i in items) or any(i["ids"] != items[0]["ids"] for i in items):
        return None
    sizes = fold_sizes(records[0])
    if sum(sizes) != len(items[0]["ids"]) or any(fold_sizes(r) != sizes for r in records):
        return None
    found = [item_metric(i, metric) for i in items]
    if any(f is None for f in found):
        return None
    per_seed, many = [f[0] for f in found], [f[1] for f in found]

    def seed_mean(rows: np.ndarray) -> float:
        return float(np.mean([fn(rows) for fn in per_seed]))

    def draws(rows: np.ndarray, seed: int) -> np.ndarray | None:
        if all(m is not None for m in many):  # every resample at once
            return bootstrap_draws_many(lambda r: np.mean([m(r) for m in many], axis=0), rows, RESAMPLES, seed)
        return bootstrap_draws(seed_mean, rows, RESAMPLES, seed)

    bounds = np.cumsum([0, *sizes])
    folds = [np.arange(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]
    return fold_mean([MetricValue(safe_value(seed_mean, rows), np.nan, np.nan, draws(rows, BOOTSTRAP_SEED + k)) for k, rows in enumerate(folds)])


def pooled_ci(records: Sequence[dict[str, Any]], metric: MetricSpec) -> tuple[float | None, float | None]:
    """The 95% CI of :func:`pooled_draws`; a single record without per-item
    predictions keeps its own interval; None when there is none."""
    if len(records) == 1 and records[0].get("test_items") is None:
        own = records[0]["metrics"].get(metric.name, {})
        return own.get("ci_low"), own.get("ci_high")
    value = pooled_draws(records, metric)
    return (value.ci_low, value.ci_high) if value is not None and np.isfinite(value.ci_low) else (None, None)


def cell(row: dict[str, Any], metric: str) -> str:
    """``mean ± sd [ci_low, ci_high]``; no ``± sd`` for a single seed;
    ``undefined`` where no test item defines the metric (HD95 of all-empty predictions)."""
    mean = row[f"{metric}_mean"]
    if mean is not None and math.isnan(mean):
        return "undefined"
    spread = "" if row[f"{metric}_sd"] is None else f" ± {_fmt(row[f'{metric}_sd'])}"
    interval = "" if row[f"{metric}_ci_low"] is None else f" [{_fmt(row[f'{metric}_ci_low'])}, {_fmt(row[f'{metric}_ci_high'])}]"
    return f"{_fmt(row[f'{metric}_mean'])}{spread}{interval}"


def reproduced_rows(table: Table, metrics: list[MetricSpec], intervals: bool = True, ranking: str = "") -> list[dict[str, Any]]:
    """One row per model: mean and sd over seeds, and (``intervals``) the
    bootstrap CI (:func:`pooled_ci`); the ``ranking`` metric's draws under
    ``_draws`` and the records under ``_records``, for :mod:`.ranking`."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for record in table.records:
        by_model.setdefault(row_label(record), []).append(record)
    rows = []
    for model, group in sorted(by_model.items()):
        plugin = group[0]["model"]["plugin"]
        row: dict[str, Any] = {"model": model, "plugin": f"{plugin} {group[0]['environment'].get('plugins', {}).get(plugin, '')}".strip(), "protocol_notes": describe(group[0]), "parameters": group[0]["model"]["parameters"], "seeds": len(group), "_records": group}
        for metric in metrics:
            if any(metric.name not in r["metrics"] for r in group):  # a metric the task gained after these records
                row |= {f"{metric.name}_{field}": None for field in ("mean", "sd", "ci_low", "ci_high")}
                continue
            values = np.array([r["metrics"][metric.name]["value"] for r in group], dtype=np.float64)
            if intervals and metric.name == ranking and not (len(group) == 1 and group[0].get("test_items") is None):
                pooled = pooled_draws(group, metric)  # its draws also serve the paired comparisons
                row["_draws"] = pooled.draws if pooled is not None else None
                low, high = (pooled.ci_low, pooled.ci_high) if pooled is not None and np.isfinite(pooled.ci_low) else (None, None)
            else:
                low, high = pooled_ci(group, metric) if intervals else (None, None)
            row |= {
                f"{metric.name}_mean": float(values.mean()),
                f"{metric.name}_sd": float(values.std(ddof=1)) if len(values) > 1 else None,  # no spread from one seed
                f"{metric.name}_ci_low": low,
                f"{metric.name}_ci_high": high,
            }
        timing = [r.get("timing", {}) for r in group]
        row |= {f"agreement_{k}": v for k, v in (agreement(group) or {}).items()}
        row |= {
            "flops_per_item": _mean_of([r["model"].get("flops_per_item") for r in group]),
            "train_seconds": _mean_of([t.get("train_seconds") for t in timing]),
            "train_items_per_second": _mean_of([t.get("train_items_per_second") for t in timing]),
            "test_items_per_second": _mean_of([t.get("eval_items_per_second") for t in timing]),
            "peak_memory_mib": _mean_of([t.get("peak_memory_mib") for t in timing]),
            "device": ", ".join(sorted({str(r["environment"].get("device", "")) for r in group})),
            "source": "reproduced",
            "citation": "",
            "protocol": f"{table.preset} v{table.identity.preset_version}",
            "cardiobench": ", ".join(sorted({r["environment"]["cardiobench"] for r in group})),
            "date": max(_date(r) for r in group),
        }
        rows.append(row)
    return rows


def _mean_of(values: list[Any]) -> float | None:
    found = [float(v) for v in values if isinstance(v, (int, float)) and v > 0]
    return float(np.mean(found)) if found else None


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


FLOAT_COLUMNS = ("flops_per_item", "agreement_bias", "agreement_loa_low", "agreement_loa_high", "p_vs_best", "p_wilcoxon_vs_best", "p_mcnemar_vs_best", "p_vs_baseline", "p_vs_paper_baseline", "train_seconds", "train_items_per_second", "test_items_per_second", "peak_memory_mib", "in_domain_mean", "gap", "gap_ci_low", "gap_ci_high", "gap_ratio")


def frame(rows: list[dict[str, Any]], metrics: list[MetricSpec]) -> pl.DataFrame:
    columns = ["rank", "rank_range", "top_group", "model", "method", "parameters", "seeds"]
    columns += [f"{m.name}_{part}" for m in metrics for part in ("mean", "sd", "ci_low", "ci_high")]
    if any("agreement_bias" in r for r in rows):
        columns += ["agreement_bias", "agreement_loa_low", "agreement_loa_high"]
    if any("gap" in r for r in rows):  # external validation (leaderboard.external)
        columns += ["in_domain_mean", "gap", "gap_ci_low", "gap_ci_high", "gap_ratio", "same_training"]
    columns += ["p_vs_best", "p_wilcoxon_vs_best", "p_mcnemar_vs_best", "better_than_baseline", "p_vs_baseline", "better_than_paper_baseline", "p_vs_paper_baseline", "flops_per_item", "train_seconds", "train_items_per_second", "test_items_per_second", "peak_memory_mib", "device"]
    columns += ["source", "citation", "protocol", "cardiobench", "date"]

    def kind(c: str) -> Any:
        if any(c.endswith(s) for s in ("_mean", "_sd", "_ci_low", "_ci_high")) or c in FLOAT_COLUMNS:
            return pl.Float64
        if c in ("top_group", "better_than_baseline", "better_than_paper_baseline", "same_training"):
            return pl.Boolean
        return pl.Int64 if c in ("rank", "parameters", "seeds") else pl.String

    schema = {c: kind(c) for c in columns}
    return pl.DataFrame([{c: r.get(c, r.get("model") if c == "method" else None) for c in columns} for r in rows], schema=schema, orient="row")


def csv_text(data: pl.DataFrame) -> str:
    return data.write_csv(float_precision=6)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def stated(x: float | None) -> str:
    """A reported number with the digits its paper states (0.8165 stays 0.8165, 92.3 stays 92.3)."""
    return "" if x is None else f"{x:.6g}"


def agreement(records: Sequence[dict[str, Any]]) -> dict[str, float] | None:
    """Bland-Altman bias (mean of prediction minus truth) and 95% limits of
    agreement (bias ± 1.96 sd) of scalar predictions, averaged over seeds;
    None for class scores or maps."""
    items = [r.get("test_items") for r in records]
    if any(i is None or "y_pred" not in i for i in items) or np.asarray(items[0]["y_pred"]).ndim != 1:
        return None
    diffs = [np.asarray(i["y_pred"], dtype=np.float64) - np.asarray(i["y_true"], dtype=np.float64) for i in items]
    bias, sd = float(np.mean([d.mean() for d in diffs])), float(np.mean([d.std(ddof=1) for d in diffs]))
    return {"bias": bias, "loa_low": bias - 1.96 * sd, "loa_high": bias + 1.96 * sd}


def record_numerics(record: dict[str, Any]) -> str:
    """The numerics signature that made a record, in words."""
    sig = record["environment"].get("numerics")
    return numerics.describe(sig) if sig else "no signature recorded (made before records carried one)"


def numerics_text(records: Sequence[dict[str, Any]]) -> str:
    """The numerics signatures that made a table's records, with how many each."""
    made = Counter(record_numerics(r) for r in records)
    return "; ".join(f"{text} ({n} record{'s' if n != 1 else ''})" for text, n in made.items())


def p_text(value: float | None) -> str:
    """A p-value as tables print it."""
    if value is None:
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _versus_baseline(row: dict[str, Any], which: str = "baseline") -> str:
    if row.get(f"better_than_{which}") is None:
        return "n/a"
    return f"{'yes' if row[f'better_than_{which}'] else 'no'} ({p_text(row[f'p_vs_{which}'])})"


def _compute(row: dict[str, Any]) -> dict[str, str]:
    """Machine-specific cost columns (never ranked)."""
    rate = lambda v: "" if v is None else f"{v:.0f}"  # noqa: E731
    return {
        "GFLOPs/item": "" if row.get("flops_per_item") is None else f"{row['flops_per_item'] / 1e9:.3g}",
        "train s": "" if row.get("train_seconds") is None else f"{row['train_seconds']:.0f}",
        "items/s train/test": f"{rate(row.get('train_items_per_second'))}/{rate(row.get('test_items_per_second'))}",
        "peak MiB": rate(row.get("peak_memory_mib")),
        "device": row.get("device", ""),
    }


def hd95_line(records: Sequence[dict[str, Any]], metrics: Sequence[str]) -> list[str]:
    """The unit of HD95: pixels of the evaluated grid, and their size in mm
    where the dataset states it (``info.pixel_mm``)."""
    if "hd95" not in metrics:
        return []
    sizes = sorted({r["dataset"].get("info", {}).get("pixel_mm") for r in records} - {None})
    size = f"1 px = {', '.join(f'{x:g}' for x in sizes)} mm in these records" if sizes else "the dataset states no physical pixel size, so pixels it stays"
    return [f"- **HD95** (95th-percentile Hausdorff distance, MONAI's definition) is in pixels of the evaluated grid ({size}); an item with both masks empty counts 0, one with only one empty is left out; blank for records made before it was measured."]


def markdown_text(table: Table, reproduced: list[dict[str, Any]], reported: list[dict[str, Any]], registry: Registry, header: Sequence[str] = (), sections: Sequence[str] = (), paper_baseline: str = "") -> str:
    """The table's page; ``header`` adds bullet lines under the protocol's and
    ``sections`` whole sections after the reproduced rows (:mod:`.ranking`)."""
    task = registry.task(table.task)
    metrics = [registry.metric(m) for m in task.metrics]
    ranking = registry.metric(task.rank_metric)
    first = table.records[0]
    lines = [
        f"# {table.task} on {table.data}, preset {table.preset}: table v{table.version}",
        "",
        f"- **Task**: {table.task} v{table.identity.task_version}: {task.description}.",
        f"- **Protocol**: preset `{table.preset}` v{table.identity.preset_version}: {first['preset'].get('description', '')}.",
        f"- **Data**: {table.data}, fingerprint `{table.identity.fingerprint[:16]}`; {data_source(first)}" + (f"; **tested on** {first['test_dataset']['name']} ({str(first['test_dataset']['source']).split(' at ')[0]}, fingerprint `{first['test_dataset']['fingerprint'][:16]}`)" if "test_dataset" in first else "") + ".",
        f"- **Ranking**: {ranking.name} ({'higher' if ranking.higher_is_better else 'lower'} is better), mean over seeds; metrics as mean ± sd over seeds (no sd for one seed) [95% bootstrap CI of that mean: test items resampled, paired across seeds, within each fold for cross-validated runs; none where the records keep no per-item predictions (segmentation maps) over several seeds].",
        f"- **Numerics**: {numerics_text(table.records)}.",
        *hd95_line(table.records, [m.name for m in metrics]),
        *header,
        f"- **Built from** {len(table.records)} run record(s) in `records/` (table schema v{table.identity.schema_version}).",
        "",
        "## Reproduced",
        "",
    ]
    rows = [
        {"rank": f"{r.get('rank_range', r['rank'])}{' ●' if r.get('top_group') else ''}", "model": r["model"], "plugin": r["plugin"], "params": f"{r['parameters'] / 1e6:.2f}M", "seeds": r["seeds"]}
        | {m.name: cell(r, m.name) for m in metrics}
        | ({"bias [95% LoA]": f"{r['agreement_bias']:.2f} [{r['agreement_loa_low']:.2f}, {r['agreement_loa_high']:.2f}]"} if "agreement_bias" in r else {})
        | {"p vs #1": "-" if r["rank"] == 1 else p_text(r.get("p_vs_best")) or "n/a"}
        | {title: "-" if r["rank"] == 1 else p_text(r.get(key)) or "n/a" for title, key in (("Wilcoxon p vs #1", "p_wilcoxon_vs_best"), ("McNemar p vs #1", "p_mcnemar_vs_best")) if any(x.get(key) is not None for x in reproduced)}
        | {"> baseline (p)": _versus_baseline(r)}
        | ({f"> {paper_baseline} (p)": _versus_baseline(r, "paper_baseline")} if any(x.get("p_vs_paper_baseline") is not None for x in reproduced) else {})
        | _compute(r)
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
    lines += [line for section in sections for line in ("", section)]
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
            shown.append({"method": r["method"], "model": r["model"], "protocol": r["protocol"]} | {m.name: stated(r[f"{m.name}_mean"]) for m in metrics} | {"audit": " ".join(marks), "source": r["source"], "citation": r["citation"]})
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

## How the ranks are made (table schema v3)

A mean alone does not say which differences are real, so every table says which are
(`cardiobench/statistics.py`, `cardiobench/leaderboard/ranking.py`):

- **One resampling engine.** A row's 95% interval resamples its test items 1000 times (seed
  0; within each fold for cross-validated runs; every seed's predictions on the same resample,
  averaged). The resamples depend only on the fold sizes and the seed, so rows on the same test
  items share them, and row A's draws minus row B's are the bootstrap distribution of their
  *paired* difference (Efron and Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 16;
  Koehn, EMNLP 2004, the paired bootstrap sacreBLEU ships).
- **Pairwise tests.** Every pair of rows is compared by the difference of the ranking metric:
  its 95% percentile interval and a two-sided p-value from the bootstrap standard error
  (z = d / se), which, unlike a count of resamples, has no floor at 1/1000 and so survives the
  adjustment; p-values are Holm-adjusted over the table's pairs (Holm, Scand J Stat 6, 1979).
- **McNemar.** Accuracy is right or wrong per item, so `McNemar p vs #1` tests each row's
  right and wrong items against the first row's with the exact McNemar test (McNemar,
  Psychometrika 12, 1947; a binomial test at one half of the items only one of the two gets
  right; scipy), Holm over rows: on the ranking metric where a task ranks by accuracy, else on
  the table's accuracy column (`dcm-cls`, `ecg-pvc-apb`, `fetal-planes`, which rank by AUC or
  macro F1). With several seeds an item counts as right when it is right in most of them (our
  choice: one outcome per item keeps the items independent; pooling every seed's outcomes
  would count each item several times and make p too small).
- **Wilcoxon.** Where the ranking metric is a mean over items (MAE: each item's absolute
  error; HD95; per-slice F1), `Wilcoxon p vs #1` also tests each row's per-item values (seeds
  averaged) against the first row's with the Wilcoxon signed-rank test (Wilcoxon, Biometrics
  Bull 1, 1945; scipy; zero differences dropped, items undefined for either left out), Holm
  over rows. Pooled metrics (Dice over all pixels, AUC) have no per-item value, so their tables
  rely on the paired bootstrap alone.
- **Ranks.** A row's rank is the range of ranks it could hold: 1 + the rows significantly
  better (α = 0.05, Holm) to N − the rows significantly worse, so `1-4` means four rows no test
  can order. ● marks the top group: the rows not significantly different from the first.
  The *Pairwise comparisons* section (and the site's significance matrix) shows every pair.
- **Paper baseline.** Where the task names the model its paper compares with (`r2plus1d` for
  lvef, STCA's Table 2; `ecg-classifier` for ecg-pvc-apb, section 5.1), every row is tested
  against that row the same way (Holm over rows).
- **Baseline.** Each row against the task's trivial reference (the training-mean target, the
  training class shares, or for AUC any constant score) on the same resamples, Holm over rows:
  `yes` when significantly better.
- **Rank stability** (Maier-Hein et al., Nat Commun 9:5217, 2018; challengeR, Wiesenfarth et
  al., Sci Rep 11:2369, 2021): every resample's ranking against the table's, as Kendall's tau
  (median and 95% interval), and how often the first row stays first; the site draws each row's
  rank distribution as a blob plot. Our rule calls a ranking stable when tau's 2.5% point is at
  least 0.8 and the first row stays first in at least 95% of resamples.
- **Rank then aggregate.** Ranking within each seed (or, for one seed, each fold) first and
  averaging ranks may put another row first; the header says whether that row is in the top
  group.
- **Cost.** Train time and items per second (train/test) are the records' own measurements on
  the device they name: machine-specific, shown for cost, never ranked.
- **Peak memory** (`peak MiB`): the largest GPU allocation on CUDA, else the process's peak
  resident set from the run's start (data, model and libraries together); machine-specific,
  never ranked; records made before runs measured it show none.
- **FLOPs** per item are the forward pass at the task's input shape, counted by PyTorch's
  `FlopCounterMode` in every run's model check (`model.flops_per_item` in the record). Records
  made before runs counted them were counted afterwards by `cardiobench leaderboard
  count-flops` (`model.flops_counted_after_run`): the network rebuilt from the record's own
  config at the record's model version, one batch of its data, and kept only when the rebuilt
  network has the record's parameter count. FLOPs depend on the network and input shape
  alone, so the count is the run's own (a test checks it against records the run counted).
- **Segmentation.** A segmentation record keeps each test slice's (or frame's) sufficient
  statistics per metric (Dice: overlap and sizes), not its maps, so its intervals and
  comparisons resample exactly what the run's pooled Dice is made of. Records made before
  they did keep none: their rows are not compared (the header says so).
- **HD95** (Metrics Reloaded's boundary metric beside Dice) is MONAI's definition: boundary
  pixels (mask minus its erosion), the 95th percentile of the distances from each boundary to
  the other, the larger direction; computed with scipy's distance transform and tested against
  MONAI. It is in pixels of the grid the masks are evaluated on; the table header gives the
  pixel size in mm where the dataset states one (ACDC: `data.spacing` x `data.size` /
  `data.input_size`; EchoNet-Dynamic's AVIs carry no physical spacing). Both masks empty
  counts 0; only one empty is undefined and left out of the mean.
- **External validation** tables (`<train>-to-<test>`, runs with `--test-dataset`) put each
  row beside the same model's in-domain record (same training data, preset and seed) with
  the gap (external − in-domain), its 95% interval from two independent bootstraps (the test
  sets share no items) and the ratio, and say whether both records trained identically
  ([docs/camus.md](../docs/camus.md)).

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
