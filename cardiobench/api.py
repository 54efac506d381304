"""The Python API, beside the command line on the same floor::

    import cardiobench

    record = cardiobench.run("dcm-cls", "timm:convnext_atto", preset="ci")
    record.metrics["auc"]["value"], record.run_dir
    record.to_polars()  # one row per test item

``model`` is a registered name, a source string (``timm:NAME``,
``torchvision:NAME``, ``monai:NAME``, ``smp:ARCH``, ``py:file.py:factory``),
an ``nn.Module`` (copied afresh for every fold) or a factory
``factory(contract, **model_args)``. :func:`evaluate` tests trained weights
without training, :func:`score` rates predictions made elsewhere, and
:func:`datasets` hands out a task's train/validation/test datasets for people
who keep their own training loop.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from torch import nn
from torch.utils.data import Dataset, default_collate

from cardiobench import config, progress, records
from cardiobench.contract import ModelContract
from cardiobench.errors import ConfigError
from cardiobench.cross_dataset import external_test
from cardiobench.registry import Registered, Registry, load_registry
from cardiobench.run_request import RunRequest
from cardiobench.runner import run as run_request
from cardiobench.sources import signature
from cardiobench.specs import DataBundle, DataRequest, ModelSpec

ModelLike = str | nn.Module | Callable[..., nn.Module]


@dataclass
class Record:
    """A finished run: its record (``data``), metrics with intervals, per-item predictions and paths."""

    data: dict[str, Any]
    run_dir: Path

    @property
    def metrics(self) -> dict[str, dict[str, float | None]]:
        """``{metric: {"value", "ci_low", "ci_high", ...}}``."""
        return self.data["metrics"]

    def value(self, metric: str) -> float:
        return float(self.metrics[metric]["value"])

    @property
    def predictions_path(self) -> Path:
        return self.run_dir / "predictions.csv"

    def to_polars(self) -> pl.DataFrame:
        """One row per test item (fold, id, truth and prediction; pixel counts for masks)."""
        return pl.read_csv(self.predictions_path)

    def __repr__(self) -> str:
        task, model = self.data["task"]["name"], self.data["model"]["name"]
        shown = ", ".join(f"{k}={v['value']:.4g}" for k, v in list(self.metrics.items())[:3] if v.get("value") is not None)
        return f"Record({task}/{model}: {shown}; {self.run_dir})"


@dataclass
class TaskData:
    """A task's data for one fold, as torch datasets, with the collate its
    items need and the task's model contract (channels, classes, output)."""

    train: Dataset
    val: Dataset
    test: Dataset
    contract: ModelContract | None
    info: dict[str, Any] = field(default_factory=dict)
    fold: str = ""
    fingerprint: str = ""
    collate: Callable[[list[Any]], Any] = default_collate


@contextlib.contextmanager
def _quiet(quiet: bool) -> Iterator[None]:
    """Nothing printed and no progress bars (the run's log.txt keeps every line)."""
    if not quiet:
        yield
        return
    was = progress.enabled()
    progress.set_enabled(False)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        progress.set_enabled(was)


