"""Synthetic two-lead ECG records in MIT-BIH's WFDB format (.hea, .dat in
format 212 at 360 Hz, .atr beat annotations), for runs without the real data.

Each beat is a sum of Gaussian waves (P, Q, R, S, T), the shape model of
McSharry et al. (IEEE TBME 50(3), 2003), on a slowly varying rhythm:
- normal (``N``): P wave, narrow QRS, upright T;
- PVC (``V``): early (coupling 0.6 RR), no P wave, wide tall QRS, T opposite
  to the QRS, then a full compensatory pause (the two intervals sum to 2 RR);
- APB (``A``): early (coupling 0.7 RR), inverted flat P wave, normal QRS, no
  compensatory pause.
Baseline wander, mains hum and white noise are added so the filters have work.
Records differ in rate, amplitude, QRS width and in which ectopic beats they
carry (PVC-prone, APB-prone, mixed, normal).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb

GENERATOR_VERSION = 1
FS = 360
LEADS = ("MLII", "V1")

# (centre s relative to R, amplitude mV per lead, width s) per wave
NORMAL = {"P": (-0.20, (0.15, 0.08), 0.025), "Q": (-0.03, (-0.12, 0.0), 0.010), "R": (0.0, (1.2, 0.35), 0.011), "S": (0.03, (-0.25, -0.9), 0.012), "T": (0.28, (0.30, 0.12), 0.050)}
PVC = {"R": (0.0, (1.6, -1.1), 0.040), "S": (0.08, (-0.5, 0.4), 0.040), "T": (0.34, (-0.55, 0.35), 0.070)}
APB = {**NORMAL, "P": (-0.16, (-0.10, -0.06), 0.020)}
MORPHOLOGY = {"N": NORMAL, "V": PVC, "A": APB}
KINDS = {"pvc": (0.08, 0.0), "apb": (0.0, 0.08), "mixed": (0.04, 0.04), "normal": (0.0, 0.0)}  # (P(PVC), P(APB)) per beat


def rhythm(rng: np.random.Generator, seconds: float, p_pvc: float, p_apb: float) -> tuple[np.ndarray, list[str]]:
    """R-peak times (s) and beat symbols."""
    rr0 = 60.0 / rng.uniform(60, 95)
    t, times, symbols = 0.6, [], []
    phase = rng.uniform(0, 2 * np.pi)
    pause = 0.0
    while t < seconds - 1.0:
        rr = rr0 * (1 + 0.04 * np.sin(2 * np.pi * 0.25 * t + phase) + rng.normal(0, 0.015))
        draw = rng.random()
        if pause == 0.0 and symbols and symbols[-1] == "N" and draw < p_pvc:
            symbol, step, pause = "V", 0.6 * rr, 1.4 * rr
        elif pause == 0.0 and symbols and symbols[-1] == "N" and draw < p_pvc + p_apb:
            symbol, step, pause = "A", 0.7 * rr, rr
        else:
            symbol, step, pause = "N", pause or rr, 0.0
        t += step
        times.append(t)
        symbols.append(symbol)
    return np.array(times), symbols


def waves(rng: np.random.Generator, n_samples: int, times: np.ndarray, symbols: list[str]) -> np.ndarray:
    """(n_samples, 2) millivolts: the beats, each wave jittered per record."""
    gain = rng.uniform(0.7, 1.3, size=2)
    widen = rng.uniform(0.85, 1.15)
    out = np.zeros((n_samples, 2))
    half = int(0.6 * FS)
    for t, symbol in zip(times, symbols):
        centre = int(round(t * FS))
        lo, hi = max(0, centre - half), min(n_samples, centre + half)
        s = (np.arange(lo, hi) - centre) / FS
        for offset, amplitudes, width in MORPHOLOGY[symbol].values():
            shape = np.exp(-0.5 * ((s - offset) / (width * widen)) ** 2)
            out[lo:hi] += shape[:, None] * (np.array(amplitudes) * gain)[None, :]
    return out


def noise(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    t = np.arange(n_samples) / FS
    wander = 0.15 * np.sin(2 * np.pi * rng.uniform(0.15, 0.35) * t + rng.uniform(0, 6.3)) + 0.05 * np.sin(2 * np.pi * 0.05 * t)
    mains = 0.01 * np.sin(2 * np.pi * 60 * t)
    return (wander + mains)[:, None] + rng.normal(0, 0.02, size=(n_samples, 2))


def write_record(out: Path, name: str, rng: np.random.Generator, minutes: float, kind: str) -> None:
    n_samples = int(minutes * 60 * FS)
    times, symbols = rhythm(rng, n_samples / FS, *KINDS[kind])
    signal = np.clip(waves(rng, n_samples, times, symbols) + noise(rng, n_samples), -5.0, 5.0)
    wfdb.wrsamp(
        name, fs=FS, units=["mV", "mV"], sig_name=list(LEADS), p_signal=signal, fmt=["212", "212"],
        adc_gain=[200.0, 200.0], baseline=[1024, 1024], comments=[f"cardiobench synthetic record ({kind}), generator v{GENERATOR_VERSION}"], write_dir=str(out),
    )
    peaks = np.round(times * FS).astype(np.int64)
    samples = np.concatenate([[max(0, int(peaks[0]) - 100)], peaks])  # a rhythm annotation first, as in MIT-BIH
    wfdb.wrann(name, "atr", samples, symbol=["+", *symbols], aux_note=["(N", *[""] * len(symbols)], write_dir=str(out))


def write(out: Path, n_records: int, seed: int, minutes: float = 5.0) -> None:
    """``n_records`` records named 100, 101, ... and a RECORDS list into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    kinds = list(KINDS)
    names = [str(100 + i) for i in range(n_records)]
    for i, name in enumerate(names):
        rng = np.random.default_rng([seed, i])
        write_record(out, name, rng, minutes, kinds[i % len(kinds)])
    (out / "RECORDS").write_text("".join(f"{n}\n" for n in names))
