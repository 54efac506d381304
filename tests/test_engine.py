"""Determinism, checkpointing and resume on the CPU, end to end through the CLI."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from cardiobench import records
from cardiobench.engine import checkpoint
from tests.conftest import cli

ARGS = ("run", "--task", "lvef", "--model", "r2plus1d", "--preset", "ci", "--set", "train.epochs=4", "--no-progress")


def only_run(runs: Path) -> Path:
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    return run_dir


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("runs-a")
    result = cli(*ARGS, "--runs-dir", runs)
    assert result.code == 0, result.err
    return only_run(runs)


def test_run_directory_contents(uninterrupted: Path):
    for name in ("run.json", "config.yaml", "record.json", "predictions.csv", "log.txt", "plots/scatter.png", "plots/bland_altman.png", "checkpoints/official/best.pt"):
        assert (uninterrupted / name).exists(), name
    record = records.read(uninterrupted / "record.json")
    assert records.problems(record) == []
    assert record["preset"]["name"] == "ci" and record["seed"] == 0 and record["config"]["train"]["epochs"] == 4
    assert len(record["dataset"]["fingerprint"]) == 64 and record["model"]["parameters"] > 1e7
    for metric in ("mae", "rmse", "r2"):
        m = record["metrics"][metric]
        assert m["ci_low"] <= m["value"] <= m["ci_high"]
    assert record["reference_baseline"]["name"] == "training-mean EF"
    env = record["environment"]
    assert env["torch"] == torch.__version__ and env["plugins"]["echo"] and env["device"] == "cpu"
    assert record["timing"]["train_items_per_second"] > 0
    log = (uninterrupted / "log.txt").read_text()
    assert "preset: ci (v3)" in log and "wall time per phase" in log
    assert f"numerics: portable ({env['numerics']['key']}): ATen DEFAULT, oneDNN off" in log and env["numerics"]["threads"] == 2
    phases = {p["phase"]: p for p in record["timing"]["phases"]}
    assert {"data", "train", "test", "epoch 1", "epoch 4"} <= set(phases) and phases["epoch 1"]["depth"] == phases["train"]["depth"] + 1
    assert sum(p["seconds"] for name, p in phases.items() if name.startswith("epoch ")) <= phases["train"]["seconds"] <= record["timing"]["wall_seconds"]
    text = (uninterrupted / "record.json").read_text()
    assert '"/' not in text and str(uninterrupted.parent) not in text, "records carry no absolute local paths"
    assert "<cache>/synthetic/echonet-" in record["dataset"]["source"]


def test_run_directory_files_take_the_users_umask(uninterrupted: Path):
    """record.json, predictions.csv, config.yaml, run.json, plots and checkpoints
    are written through temporary files, yet read like plain ``open`` output."""
    umask = os.umask(0o022)
    os.umask(umask)
    modes = {p.relative_to(uninterrupted).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in uninterrupted.rglob("*") if not p.name.endswith(".lock")}
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != (0o777 if (uninterrupted / name).is_dir() else 0o666) & ~umask}
    assert {"record.json", "predictions.csv", "config.yaml", "run.json", "plots/scatter.png"} <= set(modes) and not wrong


def test_checkpoints_load_with_weights_only(uninterrupted: Path):
    state = torch.load(uninterrupted / "checkpoints" / "official" / "best.pt", weights_only=True)
    record = records.read(uninterrupted / "record.json")
    assert state["epoch"] + 1 == record["folds"][0]["best_epoch"] and "model" in state
    assert not (uninterrupted / "checkpoints" / "official" / "last.pt").exists(), "finished runs drop the resume state"


def test_same_seed_gives_identical_predictions(uninterrupted: Path, tmp_path: Path):
    result = cli(*ARGS, "--runs-dir", tmp_path)
    assert result.code == 0, result.err
    again = only_run(tmp_path)
    assert (again / "predictions.csv").read_bytes() == (uninterrupted / "predictions.csv").read_bytes()
    assert records.read(again / "record.json")["metrics"] == records.read(uninterrupted / "record.json")["metrics"]


def signal_after_first_checkpoint(runs: Path, sig: signal.Signals) -> subprocess.Popen:
    """Start the ci run under ``runs`` and send ``sig`` once its first epoch checkpoint exists."""
    process = subprocess.Popen([sys.executable, "-m", "cardiobench", *ARGS, "--runs-dir", str(runs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if list(runs.glob("*/checkpoints/official/last.pt")):
            process.send_signal(sig)
            break
        time.sleep(0.01)
    return process


def test_killed_run_resumes_to_the_uninterrupted_result(uninterrupted: Path, tmp_path: Path):
    process = signal_after_first_checkpoint(tmp_path, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run must be killed mid-training"
    run_dir = only_run(tmp_path)
    assert not (run_dir / "record.json").exists()
    assert checkpoint.load(run_dir / "checkpoints" / "official" / "last.pt")["epoch"] < 3

    result = cli("run", "--resume", run_dir, "--no-progress")
    assert result.code == 0, result.err
    assert "resumed after epoch" in (run_dir / "log.txt").read_text()
    assert (run_dir / "predictions.csv").read_bytes() == (uninterrupted / "predictions.csv").read_bytes()
    assert records.read(run_dir / "record.json")["metrics"] == records.read(uninterrupted / "record.json")["metrics"]
    again = cli("run", "--resume", run_dir)
    assert again.code == 2 and "already finished" in again.err


def test_warm_start_then_step_schedule():
    from cardiobench.engine import optim

    model = torch.nn.Linear(2, 2)
    train = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4, "scheduler": "step", "epochs": 12, "lr_step_epochs": 5, "lr_gamma": 0.1, "warmup_epochs": 2, "warmup_lr": 0.01}
    opt = optim.build(model, train, 10)
    assert opt.optimizer.param_groups[0]["nesterov"]
    lrs = []
    for _ in range(12):
        lrs.append(opt.optimizer.param_groups[0]["lr"])
        opt.scheduler.step()
    assert np.allclose(lrs, [0.01, 0.01, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001])


def test_weighted_sampling_is_seeded_per_epoch_and_follows_the_weights():
    from cardiobench.engine.loop import EpochLoader

    class Items(torch.utils.data.Dataset):
        sample_weights = np.array([1.0] * 10 + [9.0])

        def __len__(self) -> int:
            return 11

        def __getitem__(self, i: int) -> int:
            return i

    loader = EpochLoader(Items(), 11, True, 0, seed=7)
    first = torch.cat(list(loader.epoch(0))).tolist()
    assert first == torch.cat(list(loader.epoch(0))).tolist() and first != torch.cat(list(loader.epoch(1))).tolist()
    draws = torch.cat([torch.cat(list(loader.epoch(e))) for e in range(200)])
    assert abs(float((draws == 10).float().mean()) - 0.5) < 0.03


def test_ctrl_c_then_a_corrupted_checkpoint_still_resume_to_the_uninterrupted_result(uninterrupted: Path, tmp_path: Path):
    process = signal_after_first_checkpoint(tmp_path, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    run_dir = only_run(tmp_path)
    assert process.returncode == 130 and f"continue with: cardiobench run --resume {run_dir}" in err, err
    last = run_dir / "checkpoints" / "official" / "last.pt"
    last.write_bytes(last.read_bytes()[:100])  # truncated, e.g. by a full disk or a bad copy

    result = cli("run", "--resume", run_dir, "--no-progress")
    assert result.code == 0, result.err
    assert "not a readable checkpoint" in (run_dir / "log.txt").read_text() and (last.parent / "last.pt.unreadable").exists()
    assert (run_dir / "predictions.csv").read_bytes() == (uninterrupted / "predictions.csv").read_bytes()


def test_a_full_pickle_is_refused_with_what_to_do_instead(tmp_path: Path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pt")
    with pytest.raises(checkpoint.UnreadableCheckpoint, match="is a full pickle .* Save a state dict instead"):
        checkpoint.load(tmp_path / "model.pt")


def test_peak_memory_is_measured_per_run():
    """A run's peak resident set starts at the run (a process running several
    runs gives each its own): in a fresh process, a 300 MiB array made and
    freed before the reset does not count after it."""
    code = (
        "import numpy as np, torch\n"
        "from cardiobench.engine import devices\n"
        "big = np.ones(300 * 2**20 // 8); before = devices.peak_memory(torch.device('cpu'))['peak_memory_mib']; del big\n"
        "devices.reset_peak_memory(); after = devices.peak_memory(torch.device('cpu'))\n"
        "print(before, after['peak_memory_mib'], after['peak_memory_of'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    before, after, kind = float(out[0]), float(out[1]), " ".join(out[2:])
    assert kind == "process resident set" and after > 0
    if sys.platform.startswith("linux"):
        assert after < before - 200, (before, after)
