"""The fetal-planes task through the CLI: a ci run's record (macro metrics,
machine subsets, per-class table, timing), attention maps and localisation,
data check and synth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from cardiobench_fetal.planes import layout
from tests.conftest import cli

RUN = ("run", "--task", "fetal-planes", "--preset", "ci", "--no-progress")


def test_ag_sononet_run_eval_attention_and_localise(tmp_path: Path):
    result = cli(*RUN, "--model", "ag-sononet-8", "--runs-dir", tmp_path)
    assert result.code == 0, result.err
    (run_dir,) = list(tmp_path.iterdir())
    record = json.loads((run_dir / "record.json").read_text())
    items = record["test_items"]
    predicted = np.asarray(items["y_pred"]).argmax(1)
    assert record["metrics"]["f1-macro"]["value"] == f1_score(items["y_true"], predicted, average="macro", zero_division=0)
    assert {"accuracy/voluson-s10", "f1-macro/aloka"} <= set(record["metrics"])
    assert list(record["per_class"]) == list(layout.PLANES)
    assert sum(c["support"] for c in record["per_class"].values()) == len(items["ids"])
    assert record["analysis"]["forward_ms_per_image"] > 0 and record["analysis"]["backward_ms_per_image"] > 0
    assert "per class (pooled test predictions)" in result.out

    shown = cli("eval", run_dir, "--attention", "3", "--localise", "--no-progress")
    assert shown.code == 0, shown.err
    assert len(list((run_dir / "eval" / "attention").glob("*.png"))) == 3
    table = (run_dir / "eval" / "localisation.csv").read_text()
    assert table.startswith("class,n,iou_mean,iou_sd,correct,relative") and "Other" not in table


def test_sononet_has_no_attention_maps(tmp_path: Path):
    assert cli(*RUN, "--model", "sononet-8", "--runs-dir", tmp_path).code == 0
    (run_dir,) = list(tmp_path.iterdir())
    result = cli("eval", run_dir, "--attention", "2")
    assert result.code != 0 and "has no attention maps" in result.err


def test_data_check_and_synth(tmp_path: Path, planes_folder: Path):
    ok = cli("data", "check", "--task", "fetal-planes", "--data-root", planes_folder)
    assert ok.code == 0 and "48 rows, every image decodes" in ok.out
    out = tmp_path / "synth"
    assert cli("data", "synth", "fetal-planes-db", "--out", out, "--n", "10").code == 0
    assert len(list((out / "Images").glob("*.png"))) == 10 and (out / layout.CSV_NAME).is_file()
    (out / "Images" / next(iter(sorted(p.name for p in (out / "Images").glob("*.png"))))).write_bytes(b"")
    bad = cli("data", "check", "--task", "fetal-planes", "--data-root", out)
    assert bad.code != 0 and "cannot be decoded" in bad.err
