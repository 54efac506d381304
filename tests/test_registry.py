"""Plugin discovery, validation and name conflicts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cardiobench.errors import PluginError, UnknownNameError
from cardiobench.registry import load_registry
from tests.conftest import cli

MODEL_PLUGIN = """
from cardiobench import hookimpl
from cardiobench.specs import ModelSpec

@hookimpl
def cardiobench_models():
    return [ModelSpec("{name}", 1, "a model", "nobody 2026", ("lvef",), lambda c, i: None)]
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def write_module(folder: Path, name: str, source: str) -> str:
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def test_first_party_plugins_come_from_entry_points(registry):
    origins = {p.name: p.origin for p in registry.plugins}
    assert "entry point" in origins["echo"] and "entry point" in origins["metrics"]
    assert registry.plugin_of("tasks", "lvef") == "echo"
    assert {"r2plus1d", "mc3", "r3d"} <= set(registry.models)
    echo = next(p for p in registry.plugins if p.name == "echo")
    assert "cardiobench_models" in echo.hooks and echo.version


def test_two_plugins_registering_one_name_names_both(plugin_dir):
    a = write_module(plugin_dir, "plug_a", MODEL_PLUGIN.format(name="twin"))
    b = write_module(plugin_dir, "plug_b", MODEL_PLUGIN.format(name="twin"))
    with pytest.raises(PluginError) as err:
        load_registry([a, b])
    assert "'twin'" in str(err.value) and "'plug_a'" in str(err.value) and "'plug_b'" in str(err.value)


def test_clash_with_a_first_party_name_names_both(plugin_dir):
    clash = write_module(plugin_dir, "plug_clash", MODEL_PLUGIN.format(name="r2plus1d"))
    with pytest.raises(PluginError, match="'echo' and 'plug_clash'"):
        load_registry([clash])


def test_plugin_failing_to_import_is_named(plugin_dir):
    broken = write_module(plugin_dir, "plug_broken", "import does_not_exist_anywhere\n")
    with pytest.raises(PluginError) as err:
        load_registry([broken])
    assert "'plug_broken'" in str(err.value) and "does_not_exist_anywhere" in str(err.value)
    assert "CARDIOBENCH_DISABLE_PLUGINS=plug_broken" in str(err.value)


def test_invalid_spec_is_named(plugin_dir):
    bad = write_module(plugin_dir, "plug_bad", MODEL_PLUGIN.format(name="Bad Name"))
    with pytest.raises(PluginError, match=r"'plug_bad' returned invalid specs: .*'Bad Name'.*lower-case"):
        load_registry([bad])
    wrong_type = write_module(plugin_dir, "plug_wrong", "from cardiobench import hookimpl\n@hookimpl\ndef cardiobench_tasks():\n    return ['lvef']\n")
    with pytest.raises(PluginError, match="is a str, not a TaskSpec"):
        load_registry([wrong_type])


def test_env_plugins_and_disable(plugin_dir):
    extra = write_module(plugin_dir, "plug_env", MODEL_PLUGIN.format(name="env-model"))
    registry = load_registry(environ={"CARDIOBENCH_PLUGINS": extra})
    assert registry.plugin_of("models", "env-model") == "plug_env"
    without_echo = load_registry(environ={"CARDIOBENCH_DISABLE_PLUGINS": "echo"})
    assert "lvef" not in without_echo.tasks and "mae" in without_echo.metrics
    with pytest.raises(UnknownNameError, match="Unknown task 'lvef'"):
        without_echo.task("lvef")


def test_unknown_names_suggest_close_ones(registry):
    with pytest.raises(UnknownNameError, match="Did you mean 'r2plus1d'"):
        registry.model("r2plus1")
    result = cli("run", "--task", "lvf", "--model", "r2plus1d")
    assert result.code == 2 and "Did you mean 'lvef'" in result.err and "Traceback" not in result.err
    result = cli("run", "--task", "lvef", "--model", "r2plus1d", "--dataset", "echonet")
    assert result.code == 2 and "Unknown dataset 'echonet'" in result.err


def test_model_that_does_not_serve_the_task(plugin_dir):
    other = write_module(plugin_dir, "plug_other", MODEL_PLUGIN.format(name="other-net").replace('("lvef",)', '("other-task",)'))
    result = cli("--plugin", other, "run", "--task", "lvef", "--model", "other-net")
    assert result.code == 2 and "does not serve task 'lvef'" in result.err and "r2plus1d" in result.err


def test_list_and_plugins_commands():
    models = cli("list", "models", "--task", "lvef")
    assert models.code == 0
    for name in ("r2plus1d", "mc3", "r3d"):
        assert name in models.out
    assert "31.30M" in models.out  # R(2+1)D-18 with a one-output head
    plugins = cli("plugins")
    assert plugins.code == 0 and "echo" in plugins.out and "metrics" in plugins.out
    assert cli("list", "metrics", "--task", "lvef").out.count("scikit-learn") == 3
