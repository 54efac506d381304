"""What a run is asked to do, and its names and config resolved: the first
step of every run, and what a sweep checks before it submits anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cardiobench import config
from cardiobench.engine import distributed, numerics
from cardiobench.engine.seeding import derive_seed
from cardiobench.errors import ConfigError
from cardiobench.model_sources import missing_arguments, path_safe
from cardiobench.registry import Registry
from cardiobench.specs import ModelSpec, RunInfo, TaskSpec


@dataclass
class RunRequest:
    """Everything that defines a run besides the code."""

    task: str
    model: str
    dataset: str | None = None
    data_root: str | None = None
    preset: str = "quick"
    seed: int = 0
    overrides: list[str] = field(default_factory=list)
    device: str = "auto"
    plugins: list[str] = field(default_factory=list)
    track: list[str] = field(default_factory=list)  # experiment trackers (--track); never part of the result
    weights: str | None = None  # trained weights to start from: a file, or a folder with one per fold
    eval_only: bool = False  # test the weights without training
    reinit_mismatched: bool = False  # weights' keys missing or shaped differently keep the fresh initialisation
    predictions: str | None = None  # predictions made elsewhere, scored instead of a model's (cardiobench score)
    test_dataset: str | None = None  # test on another dataset of the task (external validation); train and select on ``dataset``
    test_data_root: str | None = None  # its real folder; None: its synthetic stand-in


@dataclass
class Resolved:
    task: TaskSpec
    model: ModelSpec
    dataset_name: str
    config: config.ResolvedConfig
    track: tuple[str, ...] = ()

    def model_label(self, registry: Registry) -> str:
        """``model 'x' (plugin 'y')``: whom a model's failure is blamed on."""
        return f"model {self.model.name!r} (plugin {registry.plugin_of('models', self.model.name)!r})"

    def info(self, request: RunRequest, run_dir: Path | None = None, folds: tuple[str, ...] = ()) -> RunInfo:
        """What run events say about this run."""
        return RunInfo(self.task.name, self.model.name, request.seed, self.config.preset, self.config.values, run_dir, folds, self.track)


def resolve(request: RunRequest, registry: Registry) -> Resolved:
    task = registry.task(request.task)
    model = registry.model(request.model, task.name)
    if request.predictions and task.contract is None:
        raise ConfigError(f"Task {task.name!r} declares no model contract, so outside predictions cannot be checked and scored for it.")
    if request.predictions and not model.name.startswith("external:"):
        raise ConfigError(f"Scored predictions are named external:NAME, not {model.name!r}.")
    if request.eval_only and not request.weights:
        raise ConfigError("--eval-only tests trained weights without training: give them with --weights FILE (or a folder with one file per fold).")
    if task.name not in model.tasks:
        served = ", ".join(sorted(m.name for m in registry.models_for(task.name))) or "none"
        raise ConfigError(f"Model {model.name!r} does not serve task {task.name!r} (it serves {', '.join(model.tasks)}). Models for {task.name!r}: {served}.")
    dataset_name = request.dataset or task.default_dataset
    dataset = registry.dataset(dataset_name)
    if task.name not in dataset.tasks:
        raise ConfigError(f"Dataset {dataset_name!r} does not serve task {task.name!r} (it serves {', '.join(dataset.tasks)}).")
    tested_on = [registry.dataset(request.test_dataset)] if request.test_dataset else []
    for other in tested_on:
        if task.name not in other.tasks:
            raise ConfigError(f"Test dataset {other.name!r} does not serve task {task.name!r} (it serves {', '.join(other.tasks)}).")
        if other.name == dataset.name:
            raise ConfigError(f"--test-dataset names the training dataset {dataset.name!r} itself; its own test split is the default.")
    if request.test_data_root and not request.test_dataset:
        raise ConfigError("--test-data-root needs --test-dataset (the dataset whose folder it is).")
    for metric in task.metrics:
        registry.metric(metric)
    resolved = config.resolve(task, model, request.preset, request.overrides, [dataset, *tested_on])
    missing_arguments(model, resolved.values["model"])
    if int(resolved.values["train"]["epochs"]) < 1 and not request.eval_only and not request.predictions:
        raise ConfigError("train.epochs must be at least 1. To test trained weights without training, use: cardiobench evaluate --weights FILE (or run --eval-only).")
    distributed.per_rank_batch(int(resolved.values["train"]["batch_size"]), distributed.current())  # refused before anything is written
    numerics.configured(resolved.values)
    track = tuple(dict.fromkeys([*request.track, *resolved.values.get("track", [])]))
    for name in track:
        registry.tracker(name)
    return Resolved(task, model, dataset_name, resolved, track)


def check_request(request: RunRequest, registry: Registry) -> None:
    """Raise the error a run of ``request`` would stop on before it starts:
    unknown names, a model that does not serve the task, a bad config."""
    resolve(request, registry)


def request_name(request: RunRequest, key: str = "") -> str:
    """A stable directory name for ``request``: task, model, preset, seed and a
    hash of everything else that changes its result (data, overrides, ``key``)."""
    identity = [request.dataset, request.data_root, sorted(request.overrides), key] + ([request.test_dataset, request.test_data_root] if request.test_dataset else []) + ([request.weights, request.eval_only, request.reinit_mismatched] if request.weights else []) + ([request.predictions] if request.predictions else [])
    return f"{request.task}-{path_safe(request.model)}-{request.preset}-s{request.seed}-{derive_seed(*identity) % 16**8:08x}"


def preset_banner(resolved: config.ResolvedConfig) -> str:
    text = f"preset: {resolved.preset} (v{resolved.preset_version})"
    if resolved.preset_description:
        text += f" - {resolved.preset_description}"
    if resolved.preset != "paper":
        text += ". Use --preset paper for the published protocol."
    return text
