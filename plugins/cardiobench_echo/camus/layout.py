"""The CAMUS on-disk layout, NIfTI release (Leclerc et al., IEEE TMI 38(9),
2019): find the patients, parse their ``Info_{2CH,4CH}.cfg``, check every
file a run needs, read the official split.

A data root holds ``database_nifti/patientNNNN/`` with, per view (2CH, 4CH),
``patientNNNN_<view>_{ED,ES}.nii.gz`` and their ``_gt.nii.gz`` (0 background,
1 LV endocardium i.e. the cavity, 2 LV epicardium i.e. the myocardium, 3 the
left atrium), ``patientNNNN_<view>_half_sequence.nii.gz`` (ED to ES; its
``_gt`` where present) and ``Info_<view>.cfg`` (``Key: value`` lines: ED, ES,
NbFrame, Sex, Age, ImageQuality, EF, FrameRate); and
``database_split/subgroup_{training,validation,testing}.txt`` (one patient
name per line). The older ``.mhd/.raw`` release is recognised and refused
with one line naming the release to use.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cardiobench.data.cfg import read_key_values
from cardiobench.errors import DataError, bulleted

NIFTI = "database_nifti"
SPLIT = "database_split"
SPLIT_FILES = {"TRAIN": "subgroup_training.txt", "VAL": "subgroup_validation.txt", "TEST": "subgroup_testing.txt"}
VIEWS = ("2CH", "4CH")
PHASES = ("ED", "ES")
CFG_KEYS = ("ED", "ES", "NbFrame", "ImageQuality", "EF", "FrameRate")
QUALITIES = ("Good", "Medium", "Poor")
LABELS = {0: "background", 1: "LV cavity", 2: "LV myocardium", 3: "left atrium"}
LV_CAVITY = 1
PATIENT = re.compile(r"^patient\d{4}$")


@dataclass(frozen=True)
class View:
    """One patient's view (2CH or 4CH): its files and Info cfg."""

    patient: str
    name: str  # 2CH | 4CH
    folder: Path
    ef: float
    frame_rate: float
    quality: str
    info: dict[str, str]

    def file(self, part: str) -> Path:
        """``part``: ED, ES, ED_gt, ES_gt, half_sequence, half_sequence_gt."""
        return self.folder / f"{self.patient}_{self.name}_{part}.nii.gz"

    @property
    def id(self) -> str:
        return f"{self.patient}/{self.name}"


@dataclass(frozen=True)
class Layout:
    """A read CAMUS folder: every good view, the split of each patient, and a
    fingerprint of the labels, file list and split."""

    root: Path
    views: list[View]
    split: dict[str, str]  # patient -> TRAIN | VAL | TEST
    split_note: str

    def of(self, split: str, views: tuple[str, ...]) -> list[View]:
        return [v for v in self.views if self.split.get(v.patient) == split and v.name in views]

    @property
    def fingerprint(self) -> str:
        lines = [f"{v.id}|{v.ef:.4f}|{v.frame_rate:g}|{v.quality}|{self.split.get(v.patient, '')}" for v in self.views]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _number(info: dict[str, str], key: str) -> float | None:
    try:
        return float(info[key])
    except (KeyError, ValueError):
        return None


def _view(folder: Path, patient: str, name: str, need_sequence: bool) -> tuple[View | None, list[str]]:
    cfg = folder / f"Info_{name}.cfg"
    if not cfg.is_file():
        return None, [f"no Info_{name}.cfg"]
    info, problems = read_key_values(cfg)
    missing = [k for k in CFG_KEYS if k not in info]
    if missing:
        problems.append(f"Info_{name}.cfg lacks {', '.join(missing)}")
    ef, rate = _number(info, "EF"), _number(info, "FrameRate")
    if "EF" in info and (ef is None or not 0 < ef < 100):
        problems.append(f"Info_{name}.cfg EF {info['EF']!r} is not a percentage in (0, 100)")
    if "FrameRate" in info and (rate is None or not rate > 0):
        problems.append(f"Info_{name}.cfg FrameRate {info['FrameRate']!r} is not a positive number")
    if "ImageQuality" in info and info["ImageQuality"] not in QUALITIES:
        problems.append(f"Info_{name}.cfg ImageQuality {info['ImageQuality']!r} is not one of {', '.join(QUALITIES)}")
    parts = ["ED", "ES", "ED_gt", "ES_gt"] + (["half_sequence"] if need_sequence else [])
    problems += [f"{patient}_{name}_{part}.nii.gz is missing" for part in parts if not (folder / f"{patient}_{name}_{part}.nii.gz").is_file()]
    if problems:
        return None, problems
    return View(patient, name, folder, float(ef), float(rate), info["ImageQuality"], info), []


