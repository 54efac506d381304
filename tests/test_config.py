"""Presets, overrides and their validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardiobench import config
from cardiobench.errors import ConfigError, UnknownNameError
from tests.conftest import cli


def resolve(registry, preset="quick", overrides=(), model="r2plus1d"):
    return config.resolve(registry.task("lvef"), registry.model(model), preset, overrides)


def test_preset_layers_and_overrides(registry):
    quick = resolve(registry)
    assert quick.preset == "quick" and quick.preset_version >= 1
    assert quick.get("data.frames") == 8 and quick.get("train.optimizer") == "adamw"
    paper = resolve(registry, "paper")
    assert (paper.get("data.frames"), paper.get("data.period"), paper.get("data.size")) == (32, 2, 112)
    assert (paper.get("train.optimizer"), paper.get("train.lr"), paper.get("train.momentum")) == ("sgd", 1e-4, 0.9)
    assert (paper.get("train.epochs"), paper.get("train.batch_size"), paper.get("train.lr_step_epochs")) == (45, 20, 15)
    assert paper.get("data.test_clips") == 10
    changed = resolve(registry, overrides=["train.epochs=3", "train.lr=2e-3", "data.test_mode=all", "model.weights=/x.pt"])
    assert changed.get("train.epochs") == 3 and changed.get("train.lr") == 2e-3
    assert changed.get("data.test_mode") == "all" and changed.get("model.weights") == "/x.pt"


def test_unknown_key_lists_valid_keys(registry):
    with pytest.raises(ConfigError) as err:
        resolve(registry, overrides=["train.epoch=3"])
    message = str(err.value)
    assert "train.epoch" in message and "Did you mean 'train.epochs'" in message
    assert "Valid keys:" in message and "data.frames" in message and "model.weights" in message


def test_wrong_type_and_malformed_override(registry):
    with pytest.raises(ConfigError, match="must be a int"):
        resolve(registry, overrides=["train.epochs=many"])
    with pytest.raises(ConfigError, match="key.subkey=value"):
        resolve(registry, overrides=["train.epochs"])


def test_unknown_preset_suggests(registry):
    with pytest.raises(UnknownNameError, match="Did you mean 'paper'"):
        resolve(registry, "papre")


def test_yaml_is_read_safely(tmp_path: Path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("train: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="evil.yaml"):
        config.read_yaml(evil)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        config.read_yaml(listy)


def test_preset_file_with_unknown_key_names_the_file(registry, tmp_path: Path, monkeypatch):
    task = registry.task("lvef")
    presets = tmp_path / "lvef"
    presets.mkdir()
    (presets / "defaults.yaml").write_text((Path(task.presets_dir) / "defaults.yaml").read_text())
    (presets / "quick.yaml").write_text("version: 2\ndata:\n  frame: 3\n")
    from dataclasses import replace

    with pytest.raises(ConfigError, match=r"quick\.yaml"):
        config.resolve(replace(task, presets_dir=presets), registry.model("r2plus1d"), "quick")


def test_cli_reports_config_errors_without_traceback():
    result = cli("run", "--task", "lvef", "--model", "r2plus1d", "--set", "train.bogus=1")
    assert result.code == 2
    assert "Unknown config key 'train.bogus'" in result.err and "Traceback" not in result.err


def test_preset_extends_another_with_its_model_refinements(registry, tmp_path: Path):
    from dataclasses import replace

    task = registry.task("lvef")
    presets = tmp_path / "lvef"
    (presets / "r2plus1d").mkdir(parents=True)
    (presets / "defaults.yaml").write_text((Path(task.presets_dir) / "defaults.yaml").read_text())
    (presets / "quick.yaml").write_text("version: 3\ndescription: base\ntrain:\n  epochs: 4\n  lr: 0.5\n")
    (presets / "r2plus1d" / "quick.yaml").write_text("train:\n  batch_size: 7\n")
    (presets / "longer.yaml").write_text("version: 1\nextends: quick\ndescription: longer\ntrain:\n  epochs: 9\n")
    longer = config.resolve(replace(task, presets_dir=presets), registry.model("r2plus1d"), "longer")
    assert (longer.get("train.epochs"), longer.get("train.lr"), longer.get("train.batch_size")) == (9, 0.5, 7)
    assert (longer.preset, longer.preset_version, longer.preset_description) == ("longer", 1, "longer")
    assert [Path(s).name for s in longer.sources[1:]] == ["quick.yaml", "quick.yaml", "longer.yaml"]

    (presets / "quick.yaml").write_text("extends: longer\n")
    with pytest.raises(ConfigError, match="loop: longer -> quick -> longer"):
        config.resolve(replace(task, presets_dir=presets), registry.model("r2plus1d"), "longer")
    (presets / "longer.yaml").write_text("extends: quik\n")
    with pytest.raises(ConfigError, match="'extends' names 'quik'"):
        config.resolve(replace(task, presets_dir=presets), registry.model("r2plus1d"), "longer")


def test_ecg_inter_patient_preset_is_quick_with_disjoint_patients(registry):
    quick = config.resolve(registry.task("ecg-pvc-apb"), registry.model("ecg-joint-l2"), "quick")
    inter = config.resolve(registry.task("ecg-pvc-apb"), registry.model("ecg-joint-l2"), "quick-inter-patient")
    assert inter.get("data.split") == "inter-patient" and quick.get("data.split") == "stratified"
    differing = {k for k, v in config.flatten(inter.values).items() if config.flatten(quick.values)[k] != v}
    assert differing == {"data.split"}
