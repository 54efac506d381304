"""The ``acdc`` dataset: ACDC short-axis slices for the ``myo-seg`` and
``dcm-cls`` tasks, the public stand-in for the two DCM papers' private LGE
and T1-mapping slices.

Items: one slice ``input`` (1, S, S), standardised per slice after the
0-255 scaling; ``mask`` the myocardium (label 2) as float (S, S); ``label``
1 for a DCM patient, else 0; ``target`` whichever of the two the run's task
predicts; ``targets`` both, by task name, so a multi-task model is scored on
both from one run. Ids are ``patientXXX:ED:z03``.

Folds: ``data.folds``-fold cross-validation by patient, stratified by DCM, and
a patient-disjoint, stratified validation share of each training part, all
fixed by ``data.split_seed`` (part of the fingerprint). ``data.balance:
oversample`` repeats the minority class inside each training part only, each
repeat rotated and noised anew per (seed, epoch, index) - ACNet experiment 2
enlarged its minority class with rotation and noise but does not say whether
before or after splitting; enlarging before the split would put copies of a
test patient into training.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from sklearn.model_selection import StratifiedKFold
from torch.utils.data import Dataset

from cardiobench.data.generated import generated
from cardiobench.engine.seeding import derive_seed
from cardiobench.errors import DataError
from cardiobench.specs import DataBundle, DataRequest, Fold
from cardiobench_cmr.acdc import synthetic
from cardiobench_cmr.acdc.layout import GROUPS, MYOCARDIUM, POSITIVE_GROUP, Patient, raise_patient_problems, scan_patients
from cardiobench_cmr.acdc.slices import Slices, decoded

NAME = "acdc"
VERSION = 1
CITATION = "Bernard et al., Deep learning techniques for automatic MRI cardiac multi-structures segmentation and diagnosis: is the problem solved?, IEEE TMI 37(11), 2018 (ACDC)"
LICENSE = "ACDC: research use under the challenge's terms (cite MANDATORY_CITATION.md); synthetic phantoms: Apache-2.0"
SEG_TASK, CLS_TASK = "myo-seg", "dcm-cls"
CLASSES = ("other", "DCM")


def patient_of(item_id: str) -> str:
    """The patient of an item id (``[fold/]patientXXX:ED:z03``)."""
    return item_id.split("/")[-1].split(":", 1)[0]


class CineSlices(Dataset):
    """The items of a set of slice rows; ``repeats`` marks oversampled copies,
    which are rotated and noised per (seed, epoch, index)."""

    def __init__(self, slices: Slices, rows: np.ndarray, labels: np.ndarray, ids: list[str], task: str, input_size: int, seed: int, repeats: np.ndarray | None = None, rotation: float = 15.0, noise: float = 0.05):
        self.slices, self.rows, self.labels, self.ids = slices, rows, labels, ids
        self.task, self.input_size, self.seed, self.epoch = task, input_size, seed, 0
        self.repeats = np.zeros(len(rows), dtype=bool) if repeats is None else repeats
        self.rotation, self.noise = rotation, noise

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.rows)

    def class_targets(self) -> np.ndarray | None:
        """Each item's class (DCM or not) for dcm-cls, without reading an image
        (the core's check that validation AUC is defined)."""
        return self.labels[self.rows] if self.task == CLS_TASK else None

    def _arrays(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        row = int(self.rows[i])
        image = torch.from_numpy(self.slices.images[row].astype(np.float32))[None]
        mask = torch.from_numpy((self.slices.labels[row] == MYOCARDIUM).astype(np.float32))[None]
        if image.shape[-1] != self.input_size:
            image = F.interpolate(image[None], size=self.input_size, mode="area")[0]
            mask = (F.interpolate(mask[None], size=self.input_size, mode="area")[0] >= 0.5).float()
        if self.repeats[i]:
            rng = np.random.default_rng(derive_seed(self.seed, "oversample", self.epoch, i))
            angle = float(rng.uniform(-self.rotation, self.rotation))
            image = TF.rotate(image, angle, interpolation=TF.InterpolationMode.BILINEAR)
            mask = TF.rotate(mask, angle, interpolation=TF.InterpolationMode.NEAREST)
            image = image + torch.from_numpy(rng.normal(0, self.noise * 255, image.shape).astype(np.float32))
        return (image - image.mean()) / image.std().clamp_min(1e-6), mask[0]

    def __getitem__(self, i: int) -> dict[str, Any]:
        image, mask = self._arrays(i)
        label = torch.tensor(int(self.labels[self.rows[i]]))
        return {"input": image, "target": mask if self.task == SEG_TASK else label, "id": self.ids[i], "targets": {SEG_TASK: mask, CLS_TASK: label}}


def _root(data_root: Path | None, data: Mapping[str, Any]) -> tuple[Path, str]:
    if data_root is not None:
        return data_root, f"ACDC folder {data_root}"
    n, seed = int(data["synthetic_patients"]), int(data["synthetic_seed"])
    root = generated(f"acdc-v{synthetic.GENERATOR_VERSION}-n{n}-s{seed}", synthetic.CITATION_FILE, f"{n} synthetic ACDC patients", lambda out: synthetic.write(out, n, seed))
    return root, f"synthetic ACDC-layout cine phantoms v{synthetic.GENERATOR_VERSION}"


def read(request: DataRequest) -> tuple[Path, str, list[Patient], Slices]:
    data = request.config["data"]
    if int(data["size"]) < 16 or float(data["spacing"]) <= 0:
        raise DataError(f"data.size must be at least 16 and data.spacing positive, got {data['size']} and {data['spacing']}.")
    root, source = _root(request.data_root, data)
    patients, problems = scan_patients(root)
    slices, decoding = decoded(patients, int(data["size"]), float(data["spacing"]))
    if problems or decoding:  # bad Info.cfg rows and undecodable images, together
        raise_patient_problems(root, problems + decoding)
    assert slices is not None
    return root, source, patients, slices


def patient_folds(dcm: np.ndarray, folds: int, val_fraction: float, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(train, val, test) patient indices per fold: stratified by DCM, patient-disjoint."""
    if min(int(dcm.sum()), int((~dcm).sum())) < folds:
        raise DataError(f"{folds}-fold cross-validation stratified by DCM needs at least {folds} DCM and {folds} other patients; found {int(dcm.sum())} and {int((~dcm).sum())}.")
    out = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train, test) in enumerate(splitter.split(np.zeros(len(dcm)), dcm)):
        val = validation_share(train, dcm, val_fraction, np.random.default_rng([seed, k]))
        out.append((np.setdiff1d(train, val), val, np.sort(test)))
    return out


def validation_share(train: np.ndarray, dcm: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """``fraction`` of each class's training patients (at least one of each
    class that has two), so validation AUC is always defined."""
    picked = []
    for positive in (False, True):
        members = train[dcm[train] == positive]
        n = max(1, int(round(fraction * len(members)))) if len(members) >= 2 else 0
        picked.append(rng.permutation(members)[:n])
    return np.sort(np.concatenate(picked))


def oversampled(rows: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training rows with the minority class repeated until both classes are
    equally frequent, and which rows are repeats."""
    y = labels[rows]
    minority = int(np.argmin(np.bincount(y, minlength=2)))
    extra = int((y != minority).sum() - (y == minority).sum())
    pool = rows[y == minority]
    if extra <= 0 or len(pool) == 0:
        return rows, np.zeros(len(rows), dtype=bool)
    copies = np.resize(pool, extra)
    return np.concatenate([rows, copies]), np.concatenate([np.zeros(len(rows), dtype=bool), np.ones(extra, dtype=bool)])


def load(request: DataRequest) -> DataBundle:
    data = request.config["data"]
    if data["balance"] not in ("none", "oversample"):
        raise DataError(f"data.balance must be 'none' or 'oversample', got {data['balance']!r}.")
    if data["slices"] not in ("all", "myocardium"):
        raise DataError(f"data.slices must be 'all' or 'myocardium', got {data['slices']!r}.")
    _, source, patients, slices = read(request)
    keep = np.arange(len(slices.images))
    if data["slices"] == "myocardium":
        keep = keep[(slices.labels[keep] == MYOCARDIUM).any(axis=(1, 2))]
    dcm = np.array([p.dcm for p in patients])
    labels = dcm[slices.patient].astype(np.int64)
    ids = [f"{patients[slices.patient[r]].name}:{slices.phase[r]}:z{int(slices.level[r]):02d}" for r in range(len(slices.images))]
    seed = derive_seed(request.seed, "acdc-augment") % 2**31
    size = int(data["input_size"] or data["size"])
    folds, train_targets = [], []
    for k, parts in enumerate(patient_folds(dcm, int(data["folds"]), float(data["val_fraction"]), int(data["split_seed"]))):
        train, val, test = (keep[np.isin(slices.patient[keep], p)] for p in parts)
        repeats = None
        if data["balance"] == "oversample":
            train, repeats = oversampled(train, labels)
        sets = [CineSlices(slices, rows, labels, [ids[r] for r in rows], request.task, size, seed, reps) for rows, reps in ((train, repeats), (val, None), (test, None))]
        folds.append(Fold(f"fold{k + 1}", *sets))
        train_targets.append(labels[train])
    split = {key: data[key] for key in ("folds", "split_seed", "val_fraction", "slices", "size", "spacing", "input_size", "balance")}
    content = hashlib.sha256()  # the pixels, the labels, then each patient's name, group and frames
    for array in (slices.images, slices.labels):
        content.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    content.update(json.dumps([(p.name, p.group, p.frames) for p in patients]).encode())
    fingerprint = hashlib.sha256(json.dumps({"content": content.hexdigest(), "split": split}, sort_keys=True).encode()).hexdigest()
    groups = {g: int(sum(p.group == g for p in patients)) for g in GROUPS}
    info = {"classes": list(CLASSES), "positive": POSITIVE_GROUP, "groups": groups, "patients": len(patients), "slices": int(len(keep)), "input_size": [size, size], "in_channels": 1, "task": request.task}
    info["pixel_mm"] = float(data["spacing"]) * int(data["size"]) / size  # the evaluated grid's pixel, for HD95 in mm
    source += f" ({len(patients)} patients: {', '.join(f'{g} {n}' for g, n in groups.items())}; {len(keep)} slices of the ED and ES frames, {int(data['folds'])}-fold CV by patient)"
    return DataBundle(folds, fingerprint, source, info, train_targets)


def check(request: DataRequest) -> str:
    _, source, patients, slices = read(request)
    myo = int((slices.labels == MYOCARDIUM).any(axis=(1, 2)).sum())
    return f"{source}: {len(patients)} patients, every ED/ES frame and _gt readable and consistent; {len(slices.images)} slices ({myo} with myocardium)"