def _refuse_mhd(root: Path) -> None:
    if any(root.glob("*/patient*/*.mhd")) or any(root.glob("patient*/*.mhd")):
        raise DataError(
            f"{root} holds CAMUS's older .mhd/.raw release; cardiobench reads the NIfTI release (a folder with {NIFTI}/patientNNNN/*.nii.gz and {SPLIT}/): download that one from the CAMUS site."
        )


def _nifti_root(root: Path) -> Path:
    if not root.is_dir():
        raise DataError(f"CAMUS data root {root} is not a folder.")
    if (root / NIFTI).is_dir():
        return root / NIFTI
    _refuse_mhd(root)
    raise DataError(f"{root} has no {NIFTI}/ folder (expected the CAMUS NIfTI release: {NIFTI}/patientNNNN/ and {SPLIT}/).")


def _split(root: Path, patients: list[str], val_fraction: float, seed: int) -> tuple[dict[str, str], str, list[str]]:
    """Each patient's split from ``database_split``; validation carved from
    training by patient where the validation file is absent; a deterministic
    70/10/20 split by patient where the folder is absent."""
    folder, problems = root / SPLIT, []
    if not folder.is_dir():
        order = np.random.default_rng(seed).permutation(sorted(patients))
        n_val, n_test = round(0.1 * len(order)), round(0.2 * len(order))
        split = {str(p): "VAL" if i < n_val else "TEST" if i < n_val + n_test else "TRAIN" for i, p in enumerate(order)}
        return split, f"no {SPLIT}/: patients split 70/10/20 at random (seed {seed})", problems
    split: dict[str, str] = {}
    for part, file in SPLIT_FILES.items():
        path = folder / file
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            name = line.strip()
            if not name:
                continue
            if name in split and split[name] != part:
                problems.append(f"{SPLIT}/{file} line {number}: {name} is also in {SPLIT_FILES[split[name]]}")
            split[name] = part
    if not (folder / SPLIT_FILES["TRAIN"]).is_file() or not (folder / SPLIT_FILES["TEST"]).is_file():
        problems.append(f"{SPLIT}/ lacks {SPLIT_FILES['TRAIN']} or {SPLIT_FILES['TEST']}")
    note = "the official split"
    if not (folder / SPLIT_FILES["VAL"]).is_file():
        train = sorted(p for p, s in split.items() if s == "TRAIN")
        chosen = np.random.default_rng(seed).permutation(train)[: max(1, round(val_fraction * len(train)))]
        split.update({str(p): "VAL" for p in chosen})
        note = f"the official split; no {SPLIT_FILES['VAL']}, so {len(chosen)} training patients validate (camus.val_fraction {val_fraction:g}, seed {seed})"
    return split, note, problems


def scan(root: Path, need_sequence: bool, val_fraction: float = 0.1, seed: int = 0) -> tuple[Layout, list[str]]:
    """The good views of ``root`` and one problem line for every bad patient;
    raises only when ``root`` is not a CAMUS NIfTI folder at all."""
    nifti = _nifti_root(root)
    folders = sorted(p for p in nifti.iterdir() if p.is_dir() and PATIENT.match(p.name))
    if not folders:
        _refuse_mhd(nifti)
        raise DataError(f"{nifti} holds no patientNNNN folders.")
    views, problems = [], []
    for folder in folders:
        for name in VIEWS:
            view, found = _view(folder, folder.name, name, need_sequence)
            problems += [f"{folder.name}: {p}" for p in found]
            if view is not None:
                views.append(view)
    split, note, split_problems = _split(root, [f.name for f in folders], val_fraction, seed)
    problems += split_problems
    unlisted = sorted({v.patient for v in views} - set(split))
    if unlisted and (root / SPLIT).is_dir():
        note += f"; {len(unlisted)} patient(s) in no split file are left out"
    return Layout(root, views, split, note), problems


def raise_problems(root: Path, problems: list[str]) -> None:
    if problems:
        raise DataError(f"{root}: {len(problems)} problem(s) in the CAMUS folders: {bulleted(problems)}.")
