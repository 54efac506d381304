"""The ecg-pvc-apb task through the CLI: real records, synthetic records,
records with per-fold metrics and attention analysis, plots, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.conftest import cli
from tests.ecg.conftest import MITDB_SAMPLE

RUN = ("run", "--task", "ecg-pvc-apb", "--preset", "ci", "--no-progress")


def _record(runs: Path) -> dict:
    (run_dir,) = list(runs.iterdir())
    return json.loads((run_dir / "record.json").read_text()) | {"_dir": str(run_dir)}


def test_joint_model_on_real_records_writes_folds_analysis_and_plots(tmp_path: Path):
    result = cli(*RUN, "--model", "ecg-joint-l2", "--data-root", MITDB_SAMPLE, "--runs-dir", tmp_path)
    assert result.code == 0, result.err
    assert "segments: PVC 100, APB 197" in result.out and "PVC 2627" in result.out
    record = _record(tmp_path)
    assert record["dataset"]["info"]["records_with_segments"] == 3 and len(record["folds"]) == 2
    for name in ("auc", "accuracy", "sensitivity", "specificity"):
        per_fold = [f["metrics"][name]["value"] for f in record["folds"]]
        assert record["metrics"][name]["value"] == np.mean(per_fold)
    assert set(record["analysis"]) >= {"attention_mass_abnormal", "attention_lift", "peak_in_abnormal", "abnormal_beats_above_normal"}
    assert all("analysis" in f for f in record["folds"])
    plots = Path(record["_dir"]) / "plots"
    assert (plots / "roc.png").stat().st_size > 0 and (plots / "fold1" / "attention_examples.png").stat().st_size > 0
    assert len(record["test_items"]["ids"]) == 297 and all(":" in i for i in record["test_items"]["ids"])


def test_default_run_uses_generated_records_and_baselines_have_no_analysis(tmp_path: Path):
    result = cli(*RUN, "--model", "ecg-classifier", "--runs-dir", tmp_path)
    assert result.code == 0, result.err
    record = _record(tmp_path)
    assert record["dataset"]["source"].startswith("synthetic MIT-BIH-format records") and "analysis" not in record
    assert record["reference_baseline"]["name"] == "training class prior"


def test_synth_and_check(tmp_path: Path):
    out = tmp_path / "synthetic"
    assert cli("data", "synth", "ecg", "--out", out, "--n", 4).code == 0
    assert sorted(p.name for p in out.glob("*.atr")) == ["100.atr", "101.atr", "102.atr", "103.atr"]
    checked = cli("data", "check", "--task", "ecg-pvc-apb", "--data-root", out)
    assert checked.code == 0 and "4 records, all readable" in checked.out


def test_bad_input_gets_one_paragraph(tmp_path: Path, mitdb_copy: Path):
    (mitdb_copy / "100.dat").write_bytes(b"\x00\x01")
    result = cli(*RUN, "--model", "ecg-joint-l2", "--data-root", mitdb_copy, "--runs-dir", tmp_path / "runs")
    assert result.code == 2 and "100" in result.err and "Traceback" not in result.err
    wrong_pooling = cli(*RUN, "--model", "ecg-joint-l2", "--set", "model.pooling=max", "--runs-dir", tmp_path / "runs2")
    assert wrong_pooling.code == 2 and "ecg-joint-max" in wrong_pooling.err
    bad_split = cli(*RUN, "--model", "ecg-classifier", "--set", "data.split=random", "--runs-dir", tmp_path / "runs3")
    assert bad_split.code == 2 and "data.split" in bad_split.err
