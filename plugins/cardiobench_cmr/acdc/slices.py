"""ED and ES volumes to 2-D short-axis slices, decoded once into the cache.

Each slice is resampled in-plane to ``spacing`` mm (bilinear image, nearest
labels), cropped to ``size`` x ``size`` about the image centre - never about
the labels, so the crop is what a deployed model would see (ACDC acquisitions
centre the heart; an off-centre heart may be cut, and is then cut for every
model alike) - and padded with zeros where the field of view is smaller.
Intensities are scaled per slice to 0-255 (both papers, section 4.1.2 / IV.A)
and kept as uint8; the dataset standardises each slice when it is read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np

from cardiobench import atomic, progress
from cardiobench.paths import cache_dir
from cardiobench_cmr.acdc.layout import LABELS, PHASES, Patient

CACHE_FORMAT = 1


@dataclass(frozen=True)
class Slices:
    """Every slice of every patient's ED and ES frames."""

    images: np.ndarray  # (N, size, size) uint8, 0-255 per slice
    labels: np.ndarray  # (N, size, size) uint8 ACDC labels 0-3
    patient: np.ndarray  # (N,) index into the patient list
    phase: np.ndarray  # (N,) "ED" | "ES"
    level: np.ndarray  # (N,) slice index within its volume


def _read(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    image = nib.load(str(path))
    data = np.asarray(image.dataobj, dtype=np.float32)
    return data, tuple(float(z) for z in image.header.get_zooms()[:2])


def crop_centre(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` (H, W) cropped or zero-padded to (size, size) about its centre."""
    out = np.zeros((size, size), dtype=array.dtype)
    h, w = array.shape
    top, left = (h - size) // 2, (w - size) // 2
    src = array[max(top, 0) : max(top, 0) + min(size, h), max(left, 0) : max(left, 0) + min(size, w)]
    dy, dx = max(-top, 0), max(-left, 0)
    out[dy : dy + src.shape[0], dx : dx + src.shape[1]] = src
    return out


def to_uint8(image: np.ndarray) -> np.ndarray:
    low, high = float(image.min()), float(image.max())
    return np.round(255 * (image - low) / max(high - low, 1e-6)).astype(np.uint8)


def resample(image: np.ndarray, zooms: tuple[float, float], spacing: float, nearest: bool) -> np.ndarray:
    """One (H, W) slice resampled to ``spacing`` mm pixels."""
    shape = (max(1, round(image.shape[0] * zooms[0] / spacing)), max(1, round(image.shape[1] * zooms[1] / spacing)))
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)


def frame_problems(image: np.ndarray, truth: np.ndarray, name: str, truth_name: str) -> list[str]:
    problems = []
    if image.ndim != 3:
        problems.append(f"{name} is {image.ndim}-D, expected one 3-D frame")
    if image.shape != truth.shape:
        problems.append(f"{name} has shape {image.shape} but its _gt has {truth.shape}")
    if not np.all(np.isfinite(image)):
        problems.append(f"{name} has {int((~np.isfinite(image)).sum())} non-finite voxels")
    if not np.all(np.isfinite(truth)):
        problems.append(f"{truth_name} has non-finite voxels")
    else:
        bad = sorted(set(np.unique(truth).tolist()) - set(LABELS))
        if bad:
            problems.append(f"{truth_name} has label values {[int(v) if float(v).is_integer() else v for v in bad[:5]]} outside 0-3")
    return problems


def decode_patient(patient: Patient, size: int, spacing: float) -> tuple[list[tuple[str, int, np.ndarray, np.ndarray]], list[str]]:
    """([(phase, level, image, labels)], problems) for one patient's ED and ES frames."""
    out, problems = [], []
    for phase in PHASES:
        name = patient.image(phase).name
        try:
            image, zooms = _read(patient.image(phase))
            truth, _ = _read(patient.truth(phase))
        except Exception as exc:  # nibabel raises many types for a corrupt file
            problems.append(f"{name} or its _gt is not a readable NIfTI ({type(exc).__name__}: {exc})")
            continue
        found = frame_problems(image, truth, name, patient.truth(phase).name)
        if found:
            problems += found
            continue
        for z in range(image.shape[2]):
            pixels = crop_centre(resample(image[:, :, z], zooms, spacing, False), size)
            labels = crop_centre(resample(truth[:, :, z].astype(np.uint8), zooms, spacing, True), size)
            out.append((phase, z, to_uint8(pixels), labels))
    return out, problems


def cache_entry(patients: Sequence[Patient], size: int, spacing: float) -> Path:
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{size}|{spacing}".encode())
    for patient in patients:
        for phase in PHASES:
            for path in (patient.image(phase), patient.truth(phase)):
                stat = path.stat()
                digest.update(f"|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_dir() / "acdc" / f"slices-{size}-{spacing:g}mm-{digest.hexdigest()[:20]}.npz"


def decoded(patients: Sequence[Patient], size: int, spacing: float) -> tuple[Slices | None, list[str]]:
    """Every slice (from the cache after the first call), or None and the
    problems of every bad patient."""
    entry = cache_entry(patients, size, spacing)
    if not entry.is_file():
        results: list = [None] * len(patients)

        def work(i: int) -> None:
            results[i] = decode_patient(patients[i], size, spacing)

        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            list(progress.bar(pool.map(work, range(len(patients))), total=len(patients), desc="decoding ACDC volumes (once)", unit="patient"))
        problems = [f"{p.name}: {problem}" for p, (_, found) in zip(patients, results) for problem in found]
        if problems:
            return None, problems
        rows = [(i, *row) for i, (found, _) in enumerate(results) for row in found]
        arrays = {
            "images": np.stack([r[3] for r in rows]),
            "labels": np.stack([r[4] for r in rows]),
            "patient": np.array([r[0] for r in rows]),
            "phase": np.array([r[1] for r in rows]),
            "level": np.array([r[2] for r in rows]),
        }
        atomic.write_with(entry, lambda handle: np.savez(handle, **arrays))
    with np.load(entry) as data:
        return Slices(**{k: data[k] for k in ("images", "labels", "patient", "phase", "level")}), []
