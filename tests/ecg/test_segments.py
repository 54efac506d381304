"""Segments built from real MIT-BIH records (section 4.1), filtering and
normalisation, and the splits."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from cardiobench.errors import DataError
from cardiobench_ecg.folder import read_segments
from cardiobench_ecg.segments import BEAT_SYMBOLS, bandpass, beats_of, cut, segments_of
from cardiobench_ecg.splits import cross_validation, patients_of
from tests.ecg.conftest import MITDB_FULL, MITDB_SAMPLE


def test_record_223_segments(ecg_settings):
    data = read_segments(MITDB_SAMPLE, ecg_settings)
    in_223 = data.records == "223"
    assert np.bincount(data.labels[in_223], minlength=2).tolist() == [29, 98]  # APB, PVC
    annotation = wfdb.rdann(str(MITDB_SAMPLE / "223"), "atr")
    peaks_223 = {int(p) for p, s in zip(annotation.sample, annotation.symbol) if s in BEAT_SYMBOLS}
    for i in np.flatnonzero(in_223):
        beats = data.beats[i]
        end = int(beats[:, 1].max())
        assert end <= 2000 and np.all(data.signals[i][:, end:] == 0)  # zero-padded after the last beat
        assert np.abs(data.signals[i][:, :end]).max() == pytest.approx(1.0)  # maxabs per lead
        assert data.starts[i] + end <= 650000
    # every beat of every 223 segment is one of 223's own annotated beats, none from 100 or 209
    windows = beats_of(annotation.sample, annotation.symbol, 650000)
    starts_223 = {w.start for w in windows}
    assert all(int(data.starts[i] + b[0]) in starts_223 for i in np.flatnonzero(in_223) for b in data.beats[i])
    assert peaks_223  # the annotation was read


def test_segments_keep_only_pure_classes():
    peaks = [100, 400, 700, 1000, 1300, 2500, 2800, 3100, 4200, 4500]
    symbols = ["N", "V", "N", "N", "N", "N", "A", "N", "L", "N"]
    segments = segments_of("x", peaks, symbols, 5000, 2000, frozenset("N"))
    assert [s.label for s in segments] == [1, 0]  # N+V -> PVC, N+A -> APB; the L segment is left out
    assert all(b.end - segments[0].beats[0].start <= 2000 for b in segments[0].beats)


@pytest.mark.skipif(not MITDB_FULL.is_dir(), reason="the complete MIT-BIH database is not beside the repository")
def test_full_database_counts_beside_the_papers():
    counts = np.zeros(2, dtype=int)
    for name in (MITDB_FULL / "RECORDS").read_text().split():
        annotation = wfdb.rdann(str(MITDB_FULL / name), "atr")
        for s in segments_of(name, annotation.sample, annotation.symbol, 650000, 2000, frozenset("N")):
            counts[s.label] += 1
    assert counts.tolist() == [465, 2643]  # the paper: 356 APB, 2627 PVC (docs/ecg.md explains the gap)


def test_bandpass_removes_drift_and_noise_keeps_the_qrs_band():
    fs, t = 360.0, np.arange(36000) / 360.0
    def gain(hz: float) -> float:
        x = np.sin(2 * np.pi * hz * t)[:, None]
        return float(np.std(bandpass(x, fs, 0.5, 40.0)[3600:-3600]) / np.std(x))
    assert gain(0.05) < 0.05 and gain(120.0) < 0.05
    assert gain(10.0) == pytest.approx(1.0, abs=0.02)


def test_normalisations_scale_each_lead_and_pad():
    from cardiobench_ecg.segments import Beat, Segment

    signal = np.stack([np.linspace(-3, 1, 1500), np.linspace(0, 50, 1500)], axis=1)
    segment = Segment("x", 100, 1100, 1, (Beat(0, 1000, 500, "V"),))
    scaled = cut(signal, segment, 2000, "maxabs")
    assert scaled.shape == (2, 2000) and np.abs(scaled[:, :1000]).max(axis=1) == pytest.approx([1.0, 1.0]) and not scaled[:, 1000:].any()
    z = cut(signal, segment, 2000, "zscore")
    assert z[:, :1000].mean(axis=1) == pytest.approx([0, 0], abs=1e-5) and z[:, :1000].std(axis=1) == pytest.approx([1, 1], abs=1e-4)
    with pytest.raises(ValueError):
        cut(signal, segment, 2000, "minmax")


def test_inter_patient_split_keeps_patients_apart():
    rng = np.random.default_rng(0)
    records = np.array([str(r) for r in rng.choice([100, 101, 102, 103, 104, 105, 106, 107, 201, 202], size=400)])
    labels = rng.integers(0, 2, size=400)
    patients = patients_of(records, [["201", "202"]])
    assert set(patients[records == "202"]) == {"201"}
    splits = cross_validation(labels, patients, "inter-patient", 3, 0.2, seed=1)
    assert sorted(np.concatenate([s.test for s in splits]).tolist()) == list(range(400))
    for s in splits:
        train, val, test = (set(patients[i]) for i in (s.train, s.val, s.test))
        assert not train & test and not val & test and not train & val
        assert len(s.train) + len(s.val) + len(s.test) == 400


def test_stratified_split_is_the_papers_and_keeps_class_shares():
    labels = np.array([0] * 60 + [1] * 440)
    splits = cross_validation(labels, np.zeros(500, dtype=str), "stratified", 5, 0.1, seed=0)
    assert [int(labels[s.test].sum()) for s in splits] == [88] * 5
    assert sorted(np.concatenate([s.test for s in splits]).tolist()) == list(range(500))
    for s in splits:
        assert not set(s.train) & set(s.test) and not set(s.val) & set(s.test)


def test_malformed_record_is_named(mitdb_copy, ecg_settings):
    (mitdb_copy / "209.hea").write_text("209 two 360\n")
    with pytest.raises(DataError, match=r"209.*cannot be read"):
        read_segments(mitdb_copy, ecg_settings)
    (mitdb_copy / "223.atr").unlink()
    with pytest.raises(DataError, match=r"223\.atr"):
        read_segments(mitdb_copy, ecg_settings)


def test_annotations_beyond_the_signal_and_other_bad_records_are_named_together(mitdb_copy, ecg_settings):
    """Found by the reader fuzz tests: a corrupted .atr pointing past the signal's end."""
    annotation = wfdb.rdann(str(mitdb_copy / "100"), "atr")
    length = wfdb.rdheader(str(mitdb_copy / "100")).sig_len
    samples = annotation.sample.copy()
    samples[-1] = length + 5000
    wfdb.wrann("100", "atr", samples, annotation.symbol, write_dir=str(mitdb_copy))
    (mitdb_copy / "209.hea").write_text("209 two 360\n")
    with pytest.raises(DataError, match=r"2 problem\(s\).*100\.atr has 1 annotation\(s\) outside the .*209.*cannot be read"):
        read_segments(mitdb_copy, ecg_settings)


def test_a_sampling_frequency_the_band_pass_cannot_use_is_named(mitdb_copy, ecg_settings):
    """Found by the reader fuzz tests: a header whose frequency field was mutated."""
    header = mitdb_copy / "223.hea"
    first, *rest = header.read_text().splitlines()
    fields = first.split()
    fields[2] = "1"
    header.write_text("\n".join([" ".join(fields), *rest]) + "\n")
    with pytest.raises(DataError, match=r"223\.hea gives a sampling frequency of 1 Hz"):
        read_segments(mitdb_copy, ecg_settings)