def _model_name(registry: Registry, task: str, model: ModelLike) -> str:
    """A name the registry resolves for ``model``: itself for a string, else an in-process model spec."""
    if isinstance(model, str):
        return model
    label = type(model).__name__ if isinstance(model, nn.Module) else getattr(model, "__name__", "factory")
    name = f"python:{label}"
    defaults: dict[str, Any] = {}
    if isinstance(model, nn.Module):
        build: Callable[[Mapping[str, Any], Mapping[str, Any]], nn.Module] = lambda values, info: copy.deepcopy(model)  # noqa: E731 - the same initial weights in every fold
    else:
        contract = registry.task(task).contract
        first = next(iter(inspect.signature(model).parameters), None)
        defaults, _ = signature.parameters(model, {first} if first else set())

        def build(values: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
            given = {k: v for k, v in values["model"].items() if v != defaults.get(k)}
            return model(contract.resolved(info) if contract else None, **given)

    spec = ModelSpec(name, 1, f"{label}, given from Python", "given from Python", (task,), build, defaults, sections={"objective": {"loss": None}}, source="python", origin=f"{getattr(model, '__module__', '')}.{label}")
    registry.sourced[(name, task)] = Registered(spec, "__main__")
    return name


def _request(task: str, model: str, preset: str, seed: int, overrides: Sequence[str] | None, model_args: Mapping[str, Any] | None, **fields: Any) -> RunRequest:
    args = [f"model.{k}={v}" for k, v in (model_args or {}).items()]
    return RunRequest(task=task, model=model, preset=preset, seed=seed, overrides=[*args, *(overrides or [])], **{k: (str(v) if isinstance(v, Path) else v) for k, v in fields.items()})


def run(
    task: str,
    model: ModelLike,
    preset: str = "quick",
    seed: int = 0,
    overrides: Sequence[str] | None = None,
    data_root: str | Path | None = None,
    runs_dir: str | Path | None = None,
    quiet: bool = True,
    *,
    dataset: str | None = None,
    model_args: Mapping[str, Any] | None = None,
    weights: str | Path | None = None,
    device: str = "auto",
    plugins: Sequence[str] = (),
    registry: Registry | None = None,
) -> Record:
    """Train (or, from ``weights``, fine-tune) and test ``model`` on ``task``, as ``cardiobench run`` does."""
    return _run(task, model, preset, seed, overrides, data_root, runs_dir, quiet, dataset, model_args, device, plugins, registry, weights=weights)


def evaluate(
    task: str,
    model: ModelLike,
    weights: str | Path,
    preset: str = "quick",
    seed: int = 0,
    overrides: Sequence[str] | None = None,
    data_root: str | Path | None = None,
    runs_dir: str | Path | None = None,
    quiet: bool = True,
    *,
    dataset: str | None = None,
    model_args: Mapping[str, Any] | None = None,
    reinit_mismatched: bool = False,
    device: str = "auto",
    plugins: Sequence[str] = (),
    registry: Registry | None = None,
) -> Record:
    """Test trained ``weights`` (a file, or a folder with one per fold) without training, as ``cardiobench evaluate``."""
    return _run(task, model, preset, seed, overrides, data_root, runs_dir, quiet, dataset, model_args, device, plugins, registry, weights=weights, eval_only=True, reinit_mismatched=reinit_mismatched)


def score(
    task: str,
    predictions: str | Path,
    name: str | None = None,
    preset: str = "quick",
    seed: int = 0,
    overrides: Sequence[str] | None = None,
    data_root: str | Path | None = None,
    runs_dir: str | Path | None = None,
    quiet: bool = True,
    *,
    dataset: str | None = None,
    plugins: Sequence[str] = (),
    registry: Registry | None = None,
) -> Record:
    """Score a predictions file made elsewhere (see :mod:`cardiobench.external`), as ``cardiobench score``."""
    model = f"external:{name or Path(predictions).stem}"
    return _run(task, model, preset, seed, overrides, data_root, runs_dir, quiet, dataset, None, "cpu", plugins, registry, predictions=Path(predictions).resolve())


def _run(task: str, model: ModelLike, preset: str, seed: int, overrides: Sequence[str] | None, data_root: str | Path | None, runs_dir: str | Path | None, quiet: bool, dataset: str | None, model_args: Mapping[str, Any] | None, device: str, plugins: Sequence[str], registry: Registry | None, **fields: Any) -> Record:
    registry = registry or load_registry(plugins)
    name = _model_name(registry, task, model)
    root = str(Path(data_root).expanduser().resolve()) if data_root else None
    weights = fields.pop("weights", None)
    request = _request(task, name, preset, seed, overrides, model_args, dataset=dataset, data_root=root, device=device, plugins=list(plugins), weights=str(Path(weights).expanduser().resolve()) if weights else None, **fields)
    with _quiet(quiet):
        outcome = run_request(request, registry, runs_dir=Path(runs_dir) if runs_dir else Path("runs"))
    return Record(records.read(outcome.run_dir / records.RECORD_FILE), outcome.run_dir)


def load_data(task: str, preset: str = "quick", seed: int = 0, overrides: Sequence[str] | None = None, data_root: str | Path | None = None, dataset: str | None = None, registry: Registry | None = None, test_dataset: str | None = None, test_data_root: str | Path | None = None) -> tuple[DataBundle, Registry]:
    """A task's data as a run of ``preset`` would load it (task-level config
    keys only); with ``test_dataset``, its test split tests (external validation)."""
    registry = registry or load_registry()
    spec = registry.task(task)
    chosen = registry.dataset(dataset or spec.default_dataset)
    tested_on = [registry.dataset(test_dataset)] if test_dataset else []
    values = config.resolve(spec, None, preset, list(overrides or []), [chosen, *tested_on]).values
    root = Path(data_root).expanduser() if data_root else None
    bundle = chosen.load(DataRequest(spec.name, root, values, seed))
    for other in tested_on:
        bundle = external_test(bundle, other, DataRequest(spec.name, Path(test_data_root).expanduser() if test_data_root else None, values, seed, bundle.info))
    return bundle, registry


def datasets(task: str, fold: int | str = 0, preset: str = "quick", seed: int = 0, overrides: Sequence[str] | None = None, data_root: str | Path | None = None, dataset: str | None = None, quiet: bool = True) -> TaskData:
    """One fold's train/validation/test datasets of ``task`` (items are dicts
    with ``input``, ``target`` and ``id``), the task's collate and contract."""
    with _quiet(quiet):
        bundle, registry = load_data(task, preset, seed, overrides, data_root, dataset)
    names = [f.name for f in bundle.folds]
    index = names.index(fold) if isinstance(fold, str) and fold in names else fold
    if not isinstance(index, int) or not 0 <= index < len(names):
        raise ConfigError(f"Task {task!r} has folds {', '.join(names)} (or 0..{len(names) - 1}); got fold={fold!r}.")
    chosen = bundle.folds[index]
    return TaskData(chosen.train, chosen.val, chosen.test, registry.task(task).contract, dict(bundle.info), chosen.name, bundle.fingerprint)
