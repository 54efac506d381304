"""What a leaderboard row is: one protocol.

Records are averaged into one row only when they share the model (with its
source and arguments), the preset version (the table's), every ``--set``
override that can change results, and the weights' provenance (trained here,
fine-tuned or evaluated from given weights, or predictions scored from
outside). A record that differs gets its own row, labelled with what
differs: ``deeplabv3 [--set 3f2a1b9c]``, ``timm:convnext_atto [args 1a2b3c4d]``,
``r2plus1d [eval-only 5e6f7a8b]``. Overrides of ``engine.*`` (numerics,
threads) and ``track`` do not change the protocol.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

NEUTRAL_PREFIXES = ("engine.", "track")


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:8]


def _split_overrides(record: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(model arguments, other result-changing overrides) of a record's request."""
    arguments, others = {}, []
    for text in record["request"]["overrides"]:
        key, _, value = text.partition("=")
        key = key.strip()
        if key.startswith("model."):
            arguments[key.removeprefix("model.")] = value.strip()
        elif not key.startswith(NEUTRAL_PREFIXES):
            others.append(f"{key}={value.strip()}")
    return arguments, sorted(others)


def provenance(record: dict[str, Any]) -> tuple[str, str]:
    """(kind, short hash of the weights or predictions: '' for a model trained in the run)."""
    given = record.get("provenance") or {"kind": "trained"}
    if given["kind"] == "trained":
        return "trained", ""
    files = given.get("weights") or {"predictions": given.get("predictions", {})}
    return given["kind"], _hash({fold: entry.get("sha256", "") for fold, entry in sorted(files.items())})


def row_label(record: dict[str, Any]) -> str:
    """The row a record belongs to: its model's name, plus whatever makes its protocol differ from the plain one."""
    arguments, others = _split_overrides(record)
    label = record["model"]["name"]
    if arguments:
        label += f" [args {_hash(arguments)}]"
    if others:
        label += f" [--set {_hash(others)}]"
    kind, digest = provenance(record)
    if kind in ("fine-tuned", "eval-only"):
        label += f" [{kind} {digest}]"
    return label


def describe(record: dict[str, Any]) -> str:
    """The protocol in words, for a table's notes: what a labelled row's marks stand for."""
    arguments, others = _split_overrides(record)
    parts = []
    if arguments:
        parts.append("model arguments " + ", ".join(f"{k}={v}" for k, v in sorted(arguments.items())))
    if others:
        parts.append("--set " + " ".join(others))
    kind, _ = provenance(record)
    if kind != "trained":
        parts.append({"fine-tuned": "trained from given weights", "eval-only": "given weights tested without training", "external": "predictions made outside cardiobench"}[kind])
    return "; ".join(parts)
