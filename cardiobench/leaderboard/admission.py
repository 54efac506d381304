"""What a submitted record must prove before it joins a leaderboard.

A record arrives from someone else's machine, so it is read as untrusted: its
size is bounded before parsing, non-finite numbers are refused by the parser,
its schema version must be this cardiobench's, its id must be a plain file
name, and its metrics must be what its own test predictions give.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from cardiobench import records
from cardiobench.evaluation import safe_value
from cardiobench.leaderboard import tables
from cardiobench.registry import Registry

MAX_RECORD_BYTES = 32 * 2**20  # the largest committed record is under 1 MB
SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
TOLERANCE = 1e-6


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def read(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """(the record, []) or (None, why it cannot even be read)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, [f"cannot read it ({exc.strerror or exc})"]
    if size > MAX_RECORD_BYTES:
        return None, [f"it is {size:,} bytes, over the {MAX_RECORD_BYTES:,} bytes a record may have"]
    try:
        record = json.loads(path.read_text(), parse_constant=_refuse_constant)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, [f"not valid JSON with finite numbers ({exc})"]
    return record, []


def problems(record: Any, registry: Registry) -> list[str]:
    """Every reason to refuse ``record``: schema, id, and metrics that its own
    test predictions contradict."""
    if not isinstance(record, dict):
        return ["a run record must be a JSON object"]
    version = record.get("schema_version")
    if version != records.SCHEMA_VERSION:
        return [f"schema_version {version!r} is not this cardiobench's {records.SCHEMA_VERSION}; re-run it with this version"]
    found = records.problems(record)
    if found:
        return found
    if not SAFE_RUN_ID.match(record["run_id"]):
        found.append(f"run_id {record['run_id']!r} must be a plain name (letters, digits, '.', '_', '-'; no path separators)")
    return found + _unsupported_metrics(record, registry)


def _unsupported_metrics(record: dict[str, Any], registry: Registry) -> list[str]:
    """Metrics of the record that its ``test_items`` do not give (per fold, and their mean)."""
    items = record.get("test_items")
    if not items or record["task"]["name"] not in registry.tasks:
        return []
    task = registry.task(record["task"]["name"])
    ids, folds = items["ids"], record["folds"]
    parts = [np.array([i.startswith(f"{f['name']}/") for i in ids]) for f in folds] if len(folds) > 1 else [np.ones(len(ids), dtype=bool)]
    out = []
    for name in task.metrics:
        metric = registry.metric(name)
        found = tables.item_metric(items, metric)
        if found is None:
            continue  # a map metric whose per-item statistics the record does not keep
        values = [safe_value(found[0], np.flatnonzero(keep)) for keep in parts]
        for fold, value in zip(folds, values):
            stated = fold["metrics"].get(name, {}).get("value")
            if not _agree(stated, value):
                out.append(f"fold {fold['name']} states {name} {stated}, its test predictions give {value:.6g}")
        finite = [v for v in values if math.isfinite(v)]
        headline = float(np.mean(finite)) if finite else float("nan")
        stated = record["metrics"].get(name, {}).get("value")
        if not _agree(stated, headline):
            out.append(f"it states {name} {stated}, its test predictions give {headline:.6g}")
    return out


def _agree(stated: float | None, value: float) -> bool:
    if stated is None:
        return not math.isfinite(value)
    return math.isfinite(value) and abs(stated - value) <= TOLERANCE * (1 + abs(value))
