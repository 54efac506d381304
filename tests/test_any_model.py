"""Any model without a plugin: library models by name, a model file, trained
weights, outside predictions, contract checks and leaderboard rows."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cardiobench import records
from cardiobench.errors import PluginError
from cardiobench.leaderboard import build, submit, write
from cardiobench.leaderboard.store import Store
from tests.conftest import cli

ECG_NET = """
import torch
from torch import nn


def build(contract, width: int = 8):
    \"\"\"A bare network: (B, 2, L) ECG segments -> (B, 2) logits.\"\"\"
    return nn.Sequential(nn.Conv1d(contract.channels, width, 7, padding=3), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(width, contract.classes))


def flat(contract):
    \"\"\"A binary classifier that returns (B,) and an unreduced loss.\"\"\"

    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(contract.channels, 1)

        def forward(self, x):
            return self.fc(x.mean(-1))[:, 0]

        def loss(self, outputs, batch):
            return (outputs - batch["target"].float()) ** 2

        def predict(self, outputs):
            return torch.sigmoid(outputs)

    return Flat()


def crashing(contract):
    class Crashing(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x.mean(-1))

    return Crashing()
"""


def _record(run_dir: Path) -> dict:
    return records.read(run_dir / records.RECORD_FILE)


def _run_dir(out: str) -> Path:
    return Path(next(line for line in out.splitlines() if line.startswith("run directory: ")).removeprefix("run directory: "))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("user") / "ecg_net.py"
    path.write_text(textwrap.dedent(ECG_NET))
    return path


@pytest.fixture(scope="module")
def trained(model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ci run of a bare network from a file on the cross-validated ECG task."""
    runs = tmp_path_factory.mktemp("runs")
    result = cli("run", "--task", "ecg-pvc-apb", "--model", f"py:{model_file}:build", "--model-args", "width=4", "--preset", "ci", "--runs-dir", runs)
    assert result.code == 0, result.err
    return _run_dir(result.out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "task, model, args",
    [
        ("fetal-planes", "timm:convnext_atto", "drop_path_rate=0.1"),
        ("lvef", "torchvision:r2plus1d_18", ""),
    ],
)
def test_library_models_by_name_train_and_score_on_the_ci_preset(task: str, model: str, args: str, tmp_path: Path) -> None:
    """timm on dcm-cls and MONAI on myo-seg run in tests/test_docs_examples.py."""
    extra = ["--model-args", args] if args else []
    result = cli("run", "--task", task, "--model", model, *extra, "--preset", "ci", "--set", "train.epochs=1", "--runs-dir", tmp_path)
    assert result.code == 0, result.err
    record = _record(_run_dir(result.out))
    assert record["model"]["name"] == model and record["model"]["source"] == model.split(":")[0]
    assert record["model"]["parameters"] > 0 and record["provenance"] == {"kind": "trained"}
    assert record["model"]["arguments"] == (dict([args.split("=", 1)]) if args else {})
    rank = {"fetal-planes": "f1-macro", "lvef": "mae"}[task]
    assert np.isfinite(record["metrics"][rank]["value"])


def test_a_file_model_records_its_source_arguments_and_hash(trained: Path, model_file: Path) -> None:
    record = _record(trained)
    assert record["model"]["source"] == "py" and record["model"]["arguments"] == {"width": "4"}
    assert record["model"]["origin"].startswith("sha256:") and len(record["model"]["arguments_hash"]) == 8
    assert record["model"]["parameters"] == (2 * 4 * 7 + 4) + (4 * 2 + 2)  # Conv1d(2, 4, 7) + Linear(4, 2)


def test_evaluate_and_score_reproduce_a_runs_metrics_bit_for_bit(trained: Path, model_file: Path, tmp_path: Path) -> None:
    base = ["--task", "ecg-pvc-apb", "--preset", "ci", "--runs-dir", tmp_path]
    original = _record(trained)
    evaluated = cli("evaluate", *base, "--model", f"py:{model_file}:build", "--model-args", "width=4", "--weights", trained / "checkpoints")
    assert evaluated.code == 0, evaluated.err
    again = _record(_run_dir(evaluated.out))
    assert again["metrics"] == original["metrics"]
    assert again["provenance"]["kind"] == "eval-only" and set(again["provenance"]["weights"]) == {"fold1", "fold2"}
    scored = cli("score", *base, "--predictions", trained / "predictions.csv", "--model-name", "mine")
    assert scored.code == 0, scored.err
    external = _record(_run_dir(scored.out))
    assert external["metrics"] == original["metrics"] and external["reference_baseline"] == original["reference_baseline"]
    assert external["model"]["name"] == "external:mine" and external["provenance"]["kind"] == "external"


