"""Sweeps on submitit's local and debug executors, shared stages, and runs
sharing an empty cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardiobench import records
from tests.conftest import cli

GRID = """
task: lvef
models: [mc3, r3d]
seeds: [0, 1]
presets: [ci]
resources:
  cpus_per_run: 1
  array_parallelism: 2
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("sweep")
    sweep_file, runs = write(root / "grid.yaml", GRID), root / "runs"
    result = cli("sweep", sweep_file, "--executor", "local", "--runs-dir", runs)
    assert result.code == 0, result.out + result.err
    return sweep_file, runs, result.out


@pytest.mark.slow
def test_local_sweep_runs_every_point_to_a_record(grid: tuple[Path, Path, str]):
    _, runs, out = grid
    assert "4 done (4 run now), 0 failed" in out
    found = sorted(p.name for p in runs.iterdir() if (p / "record.json").is_file())
    assert found == sorted(f"lvef-{m}-ci-s{s}-{found[0].rsplit('-', 1)[1]}" for m in ("mc3", "r3d") for s in (0, 1))
    for name in found:
        record = records.read(runs / name / "record.json")
        assert records.problems(record) == [] and record["run_id"] == name and record["preset"]["name"] == "ci"


@pytest.mark.slow
def test_a_second_sweep_starts_nothing_and_status_shows_every_point(grid: tuple[Path, Path, str]):
    sweep_file, runs, _ = grid
    stamps = {p: p.stat().st_mtime_ns for p in runs.glob("*/record.json")}
    again = cli("sweep", sweep_file, "--executor", "local", "--runs-dir", runs)
    assert again.code == 0 and "4 done (0 run now)" in again.out
    assert {p: p.stat().st_mtime_ns for p in runs.glob("*/record.json")} == stamps
    status = cli("sweep", "status", sweep_file, "--runs-dir", runs)
    assert status.code == 0 and status.out.count("| done") == 4 and "4 point(s)" in status.out


@pytest.mark.slow
def test_submit_adds_the_records_to_a_leaderboard_once(grid: tuple[Path, Path, str], tmp_path: Path):
    sweep_file, runs, _ = grid
    board = tmp_path / "leaderboards"
    result = cli("sweep", sweep_file, "--runs-dir", runs, "--submit", "--root", board)
    assert result.code == 0, result.err
    assert "submitted 4 new record(s)" in result.out
    assert len(list((board / "lvef" / "records").glob("*.json"))) == 4 and list((board / "lvef").glob("*__ci__v*.md"))
    again = cli("sweep", sweep_file, "--runs-dir", runs, "--submit", "--root", board)
    assert again.code == 0 and "submitted 0 new record(s)" in again.out and "(4 already there)" in again.out


def test_a_failing_point_is_reported_with_its_log_and_the_others_finish(tmp_path: Path):
    sweep_file = write(tmp_path / "bad.yaml", "task: lvef\nmodels: mc3\npresets: ci\noverrides:\n  train.epochs: 1\n  train.optimizer: [adam, nosuch]\n")
    result = cli("sweep", sweep_file, "--executor", "debug", "--runs-dir", tmp_path / "runs")
    assert result.code == 2 and "1 done" in result.out and "1 failed" in result.out
    line = next(line for line in result.out.splitlines() if line.startswith("failed:"))
    assert "train.optimizer must be one of" in line
    log = Path(line.rsplit("(log: ", 1)[1].rstrip(")"))
    assert "train.optimizer must be one of" in log.read_text()
    status = cli("sweep", "status", sweep_file, "--runs-dir", tmp_path / "runs")
    assert status.code == 1 and "| failed" in status.out and "| done" in status.out


def test_an_unknown_model_fails_its_point_before_it_starts(tmp_path: Path):
    sweep_file = write(tmp_path / "names.yaml", "task: lvef\nmodels: [mc3, nosuchnet]\npresets: ci\noverrides: {train.epochs: 1}\n")
    result = cli("sweep", sweep_file, "--executor", "debug", "--runs-dir", tmp_path / "runs")
    assert result.code == 2 and "1 done (1 run now), 1 failed" in result.out and "nosuchnet" in result.out


def test_sweep_file_problems_are_named_at_once(tmp_path: Path):
    sweep_file = write(tmp_path / "typo.yaml", "task: lvef\nmodel: mc3\nseeds: [-1]\nresources: {gpu: 1}\n")
    result = cli("sweep", sweep_file, "--dry-run")
    assert result.code == 2
    for problem in ("unknown key 'model'", "models must be", "seeds must be", "unknown key resources.gpu"):
        assert problem in result.err


def test_dry_run_and_override_lists_expand_to_the_grid(tmp_path: Path):
    sweep_file = write(tmp_path / "grid.yaml", "task: myo-seg\nmodels: [unet]\nseeds: [0, 1, 2]\noverrides:\n  train.lr: [1.0e-3, 1.0e-4]\n  model.features: [[8, 8, 16, 32, 64, 8]]\n  model.nosuch: 1\n")
    result = cli("sweep", sweep_file, "--dry-run", "--runs-dir", tmp_path / "runs")
    assert result.code == 0 and "6 point(s)" in result.out and "6 invalid" in result.out and "model.nosuch" in result.out
    assert "model.features=[8, 8, 16, 32, 64, 8] model.nosuch=1 train.lr=0.0001" in result.out and not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_stca_points_share_one_segmenter_stage(tmp_path: Path):
    sweep_file = write(tmp_path / "stca.yaml", "task: lvef\nmodels: stca\npresets: ci\noverrides:\n  train.lr: [1.0e-3, 3.0e-4]\n")
    result = cli("sweep", sweep_file, "--executor", "debug", "--runs-dir", tmp_path / "runs")
    assert result.code == 0, result.out + result.err
    (stage,) = [p for p in (tmp_path / "runs" / "stages").iterdir() if p.is_dir()]
    stages = [records.read(p / "record.json")["stages"]["segmenter"] for p in sorted((tmp_path / "runs").glob("lvef-stca-*/"))]
    assert [s["run_dir"] for s in stages] == [f"<runs>/stages/{stage.name}"] * 2
    assert sorted(s["trained_in_this_run"] for s in stages) == [False, True]


@pytest.mark.slow
def test_two_runs_on_one_empty_cache_predict_what_a_lone_run_predicts(tmp_path: Path):
    args = [sys.executable, "-m", "cardiobench", "run", "--task", "lvef", "--model", "mc3", "--preset", "ci", "--no-progress"]
    shared = {**os.environ, "CARDIOBENCH_CACHE": str(tmp_path / "shared-cache")}
    together = [subprocess.Popen([*args, "--runs-dir", str(tmp_path / f"runs-{i}")], env=shared, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for process in together:
        assert process.wait() == 0, process.stderr.read()
    lone = subprocess.run([*args, "--runs-dir", str(tmp_path / "lone")], env={**shared, "CARDIOBENCH_CACHE": str(tmp_path / "lone-cache")}, capture_output=True, text=True)
    assert lone.returncode == 0, lone.stderr
    predictions = [next((tmp_path / name).glob("*/predictions.csv")).read_bytes() for name in ("runs-0", "runs-1", "lone")]
    assert predictions[0] == predictions[1] == predictions[2]
