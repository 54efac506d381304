"""Predictions made elsewhere, scored on our exact test split
(``cardiobench score``).

A predictions file names test items by ``id`` (the ids ``cardiobench
export-split`` writes, and a run's ``predictions.csv`` holds):

- CSV, for values and classes: ``id``, an optional ``fold`` and either
  ``y_pred`` (a scalar task) or ``score_0 .. score_{n-1}`` (class
  probabilities); other columns (``y_true``) are ignored: truth comes from
  the data, never from the file;
- NPZ, for masks: ``ids`` (N,) and ``y_pred`` (N, H, W) foreground
  probabilities (a run's ``predictions.npz`` has this form).

Every missing, extra, duplicate or non-finite id, a wrong class count or mask
shape is named in one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from torch.utils.data import DataLoader

from cardiobench import progress
from cardiobench.contract import ModelContract
from cardiobench.engine.loop import Predictions, mean_by_key
from cardiobench.engine.weights import sha256
from cardiobench.errors import DataError, bulleted
from cardiobench.specs import DataBundle, Fold


def _listed(kind: str, names: list[str]) -> str:
    return f"{len(names)} {kind}: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}"


def _read_table(path: Path, contract: ModelContract) -> tuple[list[str], list[str] | None, np.ndarray, list[str]]:
    """(ids, folds or None, predictions, problems) of a CSV or NPZ file."""
    problems: list[str] = []
    if path.suffix == ".npz":
        try:
            with np.load(path) as arrays:
                ids, values = [str(i) for i in arrays["ids"]], arrays["y_pred"].astype(np.float64)
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"Predictions file {path} is not an NPZ with 'ids' and 'y_pred' arrays ({type(exc).__name__}: {exc}).") from exc
        if contract.output != "mask":
            problems.append(f"an NPZ holds masks, but this task predicts {contract.predict_text()}; give a CSV")
        return ids, None, values, problems
    try:
        frame = pl.read_csv(path, infer_schema_length=None)
    except Exception as exc:
        raise DataError(f"Predictions file {path} is not a readable CSV ({type(exc).__name__}: {exc}).") from exc
    if "id" not in frame.columns:
        raise DataError(f"Predictions file {path} has no 'id' column (its columns: {', '.join(frame.columns)}).")
    ids = [str(i) for i in frame["id"].to_list()]
    folds = [str(f) for f in frame["fold"].to_list()] if "fold" in frame.columns else None
    if contract.output == "mask":
        raise DataError(f"This task predicts masks: give an NPZ with 'ids' and 'y_pred' (N, H, W), not the CSV {path}.")
    wanted = ["y_pred"] if contract.output == "scalar" else [f"score_{k}" for k in range(contract.classes)]
    absent = [c for c in wanted if c not in frame.columns]
    if absent:
        extra_scores = [c for c in frame.columns if c.startswith("score_") and c not in wanted]
        raise DataError(f"Predictions file {path} lacks column(s) {', '.join(absent)}: this task needs {', '.join(wanted)} ({contract.predict_text()}){f'; it has {len(extra_scores) + len(wanted) - len(absent)} score columns' if extra_scores else ''}.")
    extra_scores = sorted(c for c in frame.columns if c.startswith("score_") and c not in wanted)
    if extra_scores:
        problems.append(f"{len(extra_scores)} class column(s) beyond the task's {contract.classes} classes: {', '.join(extra_scores)}")
    try:
        values = frame.select(wanted).cast(pl.Float64).to_numpy()
    except Exception as exc:
        raise DataError(f"Predictions file {path}: columns {', '.join(wanted)} must be numbers ({exc}).") from exc
    return ids, folds, values[:, 0] if contract.output == "scalar" else values, problems


def test_truth(fold: Fold, batch_size: int) -> Predictions:
    """The test split's ids and targets, per id, in the order the engine tests them (no predictions)."""
    ids, targets = [], []
    for batch in progress.bar(DataLoader(fold.test, batch_size=batch_size, shuffle=False), desc="test targets", unit="batch"):
        ids += list(batch["id"])
        targets.append(batch["target"].numpy())
    truth = np.concatenate(targets)
    return mean_by_key(ids, truth, np.zeros(len(ids)))


@dataclass(frozen=True)
class External:
    """A predictions file, checked against every fold's test ids."""

    path: Path
    sha256: str
    per_fold: dict[str, Predictions]

    def record(self) -> dict[str, object]:
        return {"kind": "external", "predictions": {"file": self.path.name, "sha256": self.sha256}}


def load(path: Path, bundle: DataBundle, contract: ModelContract, batch_size: int) -> External:
    """``path``'s predictions for each fold's test items, or one ``DataError`` naming every problem."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Predictions file {path} does not exist.")
    contract = contract.resolved(bundle.info)
    ids, folds, values, problems = _read_table(path, contract)
    names = {fold.name for fold in bundle.folds}
    if folds is None and ids and all(i.partition("/")[0] in names and i.partition("/")[2] for i in ids):  # a run's predictions.npz: <fold>/<id>
        folds, ids = [i.partition("/")[0] for i in ids], [i.partition("/")[2] for i in ids]
    keys = [f"{f}/{i}" for f, i in zip(folds, ids)] if folds else ids
    seen, duplicates = set(), []
    for key in keys:
        (duplicates.append if key in seen else seen.add)(key)
    if duplicates:
        problems.append(_listed("duplicate id(s)", sorted(set(duplicates))))
    finite = np.isfinite(values.reshape(len(values), -1)).all(axis=1) if len(values) else np.ones(0, bool)
    if not finite.all():
        problems.append(_listed("id(s) with non-finite predictions", [k for k, ok in zip(keys, finite) if not ok]))
    row = {key: n for n, key in enumerate(keys)}
    truths = {fold.name: test_truth(fold, batch_size) for fold in bundle.folds}
    wanted = {f"{name}/{i}" if folds else i: (name, i) for name, truth in truths.items() for i in truth.ids}
    missing = [k for k in wanted if k not in row]
    extra = [k for k in row if k not in wanted]
    if missing:
        problems.append(_listed("test id(s) without a prediction", missing))
    if extra:
        problems.append(_listed("id(s) that are not test items of this split", extra))
    if contract.output == "mask" and len(values):
        shape = truths[bundle.folds[0].name].y_true.shape[1:]
        if values.shape[1:] != shape:
            problems.append(f"masks are {values.shape[1:]}, the test items' are {shape}")
    if contract.output in ("classes", "mask") and len(values) and (np.nanmin(values) < 0 or np.nanmax(values) > 1):
        problems.append(f"predictions span [{np.nanmin(values):.3g}, {np.nanmax(values):.3g}], not probabilities in [0, 1]")
    if problems:
        raise DataError(f"Predictions file {path} cannot be scored: {bulleted(problems)}.")
    per_fold = {}
    for name, truth in truths.items():
        order = [row[f"{name}/{i}" if folds else i] for i in truth.ids]
        per_fold[name] = Predictions(truth.ids, truth.y_true, values[order])
    return External(path, sha256(path), per_fold)
