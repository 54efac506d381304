"""The TensorBoard and MLflow trackers, read back with each tool's own reader:
TensorBoard's EventAccumulator, MLflow's client on the local store a run
writes by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardiobench import records
from tests.conftest import cli
from tests.test_events import ECG, only_run

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator", reason="tensorboard is not installed (pip install -e '.[dev]')")
mlflow_client = pytest.importorskip("mlflow.tracking", reason="mlflow is not installed (pip install -e '.[dev]')")


def tag(record: dict, fold: str, key: str, separator: str) -> str:
    """An epoch value's name: under its fold's when the run has several."""
    return f"{fold}{separator}{key}" if len(record["folds"]) > 1 else key


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One run with both trackers, from a working directory of its own (where ./mlruns/ goes)."""
    work = tmp_path_factory.mktemp("tracked")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        result = cli("run", *ECG, "--track", "tensorboard,mlflow", "--runs-dir", work / "runs")
    assert result.code == 0, result.err
    assert "warning" not in result.err, result.err
    run_dir = only_run(work / "runs")
    return run_dir, records.read(run_dir / records.RECORD_FILE)


def test_tensorboard_holds_every_epoch_the_test_metrics_the_config_and_the_plots(tracked):
    run_dir, record = tracked
    events = event_accumulator.EventAccumulator(str(run_dir / "tensorboard"), size_guidance={event_accumulator.IMAGES: 0, event_accumulator.SCALARS: 0})
    events.Reload()
    for fold in record["folds"]:
        for key in ("train_loss", "val_loss", "seconds"):
            scalars = events.Scalars(tag(record, fold["name"], key, "/"))
            assert [s.step for s in scalars] == [e["epoch"] for e in fold["history"]]
            assert [s.value for s in scalars] == pytest.approx([e[key] for e in fold["history"]], rel=1e-6)
    for metric, bounds in record["metrics"].items():
        assert events.Scalars(f"test/{metric}")[-1].value == pytest.approx(bounds["value"], rel=1e-6)
    assert "train:" in events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    plots = sorted(p.relative_to(run_dir / "plots").with_suffix("").as_posix() for p in (run_dir / "plots").rglob("*.png"))
    assert plots and sorted(tag.removeprefix("plots/") for tag in events.Tags()["images"]) == plots


def test_mlflow_holds_the_config_every_epoch_the_test_metrics_and_the_run_directory(tracked):
    run_dir, record = tracked
    client = mlflow_client.MlflowClient(tracking_uri=f"sqlite:///{run_dir.parent.parent / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cardiobench-ecg-pvc-apb")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == run_dir.name
    assert run.data.params["train.epochs"] == "3" and run.data.params["model"] == "ecg-classifier"
    for fold in record["folds"]:
        val_loss = client.get_metric_history(run.info.run_id, tag(record, fold["name"], "val_loss", "."))
        assert [(m.step, m.value) for m in sorted(val_loss, key=lambda m: m.step)] == [(e["epoch"], pytest.approx(e["val_loss"])) for e in fold["history"]]
    for metric, bounds in record["metrics"].items():
        assert run.data.metrics[f"test_{metric}"] == pytest.approx(bounds["value"])
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"record.json", "predictions.csv", "config.yaml", "log.txt", "plots"} <= logged and "checkpoints" not in logged


INTERRUPTING = """
from cardiobench import hookimpl

FIRED = []


@hookimpl
def cardiobench_epoch_end(epoch):
    if epoch == 2 and not FIRED:
        FIRED.append(epoch)
        raise KeyboardInterrupt  # Ctrl-C right after epoch 2's checkpoint
"""


def test_a_resumed_run_continues_its_mlflow_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "plug_interrupting.py").write_text(INTERRUPTING)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    stopped = cli("run", *ECG, "--track", "mlflow", "--plugin", "plug_interrupting", "--runs-dir", tmp_path / "runs")
    assert stopped.code == 130, stopped.err
    run_dir = only_run(tmp_path / "runs")
    client = mlflow_client.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cardiobench-ecg-pvc-apb")
    assert [r.info.status for r in client.search_runs([experiment.experiment_id])] == ["KILLED"]
    resumed = cli("run", "--resume", run_dir, "--no-progress", "--plugin", "plug_interrupting")
    assert resumed.code == 0, resumed.err
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    record = records.read(run_dir / records.RECORD_FILE)
    for fold in record["folds"]:
        steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, tag(record, fold["name"], "train_loss", ".")))
        assert steps == [e["epoch"] for e in fold["history"]]