def test_bad_weights_are_named_before_a_run_directory_exists(trained: Path, model_file: Path, tmp_path: Path) -> None:
    base = ["evaluate", "--task", "ecg-pvc-apb", "--preset", "ci", "--model", f"py:{model_file}:build", "--runs-dir", tmp_path]
    single = cli(*base, "--model-args", "width=4", "--weights", trained / "checkpoints" / "fold1" / "best.pt")
    assert single.code == 2 and "cross-validated over 2 folds" in single.err
    wider = cli(*base, "--model-args", "width=6", "--weights", trained / "checkpoints")
    assert wider.code == 2 and "shaped differently" in wider.err and "net.0.weight" in wider.err
    assert not list(tmp_path.iterdir())  # found before anything was written
    head = cli(*base, "--model-args", "width=6", "--weights", trained / "checkpoints", "--reinit-mismatched")
    assert head.code == 0 and "re-initialised, not loaded" in head.out


def test_bad_predictions_are_named_all_at_once(trained: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(trained / "predictions.csv")
    bad = pl.concat([frame.slice(3), frame.slice(3, 1)]).with_columns(pl.when(pl.col("id") == frame["id"][4]).then(float("nan")).otherwise(pl.col("score_1")).alias("score_1"))
    bad.write_csv(tmp_path / "bad.csv")
    result = cli("score", "--task", "ecg-pvc-apb", "--preset", "ci", "--predictions", tmp_path / "bad.csv", "--runs-dir", tmp_path / "runs")
    assert result.code == 2
    for part in ("1 duplicate id(s)", "non-finite", "3 test id(s) without a prediction", frame["id"][0]):
        assert part in result.err
    assert not (tmp_path / "runs").exists()
    frame.drop("score_1").write_csv(tmp_path / "one-class.csv")
    assert "lacks column(s) score_1" in cli("score", "--task", "ecg-pvc-apb", "--preset", "ci", "--predictions", tmp_path / "one-class.csv").err


def test_export_split_lists_every_test_item_a_predictions_file_must_name(trained: Path, tmp_path: Path) -> None:
    result = cli("export-split", "--task", "ecg-pvc-apb", "--preset", "ci", "--out", tmp_path / "split")
    assert result.code == 0, result.err
    manifest = pl.read_csv(tmp_path / "split" / "manifest.csv")
    scored = pl.read_csv(trained / "predictions.csv")
    assert sorted(zip(manifest["fold"], manifest["id"])) == sorted(zip(scored["fold"], scored["id"]))
    first = np.load(tmp_path / "split" / manifest["file"][0])
    assert first.shape == (2, 500) and first.dtype == np.float32


def test_a_model_that_breaks_the_contract_is_stopped_before_training_naming_its_plugin(model_file: Path, tmp_path: Path) -> None:
    flat = cli("run", "--task", "ecg-pvc-apb", "--model", f"py:{model_file}:flat", "--preset", "ci", "--runs-dir", tmp_path)
    assert flat.code == 2
    assert "predict must return (2, 2) class probabilities (rows sum to 1); it returned (2,)" in flat.err
    assert "loss must return a scalar tensor" in flat.err and "plugin 'cardiobench.sources.py'" in flat.err
    crashing = cli("run", "--task", "ecg-pvc-apb", "--model", f"py:{model_file}:crashing", "--preset", "ci", "--runs-dir", tmp_path)
    assert crashing.code == 2 and "raised in forward: RuntimeError" in crashing.err and "internal error" not in crashing.err
    assert not list(tmp_path.iterdir())


def test_unknown_library_names_and_arguments_get_did_you_mean(tmp_path: Path) -> None:
    assert "Did you mean 'convnext_atto'" in cli("run", "--task", "dcm-cls", "--model", "timm:convnext_ato", "--preset", "ci").err
    assert "Did you mean 'model.channels'" in cli("run", "--task", "myo-seg", "--model", "monai:UNet", "--model-args", "chanels=[8,16]", "--preset", "ci").err
    assert "needs channels, strides" in cli("run", "--task", "myo-seg", "--model", "monai:UNet", "--preset", "ci").err
    assert "needs a scalar model of a video" in cli("run", "--task", "lvef", "--model", "timm:resnet18", "--preset", "ci").err


def test_rows_of_other_protocols_stay_apart(trained: Path, model_file: Path, tmp_path: Path, registry) -> None:
    """A 1-epoch run beside the ci run of the same model: two labelled rows, never one average."""
    short = cli("run", "--task", "ecg-pvc-apb", "--model", f"py:{model_file}:build", "--model-args", "width=4", "--preset", "ci", "--set", "train.epochs=1", "--runs-dir", tmp_path / "runs")
    assert short.code == 0, short.err
    store = Store(tmp_path / "board")
    submit(store, registry, [trained, _run_dir(short.out)])
    write(build(store, registry))
    table = next((tmp_path / "board" / "ecg-pvc-apb").glob("*__ci__v1.md")).read_text()
    reproduced = table.split("## Reproduced")[1].split("\n## ")[0]
    rows = [line for line in reproduced.splitlines() if "ecg_net.py:build" in line and line.startswith("|")]  # the file's folder shows as <local>
    assert len(rows) == 2 and ["[--set " in row for row in rows] == [False, True]
    assert "--set train.epochs=1" in table and "[--set " in table and "[args " in table
    again = cli("leaderboard", "submit", trained, "--root", tmp_path / "board")
    assert "already on the board" in again.out


def test_list_shows_sources_and_contracts() -> None:
    listing = cli("list", "models", "--task", "myo-seg")
    assert "monai:..." in listing.out and "timm:..." not in listing.out
    contract = cli("list", "tasks", "--contract", "--task", "lvef")
    assert "(B, 3, T, H, W) float32 video" in contract.out and "(B,) EF %" in contract.out
    assert json.loads(cli("list", "models", "--task", "lvef", "--json").out)[-1]["name"].endswith(":...")


def test_each_task_page_shows_its_contract_as_the_code_declares_it() -> None:
    from tests.conftest import REPO

    pages = {"lvef": "echo.md", "lvef-seg": "echo.md", "ecg-pvc-apb": "ecg.md", "fetal-planes": "fetal.md", "myo-seg": "cmr.md", "dcm-cls": "cmr.md"}
    for task, page in pages.items():
        table = cli("list", "tasks", "--contract", "--task", task).out.split("\n", 2)[2].strip()
        assert table in (REPO / "docs" / page).read_text(), f"docs/{page} lacks the current contract table of {task}"


@pytest.mark.parametrize(
    "task, model, args, shape",
    [
        ("lvef-seg", "torchvision:lraspp_mobilenet_v3_large", {}, (3, 32, 32)),
        ("dcm-cls", "monai:DenseNet121", {}, (1, 32, 32)),
        ("myo-seg", "smp:Unet:resnet18", {"encoder_depth": 3, "decoder_channels": [32, 16, 8]}, (1, 32, 32)),
        ("ecg-pvc-apb", "monai:UNet", {"channels": [4, 8], "strides": [2]}, (2, 64)),
    ],
)
def test_library_models_meet_their_tasks_contract_on_one_batch(task: str, model: str, args: dict, shape: tuple, registry) -> None:
    """Built and checked like a run's model, without training (smp only where it is installed)."""
    import torch

    from cardiobench import config
    from cardiobench.fold_model import build
    from cardiobench.model_check import check_model

    if model.startswith("smp:"):
        pytest.importorskip("segmentation_models_pytorch")
    spec, task_spec = registry.model(model, task), registry.task(task)
    values = config.resolve(task_spec, spec, "ci", [f"model.{k}={v}" for k, v in args.items()]).values
    net = build(spec, task_spec, values, {"classes": ["a", "b"]} if task_spec.contract.output == "classes" else {})
    batch = {"input": torch.randn(2, *shape), "target": torch.zeros(2, *shape[1:]) if task_spec.contract.output == "mask" else torch.zeros(2, dtype=torch.long), "id": ["a", "b"]}
    if task == "ecg-pvc-apb":  # a segmentation network on a classification task breaks its contract, named before training
        with pytest.raises(PluginError, match="a bare network must return"):
            check_model(net, batch, task_spec.contract.resolved({}), task, model)
        return
    check_model(net, batch, task_spec.contract.resolved({"classes": ["a", "b"]}), task, model)


def test_weights_load_from_every_common_checkpoint_format_and_refuse_pickles(tmp_path: Path) -> None:
    """A completed bare network (keys ``net.*``) from: its own state dict, a
    DDP one (``module.``), a timm/Lightning-style ``state_dict`` with a ``model.``
    prefix, a cardiobench checkpoint; a full pickle is refused unexecuted."""
    import torch
    from torch import nn

    from cardiobench.engine.weights import load_into
    from cardiobench.task_models import ClassifierModel

    torch.manual_seed(0)
    trained = ClassifierModel(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
    bare = {k.removeprefix("net."): v for k, v in trained.state_dict().items()}
    formats = {
        "bare.pt": bare,
        "ddp.pt": {f"module.{k}": v for k, v in bare.items()},
        "lightning.ckpt": {"state_dict": {f"model.{k}": v for k, v in trained.state_dict().items()}, "epoch": 3},
        "cardiobench.pt": {"model": trained.state_dict(), "epoch": 1},
    }
    for name, content in formats.items():
        torch.save(content, tmp_path / name)
        fresh = ClassifierModel(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
        report = load_into(fresh, tmp_path / name)
        assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), trained.state_dict().values())), name
        assert len(report.sha256) == 64 and not report.reinitialised
    torch.save(trained, tmp_path / "pickle.pt")
    with pytest.raises(Exception, match="full pickle"):
        load_into(ClassifierModel(nn.Linear(4, 2)), tmp_path / "pickle.pt")
