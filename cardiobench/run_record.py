"""What a finished run reports: the record's metric entries, test items and
analysis, and the summary table printed at the end of a run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from cardiobench import model_sources, phases
from cardiobench.engine.loop import Predictions
from cardiobench.engine.weights import WeightsSource, sha256
from cardiobench.evaluation import MetricValue
from cardiobench.run_outputs import FoldResult
from cardiobench.specs import Fold, MetricSpec, ModelSpec
from cardiobench.tables import markdown


def metric_dict(values: Mapping[str, MetricValue]) -> dict[str, dict[str, float | None]]:
    return {k: {f: (x if math.isfinite(x) else None) for f, x in v.as_dict().items()} for k, v in values.items()}


STATS_WIDTH = 8  # per-item statistics wider than this (e.g. pixel-AUC histograms) stay out of records


def test_items(predictions: Predictions, metrics: Sequence[MetricSpec] = ()) -> dict[str, Any]:
    """``{"test_items": ...}``: values or class scores per item; for maps
    (too large for a record) each metric's per-item sufficient statistics
    instead (Dice: intersection and sizes per slice), from which the
    leaderboard resamples and compares segmentation like any other task."""
    if predictions.y_pred.ndim <= 2:
        return {"test_items": {"ids": predictions.ids, "y_true": predictions.y_true.tolist(), "y_pred": predictions.y_pred.tolist()}}
    stats = {}
    for metric in metrics:
        if metric.item_stats is not None and metric.from_stats is not None:
            values = np.asarray(metric.item_stats(predictions.y_true, predictions.y_pred), dtype=np.float64)
            if values.ndim == 2 and values.shape[1] <= STATS_WIDTH:
                stats[metric.name] = values.tolist()
    return {"test_items": {"ids": predictions.ids, "stats": stats}} if stats else {}


def model_record(spec: ModelSpec, plugin: str, parameters: int, overrides: list[str], flops: float | None = None) -> dict[str, Any]:
    """The record's ``model``: name, version, plugin, parameter count, forward
    FLOPs per item (when counted), and the arguments the run set (``model.*``
    overrides) with their short hash; a sourced model's source and origin
    (e.g. its file's hash)."""
    out: dict[str, Any] = {"name": spec.name, "version": spec.version, "plugin": plugin, "parameters": parameters}
    if flops is not None:
        out["flops_per_item"] = int(round(flops))
    args = model_sources.arguments(overrides)
    out |= {"arguments": args, "arguments_hash": model_sources.arguments_hash(args)}
    if spec.source:
        out |= {"source": spec.source, "origin": spec.origin}
    return out


def provenance(request: Any, folds: list[Fold]) -> dict[str, Any]:
    """Where the tested weights came from: ``trained`` here, ``fine-tuned``
    from ``--weights``, or ``eval-only`` (``--weights`` tested as given), with
    each fold's weights file hash."""
    if not request.weights:
        return {"kind": "trained"}
    source = WeightsSource(Path(request.weights))
    files = {fold.name: source.for_fold(fold.name, len(folds)) for fold in folds}
    return {"kind": "eval-only" if request.eval_only else "fine-tuned", "weights": {name: {"file": path.name, "sha256": sha256(path)} for name, path in files.items()}}


def mean_analysis(results: list[FoldResult]) -> dict[str, float]:
    """Each analysis number averaged over the folds that report it (NaN-free)."""
    names = sorted({name for r in results for name in r.analysis})
    out = {}
    for name in names:
        values = [r.analysis[name] for r in results if name in r.analysis and math.isfinite(r.analysis[name])]
        if values:
            out[name] = float(np.mean(values))
    return out


def ci_text(metric: Mapping[str, float | None]) -> str:
    return f"{metric['ci_low']:.4g} to {metric['ci_high']:.4g}" if metric["ci_low"] is not None else "n/a"


def summary(record: Mapping[str, Any], metrics: list[MetricSpec]) -> str:
    """The final table: each metric with its CI, beside the reference baseline
    (and, for errors, the model's error as a fraction of the baseline's)."""
    baseline = record.get("reference_baseline")
    rows = []
    by_name = {spec.name: spec for spec in metrics}
    for name in record["metrics"]:
        spec = by_name[name.split("/")[0]]
        m = record["metrics"][name]
        row = {"metric": name, "value": m["value"], "95% CI": ci_text(m)}
        if baseline:
            b = baseline["metrics"][name]["value"]
            row[baseline["name"]] = b
            row["model / baseline"] = f"{m['value'] / b:.3f}" if b and not spec.higher_is_better else ""
        rows.append(row)
    data = record["dataset"]["name"] + (f", tested on {record['test_dataset']['name']}" if "test_dataset" in record else "")
    header = f"{record['task']['name']} / {record['model']['name']} / {data} / preset {record['preset']['name']} / seed {record['seed']}"
    text = f"\n{header} (test split, n = {sum(f['n_test'] for f in record['folds'])})\n" + markdown(pl.DataFrame(rows))
    for task_name, joint in record.get("joint", {}).items():
        rows = [{"metric": name, "value": m["value"], "95% CI": ci_text(m)} for name, m in joint["metrics"].items()]
        text += f"\n\njoint task {task_name} (the same model's other head, same test items)\n" + markdown(pl.DataFrame(rows))
    if record.get("per_class"):
        table = pl.DataFrame([{"class": name, **values} for name, values in record["per_class"].items()])
        text += "\n\nper class (pooled test predictions)\n" + markdown(table)
    if record.get("analysis"):
        analysis = pl.DataFrame({"analysis": list(record["analysis"]), "value": list(record["analysis"].values())})
        text += f"\n\nanalysis{' (mean over folds)' if len(record['folds']) > 1 else ''}\n" + markdown(analysis)
    if record["timing"].get("phases"):
        text += f"\n\nwall time per phase (whole run {record['timing']['wall_seconds']:.1f} s)\n" + phases.table(record["timing"]["phases"])
    return text
