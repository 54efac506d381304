"""Reading a WFDB folder (a PhysioNet MIT-BIH download or the synthetic set)
into labelled, filtered, normalised segments, cached once per content.

The cache key hashes every record file's bytes and the segmentation settings,
so a changed file or setting builds a new cache and an unchanged folder is
read from disk once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import wfdb

from cardiobench import atomic, progress
from cardiobench.errors import ConfigError, DataError, bulleted
from cardiobench.paths import cache_dir
from cardiobench_ecg.segments import Segment, bandpass, cut, segments_of

CACHE_VERSION = 1
SEGMENT_KEYS = ("length", "normal_symbols", "low_hz", "high_hz", "normalisation", "decimate")


@dataclass
class SegmentSet:
    """Every labelled segment of a folder: signals (N, leads, length) float32,
    labels (N,) with 1 = PVC, their records, and each segment's beats."""

    signals: np.ndarray
    labels: np.ndarray
    records: np.ndarray
    starts: np.ndarray
    beats: list[np.ndarray]  # per segment: (k, 3) rows of (start, end, is_abnormal), relative to the segment
    content_hash: str
    lead_names: list[str]

    @property
    def ids(self) -> list[str]:
        return [f"{r}:{s}" for r, s in zip(self.records, self.starts)]


def record_names(root: Path) -> list[str]:
    """The folder's ``RECORDS`` list, or every ``*.hea`` when there is none."""
    listing = root / "RECORDS"
    if listing.is_file():
        try:
            text = listing.read_text()
        except UnicodeDecodeError as exc:
            raise DataError(f"{listing} is not a text list of record names, one a line ({exc.reason} at byte {exc.start}).") from exc
        names = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        names = sorted(p.stem for p in root.glob("*.hea"))
    if not names:
        raise DataError(f"{root} holds no WFDB records: expected a RECORDS file or <name>.hea/.dat/.atr files (a PhysioNet mitdb download).")
    return names


def missing_files(root: Path, names: list[str]) -> list[str]:
    return [f"{name}{ext}" for name in names for ext in (".hea", ".dat", ".atr") if not (root / f"{name}{ext}").is_file()]


def content_hash(root: Path, names: list[str], settings: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps({"v": CACHE_VERSION, "settings": settings}, sort_keys=True).encode())
    for name in names:
        for ext in (".hea", ".dat", ".atr"):
            digest.update(f"{name}{ext}".encode())
            digest.update(hashlib.sha256((root / f"{name}{ext}").read_bytes()).digest())
    return digest.hexdigest()


def raise_problems(root: Path, problems: list[str]) -> None:
    """One ``DataError`` naming every problem of the folder, if any."""
    if problems:
        raise DataError(f"WFDB folder {root} has {len(problems)} problem(s): {bulleted(problems)}.")


def unreadable(root: Path, names: list[str]) -> list[str]:
    """A problem line for each record of ``names`` that cannot be read."""
    problems = []
    for name in names:
        try:
            _read_record(root, name)
        except DataError as exc:
            problems.append(str(exc))
    return problems


def _read_record(root: Path, name: str) -> tuple[np.ndarray, float, list[str], np.ndarray, list[str]]:
    path = str(root / name)
    try:
        record = wfdb.rdrecord(path)
        annotation = wfdb.rdann(path, "atr")
    except Exception as exc:  # wfdb raises many kinds on malformed files
        raise DataError(f"WFDB record {root / name} (.hea/.dat/.atr) cannot be read: {type(exc).__name__}: {exc}") from exc
    signals = record.p_signal
    if signals is None or signals.ndim != 2 or not np.all(np.isfinite(signals)):
        raise DataError(f"WFDB record {root / name}.dat has missing or non-finite samples.")
    samples = np.asarray(annotation.sample)
    outside = np.flatnonzero((samples < 0) | (samples >= len(signals)))
    if len(outside):
        raise DataError(f"WFDB record {root / name}.atr has {len(outside)} annotation(s) outside the {len(signals)}-sample signal (the first, number {outside[0] + 1}, at sample {samples[outside[0]]}).")
    return signals, float(record.fs), list(record.sig_name), samples, list(annotation.symbol)


