"""Run events: what the hooks receive and in what order, that the built-in
console and log file are their users, that an observer which raises is
reported once and never stops a run, and how unknown or uninstallable
trackers are handled."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from cardiobench import records
from cardiobench.observers.lines import epoch_line
from cardiobench.specs import RunInfo
from tests.conftest import cli

ECG = ["--task", "ecg-pvc-apb", "--model", "ecg-classifier", "--preset", "ci", "--set", "model.classifier_channels=[4,4,4,8]", "--set", "model.conv_kernel=5", "--set", "train.epochs=3", "--no-progress"]

RECORDER = """
from cardiobench import hookimpl

EVENTS = []


@hookimpl
def cardiobench_run_start(run):
    EVENTS.append(("run_start", run.task, run.model, dict(run.config["train"]), run.folds, run.run_dir))


@hookimpl
def cardiobench_epoch_end(run, fold, epoch, epochs, values, best):
    EVENTS.append(("epoch_end", fold, epoch, epochs, dict(values), best))


@hookimpl
def cardiobench_test_end(run, record):
    EVENTS.append(("test_end", record))


@hookimpl
def cardiobench_run_end(run, status):
    EVENTS.append(("run_end", status))
"""

RAISING = """
from cardiobench import hookimpl

CALLS = []


@hookimpl
def cardiobench_epoch_end(epoch):
    CALLS.append(epoch)
    raise ValueError("dashboard unreachable")
"""


def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def only_run(runs: Path) -> Path:
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    return run_dir


def test_events_arrive_in_order_with_what_the_run_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    name = plugin(tmp_path, monkeypatch, "plug_recorder", RECORDER)
    result = cli("run", *ECG, "--plugin", name, "--runs-dir", tmp_path / "runs")
    assert result.code == 0, result.err
    run_dir = only_run(tmp_path / "runs")
    events = sys.modules[name].EVENTS
    record = records.read(run_dir / records.RECORD_FILE)
    folds = [fold["name"] for fold in record["folds"]]
    epochs = [e for e in events if e[0] == "epoch_end"]
    assert [e[0] for e in events] == ["run_start"] + ["epoch_end"] * 3 * len(folds) + ["test_end", "run_end"]
    _, task, model, train, started_folds, started_in = events[0]
    assert (task, model, train["epochs"], started_folds, started_in) == ("ecg-pvc-apb", "ecg-classifier", 3, tuple(folds), run_dir)
    for fold in record["folds"]:
        mine = [e for e in epochs if e[1] == fold["name"]]
        assert [(e[2], e[3]) for e in mine] == [(entry["epoch"], 3) for entry in fold["history"]]
        for (*_, values, _best), entry in zip(mine, fold["history"]):
            assert {k: v for k, v in values.items() if k != "items_per_second"} == {k: v for k, v in entry.items() if k != "epoch"}
        assert mine[0][5] and mine[fold["best_epoch"] - 1][5]  # the first epoch, and the selected one, were best when they ended
    assert events[-2][1] == json.loads(json.dumps(record)) and events[-1] == ("run_end", "finished")


def test_console_and_log_file_are_run_event_observers(tmp_path: Path):
    result = cli("run", *ECG, "--runs-dir", tmp_path / "runs")
    assert result.code == 0, result.err
    log = (only_run(tmp_path / "runs") / "log.txt").read_text()
    lines = [line for line in result.out.splitlines() if "epoch " in line and "train loss" in line]
    assert len(lines) >= 3 and all(line in log for line in lines)


def test_a_raising_observer_is_reported_once_and_the_run_finishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    name = plugin(tmp_path, monkeypatch, "plug_raising", RAISING)
    result = cli("run", *ECG, "--plugin", name, "--runs-dir", tmp_path / "runs")
    assert result.code == 0, result.err
    assert sys.modules[name].CALLS == [1]
    assert result.err.count("warning:") == 1 and "plug_raising" in result.err and "dashboard unreachable" in result.err
    assert (only_run(tmp_path / "runs") / records.RECORD_FILE).is_file()


def test_an_unknown_tracker_is_refused_before_anything_is_written(tmp_path: Path):
    result = cli("run", *ECG, "--track", "tensorbord", "--runs-dir", tmp_path / "runs")
    assert result.code == 2 and "Unknown tracker 'tensorbord'" in result.err and "'tensorboard'" in result.err
    assert not (tmp_path / "runs").exists()
    bad_config = cli("run", *ECG, "--set", "track=[wandb]", "--runs-dir", tmp_path / "runs")
    assert bad_config.code == 2 and "Unknown tracker 'wandb'" in bad_config.err


def test_a_tracker_without_its_library_warns_once_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(sys.modules, "cardiobench_trackers.tensorboard", raising=False)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were not installed
    result = cli("run", *ECG, "--track", "tensorboard", "--runs-dir", tmp_path / "runs")
    assert result.code == 0, result.err
    assert result.err.count("warning:") == 1 and 'pip install "cardiobench[tensorboard]"' in result.err
    assert not (only_run(tmp_path / "runs") / "tensorboard").exists()


def test_epoch_lines_name_the_fold_only_in_cross_validation():
    values = {"train_loss": 1.0, "val_loss": 2.0, "val_mae": 3.0, "items_per_second": 4.0}
    single = RunInfo("lvef", "stca", 0, "quick", {}, folds=("official",))
    folds = RunInfo("dcm-cls", "acnet", 0, "quick", {}, folds=("fold-1", "fold-2"))
    assert epoch_line(single, "official", 1, 7, values, True).startswith("epoch 1/7  train loss 1  val loss 2  val mae 3  *best")
    assert epoch_line(folds, "fold-2", 1, 7, values, False).startswith("[fold-2] epoch 1/7")
