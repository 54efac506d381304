"""ECG segments as the paper builds them from MIT-BIH (section 4.1).

Beats are taken in order from one record; a beat spans from halfway to the
previous R peak to halfway to the next. Beats are added to a segment until the
next would push it past ``length`` samples, then the segment is zero-padded to
``length``. A segment whose beats are only normal and PVC is class PVC; only
normal and atrial premature, class APB; every other segment is left out.
Signals are band-pass filtered (baseline drift and high-frequency noise) over
the whole record first, and each lead of a segment is scaled on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal

BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")  # WFDB's beat annotation codes
PVC, APB = "V", "A"
CLASSES = ("APB", "PVC")  # label 1 is PVC, the positive class of sensitivity and specificity


@dataclass(frozen=True)
class Beat:
    start: int
    end: int
    peak: int
    symbol: str


@dataclass(frozen=True)
class Segment:
    record: str
    start: int
    end: int
    label: int
    beats: tuple[Beat, ...]  # positions relative to the segment start


def beats_of(peaks: Sequence[int], symbols: Sequence[str], n_samples: int) -> list[Beat]:
    """Beat windows from annotated R peaks (non-beat annotations are skipped)."""
    kept = [(int(p), s) for p, s in zip(peaks, symbols) if s in BEAT_SYMBOLS]
    out = []
    for i, (peak, symbol) in enumerate(kept):
        prev_peak = kept[i - 1][0] if i > 0 else None
        next_peak = kept[i + 1][0] if i + 1 < len(kept) else None
        start = (prev_peak + peak) // 2 if prev_peak is not None else max(0, peak - ((next_peak - peak) // 2 if next_peak else 0))
        end = (peak + next_peak) // 2 if next_peak is not None else min(n_samples, peak + (peak - prev_peak) // 2 if prev_peak else n_samples)
        out.append(Beat(start, end, peak, symbol))
    return out


def group_beats(beats: Sequence[Beat], length: int) -> list[list[Beat]]:
    """Consecutive beats, a group closing when the next beat would pass ``length``;
    a single beat longer than ``length`` (a long pause) stands alone and is dropped."""
    groups: list[list[Beat]] = []
    current: list[Beat] = []
    for beat in beats:
        if current and beat.end - current[0].start > length:
            groups.append(current)
            current = []
        if beat.end - beat.start > length:
            continue
        current.append(beat)
    if current:
        groups.append(current)
    return groups


def label_of(symbols: set[str], normal: frozenset[str]) -> int | None:
    """1 (PVC) for normal + PVC beats, 0 (APB) for normal + APB, else None."""
    if PVC in symbols and symbols <= normal | {PVC}:
        return 1
    if APB in symbols and symbols <= normal | {APB}:
        return 0
    return None


def segments_of(record: str, peaks: Sequence[int], symbols: Sequence[str], n_samples: int, length: int, normal: frozenset[str]) -> list[Segment]:
    out = []
    for group in group_beats(beats_of(peaks, symbols, n_samples), length):
        label = label_of({b.symbol for b in group}, normal)
        if label is None:
            continue
        start = group[0].start
        relative = tuple(Beat(b.start - start, b.end - start, b.peak - start, b.symbol) for b in group)
        out.append(Segment(record, start, group[-1].end, label, relative))
    return out


def bandpass(signals: np.ndarray, fs: float, low_hz: float, high_hz: float, order: int = 3) -> np.ndarray:
    """Zero-phase Butterworth band-pass of (samples, leads): removes baseline
    drift below ``low_hz`` and noise above ``high_hz``."""
    sos = signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, signals, axis=0)


def cut(filtered: np.ndarray, segment: Segment, length: int, normalisation: str) -> np.ndarray:
    """(leads, length) float32: the segment's samples, each lead scaled, then zero-padded."""
    part = filtered[segment.start : segment.end].T.astype(np.float64)
    if normalisation == "maxabs":  # the same voltage range for every lead, polarity kept
        part = part / np.maximum(np.abs(part).max(axis=1, keepdims=True), 1e-8)
    elif normalisation == "zscore":
        part = (part - part.mean(axis=1, keepdims=True)) / np.maximum(part.std(axis=1, keepdims=True), 1e-8)
    else:
        raise ValueError(f"unknown normalisation {normalisation!r}")
    out = np.zeros((part.shape[0], length), dtype=np.float32)
    out[:, : part.shape[1]] = part
    return out
