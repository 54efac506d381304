"""The cmr tasks through the CLI: a multi-task ci run scored on both tasks,
patient-level AUC, CAMs, data check and synth, and the leaderboard's joint
rows and audit footnotes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cardiobench.leaderboard import build as build_tables
from cardiobench.leaderboard.store import Store
from tests.conftest import cli


def test_multi_task_run_records_both_tasks_and_patient_auc(tmp_path: Path, registry):
    result = cli("run", "--task", "dcm-cls", "--model", "mtl-attn", "--preset", "ci", "--no-progress", "--runs-dir", tmp_path / "runs")
    assert result.code == 0, result.err
    (run_dir,) = list((tmp_path / "runs").iterdir())
    record = json.loads((run_dir / "record.json").read_text())
    assert set(record["joint"]) == {"myo-seg"}
    joint = record["joint"]["myo-seg"]
    assert set(joint["metrics"]) == {"dice", "jaccard", "pixel-auc", "f1-per-slice", "hd95"}
    assert [f["n_test"] for f in joint["folds"]] == [f["n_test"] for f in record["folds"]]
    assert not (run_dir / "predictions.npz").exists(), "the run's own predictions are class scores"
    assert 0 <= record["metrics"]["auc/patient"]["value"] <= 1 and "accuracy/patient" in record["metrics"]
    assert "joint task myo-seg" in result.out
    assert (run_dir / "plots" / "roc.png").is_file() and (run_dir / "plots" / "myo-seg" / "dice_per_slice.png").is_file()
    assert (run_dir / "plots" / "fold1" / "mask_overlays.png").is_file()

    cams = cli("eval", run_dir, "--cam", "2", "--no-progress")
    assert cams.code == 0, cams.err
    assert len(list((run_dir / "eval" / "cam").glob("*.png"))) == 2

    # the leaderboard shows the run in the dcm-cls table and, from its other head, in the myo-seg table
    store = Store(tmp_path / "boards")
    assert cli("leaderboard", "submit", run_dir, "--root", store.root).code == 0
    built = build_tables(store, registry)
    seg_table = next(text for path, text in built.files.items() if path.parent.name == "myo-seg" and path.suffix == ".md")
    assert "| mtl-attn" in seg_table and "is scored by its myo-seg head in its `dcm-cls` runs" in seg_table
    cls_table = next(text for path, text in built.files.items() if path.parent.name == "dcm-cls" and path.suffix == ".md")
    assert "Audit (`cardiobench audit`)" in cls_table and "ResNet101 (paper 1 Table 3): accuracy 0.9431" in cls_table


def test_unet_segments_on_a_data_root(tmp_path: Path, acdc_folder: Path):
    result = cli("run", "--task", "myo-seg", "--model", "unet", "--preset", "ci", "--no-progress", "--runs-dir", tmp_path, "--data-root", acdc_folder, "--set", "data.folds=2")
    assert result.code == 0, result.err
    (run_dir,) = list(tmp_path.iterdir())
    record = json.loads((run_dir / "record.json").read_text())
    assert record["request"]["data_root"] and "joint" not in record
    saved = np.load(run_dir / "predictions.npz")
    assert saved["y_pred"].shape[1:] == (32, 32) and len(saved["ids"]) == sum(f["n_test"] for f in record["folds"])


def test_data_check_synth_and_audit(tmp_path: Path, acdc_folder: Path):
    ok = cli("data", "check", "--task", "myo-seg", "--data-root", acdc_folder)
    assert ok.code == 0 and "10 patients, every ED/ES frame and _gt readable" in ok.out
    out = tmp_path / "synth"
    assert cli("data", "synth", "acdc", "--out", out, "--n", "5", "--seed", "1").code == 0
    assert len(list((out / "training").glob("patient*/Info.cfg"))) == 5 and (out / "MANDATORY_CITATION.md").is_file()
    (next((out / "training").glob("patient*")) / "Info.cfg").unlink()
    bad = cli("data", "check", "--task", "dcm-cls", "--data-root", out)
    assert bad.code != 0 and "no Info.cfg" in bad.err
    shown = cli("audit", "--task", "dcm-cls")
    assert shown.code == 0 and "| ACNet Table II  | VGG16 " in shown.out and "U-Net" not in shown.out