def _segment_record(root: Path, name: str, settings: Mapping[str, Any]) -> tuple[list[Segment], list[np.ndarray], list[str]]:
    signals, fs, leads, peaks, symbols = _read_record(root, name)
    if not fs > 2 * float(settings["high_hz"]):  # also NaN
        raise DataError(f"WFDB record {root / name}.hea gives a sampling frequency of {fs:g} Hz; the band-pass up to data.high_hz = {settings['high_hz']} Hz needs more than {2 * float(settings['high_hz']):g} Hz (MIT-BIH records are 360 Hz).")
    normal = frozenset(str(settings["normal_symbols"]))
    length = int(settings["length"])
    segments = segments_of(name, peaks, symbols, len(signals), length, normal)
    if not segments:
        return [], [], leads
    filtered = bandpass(signals, fs, float(settings["low_hz"]), float(settings["high_hz"]))
    step = int(settings["decimate"])  # the band-pass already removed what would alias
    return segments, [cut(filtered, s, length, str(settings["normalisation"]))[:, ::step] for s in segments], leads


def _beat_rows(segment: Segment, normal: str, step: int) -> np.ndarray:
    """(k, 3) rows of (start, end, is_abnormal) in the (decimated) segment's samples."""
    return np.array([(b.start // step, -(-b.end // step), b.symbol not in normal) for b in segment.beats], dtype=np.int64)


def _build(root: Path, names: list[str], settings: Mapping[str, Any], key: str) -> SegmentSet:
    segments: list[Segment] = []
    signals: list[np.ndarray] = []
    leads: list[str] = []
    problems: list[str] = []
    for name in progress.bar(names, desc="segmenting WFDB records (once)", unit="record"):
        try:
            found, cut_signals, leads = _segment_record(root, name, settings)
        except DataError as exc:
            problems.append(str(exc))
            continue
        segments += found
        signals += cut_signals
    raise_problems(root, problems)
    if not segments:
        raise DataError(f"{root}: no segment holds only normal and PVC beats or only normal and APB beats; is this an arrhythmia database with beat annotations (.atr)?")
    return SegmentSet(
        signals=np.stack(signals).astype(np.float32),
        labels=np.array([s.label for s in segments], dtype=np.int64),
        records=np.array([s.record for s in segments]),
        starts=np.array([s.start for s in segments], dtype=np.int64),
        beats=[_beat_rows(s, str(settings["normal_symbols"]), int(settings["decimate"])) for s in segments],
        content_hash=key,
        lead_names=leads,
    )


def _save(path: Path, data: SegmentSet) -> None:
    offsets = np.cumsum([0] + [len(b) for b in data.beats])
    arrays = {
        "signals": data.signals, "labels": data.labels, "records": data.records, "starts": data.starts,
        "beats": np.concatenate(data.beats), "beat_offsets": offsets, "lead_names": np.array(data.lead_names),
    }
    atomic.write_with(path, lambda handle: np.savez(handle, **arrays))


def _load(path: Path, key: str) -> SegmentSet:
    with np.load(path) as z:
        offsets = z["beat_offsets"]
        beats = [z["beats"][a:b] for a, b in zip(offsets[:-1], offsets[1:])]
        return SegmentSet(z["signals"], z["labels"], z["records"], z["starts"], beats, key, [str(x) for x in z["lead_names"]])


def read_segments(root: Path, settings: Mapping[str, Any]) -> SegmentSet:
    """Segments of every record in ``root`` (built once, then read from the cache),
    keeping every ``decimate``-th sample of the filtered signal."""
    if int(settings["decimate"]) < 1 or int(settings["length"]) % int(settings["decimate"]):
        raise ConfigError(f"data.decimate must be a whole number >= 1 dividing data.length ({settings['length']}), got {settings['decimate']!r}.")
    if not root.is_dir():
        raise DataError(f"--data-root {root} is not a folder; pass a PhysioNet MIT-BIH download (RECORDS, <name>.hea/.dat/.atr).")
    names = record_names(root)
    missing = missing_files(root, names)
    if missing:  # named together with every present record that cannot be read
        listed = "listed in RECORDS" if (root / "RECORDS").is_file() else "of the folder"
        complete = [n for n in names if not any(f.startswith(f"{n}.") for f in missing)]
        raise_problems(root, [f"{f} (a file of a record {listed}) is missing" for f in missing] + unreadable(root, complete))
    chosen = {k: settings[k] for k in SEGMENT_KEYS}
    key = content_hash(root, names, chosen)
    path = cache_dir() / "ecg" / f"segments-{key[:24]}.npz"
    if path.is_file():
        return _load(path, key)
    data = _build(root, names, chosen, key)
    _save(path, data)
    return data
