"""The ACDC on-disk layout (Bernard et al., IEEE TMI 37(11), 2018): find the
patient folders, parse ``Info.cfg``, check every file a run needs.

A data root is the unpacked ``database/`` folder (``training/`` and, when
present, ``testing/``) or one folder of ``patientXXX`` folders. A patient
folder holds ``Info.cfg`` (``Key: value`` lines: ED, ES, Group, Height,
NbFrame, Weight), ``patientXXX_4d.nii.gz`` and, for the ED and ES frame
numbers of Info.cfg (1-based, two digits), ``patientXXX_frameNN.nii.gz`` and
``patientXXX_frameNN_gt.nii.gz``. ``MANDATORY_CITATION.md`` files are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cardiobench.data.cfg import read_key_values
from cardiobench.errors import DataError, bulleted

GROUPS = ("DCM", "HCM", "MINF", "NOR", "RV")
POSITIVE_GROUP = "DCM"
INFO_FILE = "Info.cfg"
INFO_KEYS = ("ED", "ES", "Group", "Height", "NbFrame", "Weight")
PHASES = ("ED", "ES")
PATIENT_FOLDER = re.compile(r"^patient\d{3}$")
LABELS = {0: "background", 1: "RV cavity", 2: "myocardium", 3: "LV cavity"}
MYOCARDIUM = 2


@dataclass(frozen=True)
class Patient:
    """One patient folder whose Info.cfg and frame files are all present."""

    name: str
    folder: Path
    group: str
    frames: dict[str, int]  # phase -> 1-based frame number
    info: dict[str, str]

    @property
    def dcm(self) -> bool:
        return self.group == POSITIVE_GROUP

    def image(self, phase: str) -> Path:
        return self.folder / f"{self.name}_frame{self.frames[phase]:02d}.nii.gz"

    def truth(self, phase: str) -> Path:
        return self.folder / f"{self.name}_frame{self.frames[phase]:02d}_gt.nii.gz"


def patient_folders(root: Path) -> list[Path]:
    """The ``patientXXX`` folders under ``root``, ``root/training`` and ``root/testing``."""
    parents = [root] + [root / part for part in ("training", "testing") if (root / part).is_dir()]
    return sorted((p for parent in parents for p in parent.iterdir() if p.is_dir() and PATIENT_FOLDER.match(p.name)), key=lambda p: p.name)


def _patient(folder: Path) -> tuple[Patient | None, list[str]]:
    info_path = folder / INFO_FILE
    if not info_path.is_file():
        return None, [f"no {INFO_FILE}"]
    info, problems = read_key_values(info_path)
    missing = [k for k in INFO_KEYS if k not in info]
    if missing:
        problems.append(f"{INFO_FILE} lacks {', '.join(missing)}")
    if "Group" in info and info["Group"] not in GROUPS:
        problems.append(f"unknown Group {info['Group']!r} (expected one of {', '.join(GROUPS)})")
    frames = {}
    for phase in PHASES:
        if phase in info:
            if info[phase].isdigit() and int(info[phase]) >= 1:
                frames[phase] = int(info[phase])
            else:
                problems.append(f"{phase} {info[phase]!r} is not a frame number >= 1")
    if problems:
        return None, problems
    patient = Patient(folder.name, folder, info["Group"], frames, info)
    for phase in PHASES:
        for path in (patient.image(phase), patient.truth(phase)):
            if not path.is_file():
                problems.append(f"{phase} frame file {path.name} is missing")
    return (patient if not problems else None), problems


def read_patients(root: Path) -> list[Patient]:
    """Every patient of ``root``; one DataError names every bad patient."""
    patients, problems = scan_patients(root)
    if problems:
        raise_patient_problems(root, problems)
    return patients


def scan_patients(root: Path) -> tuple[list[Patient], list[str]]:
    """The good patients of ``root`` and a problem line for every bad one;
    raises only when ``root`` holds no patient folders at all."""
    if not root.is_dir():
        raise DataError(f"ACDC data root {root} is not a folder.")
    folders = patient_folders(root)
    if not folders:
        raise DataError(f"{root} holds no patientXXX folders (expected the ACDC database/ folder, its training/ folder, or a folder of patient folders).")
    patients, problems = [], []
    for folder in folders:
        patient, found = _patient(folder)
        problems += [f"{folder.name}: {p}" for p in found]
        if patient is not None:
            patients.append(patient)
    names = [p.name for p in patients]
    problems += [f"{n}: appears in more than one folder" for n in sorted({n for n in names if names.count(n) > 1})]
    return patients, problems


def raise_patient_problems(root: Path, problems: list[str]) -> None:
    raise DataError(f"{root}: {len(problems)} problem(s) in the ACDC folders: {bulleted(problems)}.")
