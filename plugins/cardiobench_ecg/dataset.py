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

from cardiobench import atomic
from cardiobench.paths import cache_dir
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
    """Segments as items: ``input`` (leads, length), ``target`` (0 APB, 1 PVC),
    ``id`` ``<record>:<start sample>``; ``beats[i]`` gives item i's beat windows."""

    def __init__(self, data: SegmentSet, index: np.ndarray):
        self.signals = torch.from_numpy(data.signals[index])
        self.labels = torch.from_numpy(data.labels[index])
        ids = data.ids
        self.ids = [ids[i] for i in index]
        self.beats = [data.beats[i] for i in index]
        self.lead_names = data.lead_names

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input": self.signals[i], "target": self.labels[i], "id": self.ids[i]}


def synthetic_root(data: Mapping[str, Any]) -> Path:
    n, minutes, seed = int(data["synthetic_records"]), float(data["synthetic_minutes"]), int(data["synthetic_seed"])
    return cache_dir() / "synthetic" / f"mitdb-v{synthetic.GENERATOR_VERSION}-n{n}-m{minutes:g}-s{seed}"


def _root(data_root: Path | None, data: Mapping[str, Any]) -> tuple[Path, str]:
    if data_root is not None:
        return data_root, f"WFDB folder {data_root}"
    root = synthetic_root(data)
    if not (root / "RECORDS").is_file():
        print(f"generating {data['synthetic_records']} synthetic WFDB records into {root} (once; reused afterwards)", flush=True)
        with atomic.directory(root) as tmp:
            synthetic.write(tmp, int(data["synthetic_records"]), int(data["synthetic_seed"]), float(data["synthetic_minutes"]))
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
    folds = [Fold(s.name, Segments(data, s.train), Segments(data, s.val), Segments(data, s.test)) for s in splits]
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
