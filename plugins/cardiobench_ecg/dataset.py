"""The ``mitdb`` dataset: MIT-BIH Arrhythmia Database segments for PVC vs APB.

``--data-root`` is a PhysioNet mitdb folder (RECORDS, <name>.hea/.dat/.atr).
Without one, synthetic WFDB records (``data.synthetic_records`` records of
``data.synthetic_minutes`` minutes, seed ``data.synthetic_seed``) are written
once under ``<cache>/synthetic/`` and read by the very same reader.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from cardiobench.data.generated import generated
from cardiobench.specs import DataBundle, DataRequest, Fold
from cardiobench_ecg import synthetic
from cardiobench_ecg.folder import SegmentSet, read_segments, record_names
from cardiobench_ecg.segments import CLASSES
from cardiobench_ecg.splits import cross_validation, patients_of

NAME = "mitdb"
VERSION = 1
CITATION = (
    "Moody and Mark, The impact of the MIT-BIH Arrhythmia Database, IEEE Eng Med Biol 20(3), 2001; "
    "Goldberger et al., PhysioBank, PhysioToolkit, and PhysioNet, Circulation 101(23), 2000"
)
LICENSE = "ODC-By 1.0 (MIT-BIH Arrhythmia Database, PhysioNet); synthetic records: Apache-2.0"
PAPER_COUNTS = {"PVC": 2627, "APB": 356}  # section 4.1


class Segments(Dataset):
    """The segments ``index`` picks as items: ``input`` (leads, length), ``target``
    (0 APB, 1 PVC), ``id`` ``<record>:<start sample>``; ``beats[i]`` gives item
    i's beat windows. Every fold indexes the same signal tensor (no copies)."""

    def __init__(self, signals: torch.Tensor, labels: torch.Tensor, ids: list[str], beats: list[np.ndarray], index: np.ndarray):
        self.index = torch.from_numpy(index)
        self.all_signals, self.all_labels = signals, labels
        self.ids = [ids[i] for i in index]
        self.beats = [beats[i] for i in index]

    @property
    def signals(self) -> torch.Tensor:
        return self.all_signals[self.index]

    @property
    def labels(self) -> torch.Tensor:
        return self.all_labels[self.index]

    def __len__(self) -> int:
        return len(self.index)

    def class_targets(self) -> np.ndarray:
        """Each item's class, for the core's check that validation AUC is defined."""
        return self.labels.numpy()

    def __getitem__(self, i: int) -> dict[str, Any]:
        j = int(self.index[i])
        return {"input": self.all_signals[j], "target": self.all_labels[j], "id": self.ids[i]}


def _root(data_root: Path | None, data: Mapping[str, Any]) -> tuple[Path, str]:
    if data_root is not None:
        return data_root, f"WFDB folder {data_root}"
    n, minutes, seed = int(data["synthetic_records"]), float(data["synthetic_minutes"]), int(data["synthetic_seed"])
    name = f"mitdb-v{synthetic.GENERATOR_VERSION}-n{n}-m{minutes:g}-s{seed}"
    root = generated(name, "RECORDS", f"{n} synthetic WFDB records", lambda out: synthetic.write(out, n, seed, minutes))
    return root, f"synthetic MIT-BIH-format records v{synthetic.GENERATOR_VERSION} at {root}"


def class_counts(labels: np.ndarray) -> dict[str, int]:
    counts = np.bincount(labels, minlength=2)
    return {name: int(counts[k]) for k, name in enumerate(CLASSES)}


def counts_line(counts: Mapping[str, int]) -> str:
    ours = ", ".join(f"{name} {counts[name]}" for name in ("PVC", "APB"))
    paper = ", ".join(f"{name} {n}" for name, n in PAPER_COUNTS.items())
    return f"segments: {ours} (the paper's MIT-BIH set: {paper}; see docs/ecg.md)"


def _fingerprint(data: SegmentSet, split_settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps({"content": data.content_hash, "split": split_settings}, sort_keys=True).encode()).hexdigest()


def load(request: DataRequest) -> DataBundle:
    data_cfg = request.config["data"]
    root, source = _root(request.data_root, data_cfg)
    data = read_segments(root, data_cfg)
    counts = class_counts(data.labels)
    print(counts_line(counts), flush=True)
    split_settings = {k: data_cfg[k] for k in ("split", "folds", "val_fraction", "split_seed", "same_patient")}
    patients = patients_of(data.records, data_cfg["same_patient"])
    splits = cross_validation(data.labels, patients, str(data_cfg["split"]), int(data_cfg["folds"]), float(data_cfg["val_fraction"]), int(data_cfg["split_seed"]))
    signals, labels, ids = torch.from_numpy(data.signals), torch.from_numpy(data.labels), data.ids
    folds = [Fold(s.name, *(Segments(signals, labels, ids, data.beats, part) for part in (s.train, s.val, s.test))) for s in splits]
    weights = len(data.labels) / (2 * np.maximum(np.bincount(data.labels, minlength=2), 1))
    info = {
        "class_counts": counts,
        "class_weights": [round(float(w), 6) for w in weights],
        "leads": len(data.lead_names),
        "lead_names": data.lead_names,
        "length": int(data_cfg["length"]),
        "records_with_segments": int(len(np.unique(data.records))),
        "patients": int(len(np.unique(patients))),
        "split": str(data_cfg["split"]),
    }
    source += f" ({len(record_names(root))} records, {info['records_with_segments']} with labelled segments; {counts['PVC']} PVC and {counts['APB']} APB segments; {data_cfg['split']} {data_cfg['folds']}-fold CV)"
    return DataBundle(folds, _fingerprint(data, split_settings), source, info, [data.labels[s.train] for s in splits])


def check(request: DataRequest) -> str:
    data_cfg = request.config["data"]
    root, source = _root(request.data_root, data_cfg)
    data = read_segments(root, data_cfg)
    return f"{source}: {len(record_names(root))} records, all readable; {counts_line(class_counts(data.labels))}; content {data.content_hash[:12]}"
