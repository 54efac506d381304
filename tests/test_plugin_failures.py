"""A plugin that raises (in a hook, in ``build``, in ``load``) and a run that
runs out of memory: one paragraph naming the culprit, a non-zero exit, the
traceback only with ``--debug``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cardiobench import records
from cardiobench.engine import checkpoint
from tests.conftest import cli

FAILING = """
from cardiobench import hookimpl
from cardiobench.specs import DatasetSpec, ModelSpec
from cardiobench_ecg import dataset
from cardiobench_ecg.models import CLASSIFIER_DEFAULTS, builder

classifier = builder("classifier")


def broken_build(config, info):
    return {}["no such layer"]


def broken_load(request):
    raise ValueError("header parse failed")


def exhausting_build(config, info):
    \"\"\"The ECG classifier, whose training runs out of memory in the second epoch
    (the first training step after a validation pass).\"\"\"
    model = classifier(config, info)
    plain_forward, validated = model.forward, []

    def forward(x):
        if not model.training:
            validated.append(True)
        elif validated:
            raise MemoryError("cannot allocate 2.1 GiB")
        return plain_forward(x)

    model.forward = forward
    return model


@hookimpl
def cardiobench_models():
    return [
        ModelSpec("broken-build", 1, "raises in build", "nobody 2026", ("ecg-pvc-apb",), broken_build, CLASSIFIER_DEFAULTS),
        ModelSpec("exhausting", 1, "runs out of memory in training", "nobody 2026", ("ecg-pvc-apb",), exhausting_build, CLASSIFIER_DEFAULTS),
    ]


@hookimpl
def cardiobench_datasets():
    return [DatasetSpec("broken-data", 1, "raises in load", "nobody 2026", ("ecg-pvc-apb",), broken_load, lambda request: "")]
"""

TINY = ["--preset", "ci", "--set", "model.classifier_channels=[4,4,4,8]", "--set", "model.conv_kernel=5"]


@pytest.fixture
def failing_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "plug_failing.py").write_text(textwrap.dedent(FAILING))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "plug_failing"


def test_build_raising_names_plugin_model_and_exception(failing_plugin, tmp_path):
    result = cli("run", "--task", "ecg-pvc-apb", "--model", "broken-build", "--plugin", failing_plugin, "--runs-dir", tmp_path / "runs", *TINY)
    assert result.code != 0
    assert "Plugin 'plug_failing' raised in model 'broken-build' build: KeyError" in result.err
    assert "Traceback" not in result.err


def test_load_raising_names_plugin_dataset_and_exception(failing_plugin, tmp_path):
    result = cli("run", "--task", "ecg-pvc-apb", "--model", "ecg-classifier", "--dataset", "broken-data", "--plugin", failing_plugin, "--runs-dir", tmp_path / "runs", *TINY)
    assert result.code != 0
    assert "Plugin 'plug_failing' raised in dataset 'broken-data' load: ValueError: header parse failed" in result.err
    debug = cli("run", "--task", "ecg-pvc-apb", "--model", "ecg-classifier", "--dataset", "broken-data", "--plugin", failing_plugin, "--runs-dir", tmp_path / "runs", "--debug", *TINY)
    assert debug.code != 0 and "Traceback" in debug.err and "header parse failed" in debug.err


def test_hook_raising_names_plugin_and_hook(tmp_path, monkeypatch):
    (tmp_path / "plug_hook.py").write_text("from cardiobench import hookimpl\n@hookimpl\ndef cardiobench_metrics():\n    raise RuntimeError('registry offline')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = cli("list", "tasks", "--plugin", "plug_hook")
    assert result.code != 0
    assert "Plugin 'plug_hook' raised in cardiobench_metrics: RuntimeError: registry offline" in result.err
    assert "Traceback" not in result.err


def test_out_of_memory_names_batch_size_and_override_and_keeps_the_checkpoint(failing_plugin, tmp_path):
    runs = tmp_path / "runs"
    result = cli("run", "--task", "ecg-pvc-apb", "--model", "exhausting", "--plugin", failing_plugin, "--runs-dir", runs, "--set", "train.epochs=3", *TINY)
    assert result.code != 0 and "Traceback" not in result.err
    assert "Out of memory on cpu while training fold" in result.err
    assert "train.batch_size = 16" in result.err and "--set train.batch_size=8" in result.err
    assert "MemoryError: cannot allocate 2.1 GiB" in result.err
    (run_dir,) = runs.iterdir()
    assert f"cardiobench run --resume {run_dir}" in result.err
    (last,) = run_dir.glob("checkpoints/*/last.pt")
    assert f"The last finished epoch is intact in {last}" in result.err
    assert checkpoint.load(last)["epoch"] == 0  # epoch 1 finished, epoch 2 ran out of memory
    assert not (run_dir / records.RECORD_FILE).exists()
