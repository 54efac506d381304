"""Forward FLOPs per item for records made before runs counted them
(``cardiobench leaderboard count-flops``).

FLOPs depend on the network and the input shape alone, so they can be counted
after the run from what a record keeps: its model (at the same version), its
resolved config (keys added since keep today's defaults), and one batch of
its data as the task's reader gives it. The
count is kept only when the rebuilt network has the record's parameter count
(the same network), and the record says it was counted afterwards
(``model.flops_counted_after_run``: the cardiobench version that counted).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cardiobench import __version__, config, fold_model
from cardiobench.errors import CardiobenchError
from cardiobench.leaderboard.store import Store
from cardiobench.registry import Registry
from cardiobench.run_request import RunRequest, resolve
from cardiobench.specs import DataBundle, DataRequest, parameter_count


def _lacking(store: Store, task: str | None) -> list[dict[str, Any]]:
    """Trained records (validated by the store) that count no FLOPs."""
    return [
        record
        for name in ([task] if task else store.native_tasks())
        for record in store.records(name)
        if "flops_per_item" not in record["model"] and (record.get("provenance") or {"kind": "trained"})["kind"] == "trained"
    ]


def _count(record: dict[str, Any], registry: Registry, load: Callable[[str, str, Path | None, dict[str, Any], int], DataBundle]) -> tuple[float | None, int]:
    """The forward FLOPs per item and the parameter count of ``record``'s network, rebuilt from its config."""
    request = RunRequest(record["task"]["name"], record["model"]["name"], record["dataset"]["name"], record["request"]["data_root"], record["preset"]["name"], record["seed"], list(record["request"]["overrides"]))
    resolved = resolve(request, registry)
    values = config.merge(resolved.config.values, record["config"])  # the run's own config; keys added since keep their defaults
    bundle = load(resolved.task.name, resolved.dataset_name, Path(request.data_root) if request.data_root else None, values, record["seed"])
    model = fold_model.build(resolved.model, resolved.task, values, bundle.info)
    return fold_model.check(model, resolved.task, bundle.folds[0], bundle.info, resolved.model_label(registry)), parameter_count(model)


def count_missing(store: Store, registry: Registry, task: str | None = None) -> tuple[list[Path], list[str]]:
    """Count and write the FLOPs of every trained record lacking them; the
    records changed, and a note for each that could not be counted."""
    bundles: dict[str, DataBundle] = {}

    def load(task_name: str, dataset: str, root: Path | None, values: dict[str, Any], seed: int) -> DataBundle:
        key = json.dumps([task_name, dataset, str(root), values["data"], seed], sort_keys=True, default=str)
        if key not in bundles:
            bundles[key] = registry.dataset(dataset).load(DataRequest(task_name, root, values, seed))
        return bundles[key]

    changed, notes = [], []
    for record in _lacking(store, task):
        model = dict(record["model"])
        if registry.model(model["name"], record["task"]["name"]).version != model["version"]:
            notes.append(f"{record['run_id']}: model {model['name']!r} is at another version than the record's {model['version']}; not counted")
            continue
        try:
            flops, parameters = _count(record, registry, load)
        except CardiobenchError as exc:
            notes.append(f"{record['run_id']}: {exc}")
            continue
        if flops is None or parameters != model["parameters"]:
            notes.append(f"{record['run_id']}: " + ("its task declares no model contract" if flops is None else f"the rebuilt network has {parameters} parameters, the record {model['parameters']}; not counted"))
            continue
        model |= {"flops_per_item": int(round(flops)), "flops_counted_after_run": __version__}
        changed.append(store.add_record(dict(record, model=model)))
    return changed, notes
