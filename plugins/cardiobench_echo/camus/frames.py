"""CAMUS NIfTI images to the frames EchoNet-Dynamic's models see, decoded
once into the cache.

Orientation: nibabel's first axis is the image's x, so a frame read as
``array[:, :, t]`` shows the sector's apex on the left; it is transposed, so
the apex is at the top, as in EchoNet-Dynamic's videos (a phantom with a
known apex tests this). Geometry: each frame is resampled to square pixels of
its header's smaller spacing, zero-padded to a square about its centre (the
sector keeps its shape) and resized to ``size`` x ``size`` (area for images,
nearest for labels). Intensities (float 0-255 in the release) are rounded to
uint8; grey frames become three equal channels, as EchoNet-Dynamic's AVIs.
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
from cardiobench_echo.camus.layout import LABELS, PHASES, View

CACHE_FORMAT = 1


def read_nifti(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """The volume as float32 (x, y[, t]) and its in-plane spacing."""
    image = nib.load(str(path))
    return np.asarray(image.dataobj, dtype=np.float32), tuple(float(z) for z in image.header.get_zooms()[:2])


def squared(frame_xy: np.ndarray, zooms: tuple[float, float], size: int, nearest: bool) -> np.ndarray:
    """One (x, y) frame as an apex-up (size, size) image: transposed, square
    pixels, padded to a square about its centre, resized."""
    image = np.ascontiguousarray(frame_xy.T)  # (rows = y, cols = x)
    pixel = min(zooms)
    height, width = max(1, round(image.shape[0] * zooms[1] / pixel)), max(1, round(image.shape[1] * zooms[0] / pixel))
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    image = cv2.resize(image, (width, height), interpolation=interpolation)
    side = max(height, width)
    canvas = np.zeros((side, side), dtype=image.dtype)
    top, left = (side - height) // 2, (side - width) // 2
    canvas[top : top + height, left : left + width] = image
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def _grey(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Decoded:
    """Every view's frames at one size: the half sequences (concatenated,
    ``start`` / ``length`` per view; empty where not read), the ED and ES
    frames and their label maps (0-3)."""

    sequences: np.ndarray  # (sum of lengths, size, size) uint8
    start: np.ndarray  # (views,)
    length: np.ndarray  # (views,)
    frames: np.ndarray  # (views, 2, size, size) uint8: ED, ES
    labels: np.ndarray  # (views, 2, size, size) uint8

    def sequence(self, index: int) -> np.ndarray:
        return self.sequences[self.start[index] : self.start[index] + self.length[index]]


def _checked(path: Path) -> tuple[np.ndarray | None, tuple[float, float], list[str]]:
    try:
        data, zooms = read_nifti(path)
    except Exception as exc:  # nibabel raises many kinds for a damaged file
        return None, (1.0, 1.0), [f"{path.name} is not a readable NIfTI file ({type(exc).__name__}: {exc})"]
    if not np.all(np.isfinite(data)):
        return None, zooms, [f"{path.name} has {int(np.sum(~np.isfinite(data)))} non-finite voxel(s)"]
    return data, zooms, []


def _labels_checked(path: Path, shape: tuple[int, ...]) -> tuple[np.ndarray | None, list[str]]:
    data, _, problems = _checked(path)
    if data is None:
        return None, problems
    if data.squeeze().shape != shape:
        return None, [f"{path.name} is {data.squeeze().shape}, its image {shape}"]
    values = np.unique(data)
    outside = [v for v in values.tolist() if v not in LABELS]
    if outside:
        return None, [f"{path.name} has labels {', '.join(f'{v:g}' for v in outside[:5])} outside 0-3 ({', '.join(f'{k} {n}' for k, n in LABELS.items())})"]
    return data.squeeze().astype(np.uint8), []


def decode_view(view: View, size: int, with_sequence: bool) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None, list[str]]:
    """(half sequence (T, S, S), ED/ES frames (2, S, S), ED/ES labels (2, S, S))
    of one view, or the problems of its files."""
    frames, labels, problems = [], [], []
    for phase in PHASES:
        image, zooms, found = _checked(view.file(phase))
        problems += found
        if image is None:
            continue
        image = image.squeeze()
        truth, found = _labels_checked(view.file(f"{phase}_gt"), image.shape)
        problems += found
        if truth is not None and image.ndim == 2:
            frames.append(_grey(squared(image, zooms, size, nearest=False)))
            labels.append(squared(truth, zooms, size, nearest=True))
        elif image.ndim != 2:
            problems.append(f"{view.file(phase).name} is {image.shape}, not one 2-D frame")
    sequence = np.zeros((0, size, size), np.uint8)
    if with_sequence:
        data, zooms, found = _checked(view.file("half_sequence"))
        problems += found
        if data is not None and data.ndim != 3:
            problems.append(f"{view.file('half_sequence').name} is {data.shape}, not (x, y, frames)")
        elif data is not None:
            sequence = np.stack([_grey(squared(data[:, :, t], zooms, size, nearest=False)) for t in range(data.shape[2])])
    if problems:
        return None, [f"{view.id}: {p}" for p in problems]
    return (sequence, np.stack(frames), np.stack(labels)), []


def cache_entry(views: Sequence[View], size: int, with_sequence: bool) -> Path:
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{size}|{with_sequence}".encode())
    for view in views:
        for part in ("ED", "ES", "ED_gt", "ES_gt") + (("half_sequence",) if with_sequence else ()):
            stat = view.file(part).stat()
            digest.update(f"|{view.file(part).resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_dir() / "camus" / f"views-{size}-{'seq' if with_sequence else 'edes'}-{digest.hexdigest()[:20]}.npz"


def decoded(views: Sequence[View], size: int, with_sequence: bool) -> tuple[Decoded | None, list[str]]:
    """Every view decoded (from the cache after the first call), or None and
    the problems of every bad view."""
    entry = cache_entry(views, size, with_sequence)
    if not entry.is_file():
        results: list = [None] * len(views)

        def work(i: int) -> None:
            results[i] = decode_view(views[i], size, with_sequence)

        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            list(progress.bar(pool.map(work, range(len(views))), total=len(views), desc="decoding CAMUS views (once)", unit="view"))
        problems = [p for _, found in results for p in found]
        if problems:
            return None, problems
        sequences = [r[0] for r, _ in results]
        lengths = np.array([len(s) for s in sequences])
        arrays = {
            "sequences": np.concatenate(sequences) if lengths.sum() else np.zeros((0, size, size), np.uint8),
            "start": np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
            "length": lengths,
            "frames": np.stack([r[1] for r, _ in results]),
            "labels": np.stack([r[2] for r, _ in results]),
        }
        atomic.write_with(entry, lambda handle: np.savez(handle, **arrays))
    with np.load(entry) as data:
        return Decoded(**{k: data[k] for k in ("sequences", "start", "length", "frames", "labels")}), []


def _resampled_count(frames: int, frame_rate: float, target_rate: float) -> int:
    return max(2, round((frames - 1) * target_rate / frame_rate) + 1)


def pseudo_cycle_length(frames: int, frame_rate: float, target_rate: float, mode: str, span: int) -> int:
    """``len(pseudo_cycle(...))`` of a half sequence of ``frames`` frames, without building it."""
    count = _resampled_count(frames, frame_rate, target_rate)
    if mode != "mirror":
        return count
    cycle = 2 * count - 2
    return cycle * -(-span // cycle)


def pseudo_cycle(sequence: np.ndarray, frame_rate: float, target_rate: float, mode: str, span: int) -> np.ndarray:
    """A half sequence (ED to ES) as a clip source at ``target_rate`` frames
    per second (linear interpolation in time). ``mirror``: ED to ES and back
    (a pseudo-cycle), repeated until it covers ``span`` frames, so a clip
    never sees zero padding; ``pad``: the half sequence alone (the clip
    sampler pads with zero frames)."""
    count = _resampled_count(len(sequence), frame_rate, target_rate)
    position = np.linspace(0, len(sequence) - 1, count)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(sequence) - 1)
    weight = (position - low)[:, None, None]
    resampled = np.rint((1 - weight) * sequence[low] + weight * sequence[high]).astype(np.uint8)
    if mode == "mirror":
        cycle = np.concatenate([resampled, resampled[-2:0:-1]])
        resampled = np.concatenate([cycle] * -(-span // len(cycle)))
    return resampled
