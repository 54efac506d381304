"""Robustness sweeps and class activation maps on finished ci runs, and every
lvef model through ``cardiobench run --preset ci``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from cardiobench import records
from cardiobench_echo.echonet.clips import zero_pixels
from tests.conftest import cli

MODELS = ["r2plus1d", "mc3", "r3d", "r2plus1d-acr", "tca", "stca", "se", "me"]


@pytest.fixture(scope="module")
def ci_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    runs = tmp_path_factory.mktemp("ci-runs")
    out = {}
    for model in MODELS:
        result = cli("run", "--task", "lvef", "--model", model, "--preset", "ci", "--runs-dir", runs, "--no-progress")
        assert result.code == 0, f"{model}: {result.err}"
        out[model] = next(p for p in sorted(runs.iterdir()) if p.name.endswith(f"-lvef-{model}-s0"))
    return out


def segmenter_dir(ci_runs: dict[str, Path]) -> Path:
    """The STCA run's segmenter stage (its record names it relative to the runs folder)."""
    named = records.read(ci_runs["stca"] / "record.json")["stages"]["segmenter"]["run_dir"]
    return Path(named.replace("<runs>", str(ci_runs["stca"].parent)))


@pytest.mark.parametrize("model", MODELS)
def test_every_lvef_model_runs_the_ci_preset(ci_runs: dict[str, Path], model: str):
    record = records.read(ci_runs[model] / "record.json")
    assert records.problems(record) == [] and record["model"]["name"] == model
    assert {"mae", "rmse", "r2"} <= set(record["metrics"])


def test_stca_records_its_segmenter_stage(ci_runs: dict[str, Path]):
    record = records.read(ci_runs["stca"] / "record.json")
    stage = record["stages"]["segmenter"]
    stage_dir = segmenter_dir(ci_runs)
    assert stage["trained_in_this_run"] and stage["run_dir"].startswith("<runs>/stages/lvef-seg-deeplabv3-ci-s0-") and stage_dir.is_dir() and stage["backbone"] == "mobilenet_v3_large"
    assert stage["pseudo_labels"].startswith("<cache>/pseudo-labels/") and record["config"]["aux"]["segmenter"] == stage["run_dir"]
    saved = (ci_runs["stca"] / "config.yaml").read_text()
    assert f"segmenter: {stage_dir.resolve()}" in saved  # the run's own config names it in full, so a resume reuses it
    seg = records.read(stage_dir / "record.json")
    assert seg["task"]["name"] == "lvef-seg" and seg["dataset"]["fingerprint"] == record["dataset"]["fingerprint"]
    assert {"dice", "dice/ed", "dice/es"} <= set(seg["metrics"])


def test_pseudo_labels_of_another_segmenter_with_the_same_name_are_not_reused(ci_runs: dict[str, Path], tmp_path: Path, registry):
    """A stage of the same name trained elsewhere (another runs folder, another
    preset version) has other weights: its masks get their own cache folder."""
    from cardiobench.engine import checkpoint
    from cardiobench_echo.pseudo_labels import Segmenter, pseudo_label_folder

    stage_dir = segmenter_dir(ci_runs)
    values = records.read(ci_runs["stca"] / "record.json")["config"]
    fingerprint = records.read(stage_dir / "record.json")["dataset"]["fingerprint"]
    twin = tmp_path / stage_dir.name
    shutil.copytree(stage_dir, twin)
    weights = twin / "checkpoints" / "official" / "best.pt"
    state = checkpoint.load(weights)
    first = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][first] = state["model"][first] + 1e-3
    torch.save(state, weights)
    here, there = Segmenter(stage_dir, registry, fingerprint), Segmenter(twin, registry, fingerprint)
    assert here.record["run_id"] == there.record["run_id"]
    assert pseudo_label_folder(here, values, 16) != pseudo_label_folder(there, values, 16)
    assert pseudo_label_folder(here, values, 16) == pseudo_label_folder(Segmenter(stage_dir, registry, fingerprint), values, 16)


def test_a_named_segmenter_is_reused_not_retrained(ci_runs: dict[str, Path], tmp_path: Path):
    segmenter = segmenter_dir(ci_runs)
    result = cli("run", "--task", "lvef", "--model", "stca", "--preset", "ci", "--runs-dir", tmp_path, "--no-progress", "--set", f"aux.segmenter={segmenter}")
    assert result.code == 0, result.err
    assert [p.name.split("-", 2)[-1] for p in tmp_path.iterdir()] == ["lvef-stca-s0"]  # no new segmenter run
    assert not records.read(next(tmp_path.iterdir()) / "record.json")["stages"]["segmenter"]["trained_in_this_run"]


def test_a_segmenter_of_another_task_is_refused(ci_runs: dict[str, Path], tmp_path: Path):
    result = cli("run", "--task", "lvef", "--model", "stca", "--preset", "ci", "--runs-dir", tmp_path, "--set", f"aux.segmenter={ci_runs['tca']}")
    assert result.code == 2 and "not a 'lvef-seg' run" in result.err


def test_zero_pixels_replaces_that_share_of_pixels():
    frames = np.full((6, 40, 40, 3), 200, np.uint8)
    out = zero_pixels(0.3)(frames, np.random.default_rng(0))
    zero = (out == 0).all(axis=-1)
    assert abs(zero.mean() - 0.3) < 0.02 and ((out == 0) == zero[..., None]).all()
    assert (frames == 200).all(), "the cached frames are not modified"


def test_robustness_sweep_writes_table_and_curve(ci_runs: dict[str, Path]):
    run_dir = ci_runs["tca"]
    result = cli("eval", run_dir, "--corrupt", "zero-pixels", "--levels", "0,0.5", "--no-progress")
    assert result.code == 0, result.err
    table = pl.read_csv(run_dir / "eval" / "robustness-zero-pixels.csv")
    assert table["level"].to_list() == [0.0, 0.5] and {"mae", "rmse", "r2"} <= set(table.columns)
    record = records.read(run_dir / "record.json")
    assert np.isclose(table["mae"][0], record["metrics"]["mae"]["value"])  # level 0 reproduces the run
    assert table["mae"][1] != table["mae"][0]
    assert (run_dir / "eval" / "robustness-zero-pixels.png").stat().st_size > 0


def test_cam_overlays_for_acr_models_only(ci_runs: dict[str, Path]):
    result = cli("eval", ci_runs["stca"], "--cam", "3", "--no-progress")
    assert result.code == 0, result.err
    assert len(list((ci_runs["stca"] / "eval" / "cam").glob("*.png"))) == 3
    refused = cli("eval", ci_runs["r2plus1d"], "--cam", "2")
    assert refused.code == 2 and "no class activation maps" in refused.err


def test_eval_errors(ci_runs: dict[str, Path], tmp_path: Path):
    assert "needs --corrupt" in cli("eval", ci_runs["tca"]).err
    assert "not a finished run" in cli("eval", tmp_path, "--cam", "1").err
    unknown = cli("eval", ci_runs["tca"], "--corrupt", "gaussian", "--levels", "0.1")
    assert unknown.code == 2 and "zero-pixels" in unknown.err
