"""Run configuration: task defaults + model defaults + preset YAML + ``--set``.

The engine declares its own keys (``train.*``, ``eval.*``) in
``cardiobench/presets/engine.yaml``. A task's ``presets_dir`` holds
``defaults.yaml``, which may change those defaults and declares the task's own
keys, and one YAML file per preset. A preset file may carry
``version`` (its protocol version, bumped whenever it changes results),
``description`` and ``extends`` (another preset of the task, applied first
with its model refinements); everything else must be a key the defaults
declare. Model keys live under ``model.`` and come from the model spec's
``defaults``; ``<presets_dir>/<model>/<preset>.yaml`` refines a preset for
one model.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cardiobench.errors import ConfigError, did_you_mean, unknown_name
from cardiobench.specs import DatasetSpec, ModelSpec, TaskSpec

META_KEYS = ("version", "description", "extends")
ENGINE_DEFAULTS = resources.files("cardiobench.presets").joinpath("engine.yaml")


@dataclass(frozen=True)
class ResolvedConfig:
    """A validated run configuration and where it came from."""

    values: dict[str, Any]
    preset: str
    preset_version: int
    preset_description: str
    sources: list[str] = field(default_factory=list)

    def get(self, dotted: str) -> Any:
        return get_key(self.values, dotted)


def read_yaml(path: Path) -> dict[str, Any]:
    """Load a YAML mapping with ``safe_load``; errors name the file."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read YAML file {path}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"YAML file {path} must hold a mapping of keys to values, not a {type(data).__name__}.")
    return data


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}``; lists and scalars are leaves."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Deep copy of ``base`` with ``update`` merged in, section by section."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def get_key(tree: Mapping[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        node = node[part]
    return node


def _set_key(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _coerce(default: Any, value: Any) -> Any:
    """YAML 1.1 reads ``1e-3`` as a string; read it as the number the default is."""
    if isinstance(value, str) and isinstance(default, (int, float)) and not isinstance(default, bool):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if isinstance(default, int) and number.is_integer() else number
    return value


def _compatible(default: Any, value: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def parse_override(text: str) -> tuple[str, Any]:
    """``'train.lr=1e-3'`` -> ``('train.lr', 0.001)``; values parse as YAML."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"Override {text!r} must look like key.subkey=value, e.g. train.epochs=3.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"Override {text!r}: cannot parse value {raw!r}: {exc}") from exc
    return key.strip(), value


def available_presets(task: TaskSpec) -> list[str]:
    return sorted(p.stem for p in Path(task.presets_dir).glob("*.yaml") if p.stem != "defaults")


def _apply(values: dict[str, Any], updates: Mapping[str, Any], valid: Mapping[str, Any], source: str) -> None:
    for key, value in flatten(updates).items():
        if key not in valid:
            raise ConfigError(
                f"Unknown config key {key!r} in {source}.{did_you_mean(key, valid)} "
                f"Valid keys: {', '.join(sorted(valid))}."
            )
        value = _coerce(valid[key], value)
        if not _compatible(valid[key], value):
            raise ConfigError(
                f"Config key {key!r} in {source} must be a {_type_name(valid[key])} "
                f"(default {valid[key]!r}), got {value!r}."
            )
        _set_key(values, key, copy.deepcopy(value))


def resolve(task: TaskSpec, model: ModelSpec | None, preset: str, overrides: Iterable[str] = (), datasets: Sequence[DatasetSpec] = ()) -> ResolvedConfig:
    """Build and validate the configuration of one run (``model=None``: the
    task's keys only, e.g. to check a data folder); ``datasets`` add the
    config sections they read."""
    presets_dir = Path(task.presets_dir)
    defaults = read_yaml(Path(str(ENGINE_DEFAULTS)))
    defaults = merge(defaults, read_yaml(presets_dir / "defaults.yaml"))
    defaults = merge(defaults, {"model": dict(model.defaults) if model else {}, **(dict(model.sections) if model else {})})
    for dataset in datasets:
        defaults = merge(defaults, copy.deepcopy(dict(dataset.sections)))
    valid = flatten(defaults)
    values = copy.deepcopy(defaults)
    sources = [str(presets_dir / "defaults.yaml")]

    if preset not in available_presets(task):
        raise unknown_name(f"preset of task {task.name!r}", preset, available_presets(task))
    layers = _preset_layers(task, model, preset)
    top_path = presets_dir / f"{preset}.yaml"
    top = dict(layers)[top_path]
    version, description = top.get("version", 1), top.get("description", "")
    if not isinstance(version, int) or version < 1:
        raise ConfigError(f"Preset file {top_path}: 'version' must be an integer >= 1, got {version!r}.")
    for path, layer in layers:
        _apply(values, {k: v for k, v in layer.items() if k not in META_KEYS}, valid, f"preset file {path}")
        sources.append(str(path))

    for text in overrides:
        key, value = parse_override(text)
        _apply(values, _nest(key, value), valid, f"--set {text}")
    if overrides:
        sources.append("--set " + " ".join(overrides))
    return ResolvedConfig(values, preset, version, description, sources)


def _preset_layers(task: TaskSpec, model: ModelSpec | None, preset: str, chain: tuple[str, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """The files a preset applies and their contents, in order: those of the
    preset it ``extends`` first, then its own task-level file and its
    refinement for ``model``."""
    presets_dir = Path(task.presets_dir)
    if preset in chain:
        raise ConfigError(f"Presets of task {task.name!r} extend each other in a loop: {' -> '.join(chain + (preset,))}.")
    path = presets_dir / f"{preset}.yaml"
    own = read_yaml(path)
    layers: list[tuple[Path, dict[str, Any]]] = []
    if (base := own.get("extends")) is not None:
        if base not in available_presets(task):
            raise ConfigError(f"Preset file {path}: 'extends' names {base!r}, which is not a preset of task {task.name!r} ({', '.join(available_presets(task))}).")
        layers = _preset_layers(task, model, base, chain + (preset,))
    layers.append((path, own))
    refinement = presets_dir / model.name / f"{preset}.yaml" if model else None
    if refinement is not None and refinement.is_file():
        layers.append((refinement, read_yaml(refinement)))
    return layers


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    _set_key(tree, dotted, value)
    return tree


def dump_yaml(values: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(values), sort_keys=False, default_flow_style=False)
