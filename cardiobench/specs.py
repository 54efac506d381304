"""The plain data a plugin hands to cardiobench: task, dataset, model, metric,
reported-result and tracker specs, and the run description run events carry.

A spec is data plus factories. The core reads the data (names, versions,
citations) and calls the factories (``build``, ``load``, ``fn``) at run time; it
never imports a plugin's internals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from cardiobench.contract import ModelContract

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")


# --------------------------------------------------------------------------- data
@dataclass
class Fold:
    """One train/validation/test partition. Every dataset item is a dict with at
    least ``input`` (tensor), ``target`` (tensor) and ``id`` (str); the engine
    averages test predictions that share an ``id`` (test-time clips, patches).

    A dataset may define ``set_epoch(epoch)`` to draw epoch-specific random
    samples; the engine calls it before every training epoch. A classification
    dataset may define ``class_targets()`` (each item's class index, without
    reading an input): a fold whose validation part lacks a class is then named
    before it trains and selects by validation loss (:mod:`cardiobench.selection`).
    """

    name: str
    train: Dataset
    val: Dataset
    test: Dataset


@dataclass(frozen=True)
class DataRequest:
    """What a dataset spec is asked to load or check.

    ``data_root=None`` means the dataset's synthetic stand-in (generated on
    first use); ``task`` says which task's items to build (a dataset may serve
    several); ``seed`` fixes any sampling (test clips, folds). ``reference``
    is the training dataset's ``info`` when this dataset only tests a model
    trained on another (``--test-dataset``): a reader that normalises inputs
    uses its statistics (e.g. ``channel_mean``), as a deployed model would.
    """

    task: str
    data_root: Path | None
    config: Mapping[str, Any]
    seed: int = 0
    reference: Mapping[str, Any] | None = None


@dataclass
class DataBundle:
    """What a dataset spec's ``load`` returns.

    ``fingerprint`` hashes labels, file list and split, so two runs on the same
    fingerprint saw the same data. ``info`` carries facts models may need
    (e.g. ``train_target_mean``) and lands in the run record; a list of class
    names under ``classes`` adds a per-class precision, recall and F1 table to
    the record of a task predicting (N, K) class scores. ``train_targets``
    per fold feed the task's trivial reference baseline. ``subsets`` name
    groups of test items this dataset knows of (e.g. CAMUS's image quality),
    scored beside the task's own subsets as ``<metric>/<subset>``.
    ``tested_on`` names another dataset whose test split replaced this one's
    (external validation, :mod:`cardiobench.cross_dataset`).
    """

    folds: list[Fold]
    fingerprint: str
    source: str
    info: dict[str, Any] = field(default_factory=dict)
    train_targets: list[np.ndarray] = field(default_factory=list)
    subsets: Mapping[str, Callable[[Sequence[str]], np.ndarray]] = field(default_factory=dict)
    tested_on: dict[str, Any] | None = None


@dataclass(frozen=True)
class Synthesizer:
    """A generator that writes a dataset's real on-disk format.

    ``write(out_dir, n, seed)`` creates ``out_dir`` in the real format;
    ``n=None`` means the generator's default size.
    """

    name: str
    description: str
    write: Callable[[Path, int | None, int], None]


# ------------------------------------------------------------------------- models
@runtime_checkable
class BenchModel(Protocol):
    """The interface the engine trains: an ``nn.Module`` whose ``forward`` takes a
    batch's ``input`` tensor, plus a loss and a decoder into the task's label space.
    """

    def __call__(self, x: torch.Tensor) -> Any: ...

    def loss(self, outputs: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        """Scalar training loss for ``outputs`` against the batch's targets."""
        ...

    def predict(self, outputs: Any) -> torch.Tensor:
        """Predictions in the task's label space: (B,) values or (B, K) scores."""
        ...


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ------------------------------------------------------------------------- specs
def _name_problems(kind: str, name: Any) -> list[str]:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return [f"{kind} name {name!r} must be lower-case letters, digits and . _ + - "]
    return []


def _text_problems(spec: Any, *fields: str) -> list[str]:
    return [f"{f} must be a non-empty string" for f in fields if not isinstance(getattr(spec, f), str) or not getattr(spec, f).strip()]


def _version_problems(version: Any) -> list[str]:
    return [] if isinstance(version, int) and version >= 1 else [f"version must be an integer >= 1, got {version!r}"]


@dataclass(frozen=True)
class Grouping:
    """Items scored together: predictions of the items sharing ``key(id)`` are
    averaged (e.g. a patient's slices), then scored with ``metrics``, reported
    as ``<metric>/<name>`` (e.g. ``auc/patient``)."""

    name: str
    key: Callable[[str], str]
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class ConsistencyCheck:
    """A relation a task's metrics must satisfy, used to audit reported numbers.

    ``holds(values)`` gets a row's values of ``metrics`` (every one present)
    and returns whether the relation holds; ``statement`` says it in words
    (shown beside a row that violates it).
    """

    name: str
    metrics: tuple[str, ...]
    holds: Callable[[Mapping[str, float]], bool]
    statement: str


@dataclass(frozen=True)
class TaskSpec:
    """A benchmark task: what is predicted, from which dataset, scored how.

    ``presets_dir`` holds ``defaults.yaml`` (every valid config key with its
    default) and one YAML per preset (``paper``, ``quick``, ``ci``), optionally
    refined per model in ``<model>/<preset>.yaml``. The first metric in
    ``metrics`` that equals ``rank_metric`` ranks leaderboards, in the direction
    its metric spec gives. ``reference_baseline`` maps training targets to the
    constant prediction a trivial model would make (printed beside the model);
    ``paper_baseline`` names the model the task's paper compares its method
    with (leaderboards test every row against it).
    ``subsets`` name groups of test items (a predicate over item ids); every
    metric is also reported on each, as ``<metric>/<subset>``. ``preview``
    turns one input item into an RGB uint8 image (for overlays such as CAMs).
    ``analysis(model, fold, device, out_dir)`` runs after each fold's test with
    the selected weights and returns extra numbers for the run record (averaged
    over folds), writing any plots under ``out_dir``. ``groupings`` score
    predictions averaged over groups of items (e.g. per patient);
    ``checks`` are relations between the task's metrics that audit the
    papers' reported numbers (:mod:`cardiobench.audit`). ``contract`` says
    what a model receives and returns (:class:`~cardiobench.contract.ModelContract`):
    with it the core wraps bare networks, builds library models for the task
    and checks every model on one batch before training.
    """

    name: str
    version: int
    description: str
    citation: str
    modality: str
    default_dataset: str
    metrics: tuple[str, ...]
    rank_metric: str
    presets_dir: Path
    reference_baseline: Callable[[np.ndarray], np.ndarray] | None = None
    reference_baseline_name: str = ""
    paper_baseline: str = ""
    plots: Callable[[Any, Path], list[Path]] | None = None
    subsets: Mapping[str, Callable[[Sequence[str]], np.ndarray]] = field(default_factory=dict)
    preview: Callable[[torch.Tensor, Mapping[str, Any]], np.ndarray] | None = None
    analysis: Callable[[nn.Module, Fold, torch.device, Path], dict[str, float]] | None = None
    groupings: tuple[Grouping, ...] = ()
    checks: tuple[ConsistencyCheck, ...] = ()
    contract: ModelContract | None = None

    def problems(self) -> list[str]:
        out = _name_problems("task", self.name) + _version_problems(self.version)
        out += _text_problems(self, "description", "citation", "modality", "default_dataset")
        if not self.metrics:
            out.append("metrics must list at least one metric name")
        if self.rank_metric not in self.metrics:
            out.append(f"rank_metric {self.rank_metric!r} is not among metrics {list(self.metrics)}")
        if not (Path(self.presets_dir) / "defaults.yaml").is_file():
            out.append(f"presets_dir {self.presets_dir} has no defaults.yaml")
        if self.contract is not None and not isinstance(self.contract, ModelContract):
            out.append(f"contract must be a ModelContract, got {type(self.contract).__name__}")
        return out


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: a reader for its public on-disk format and, ideally, a
    synthesizer writing that same format.

    ``load(request)`` returns a :class:`DataBundle` for a :class:`DataRequest`.
    ``check(request)`` validates a folder, raises a ``DataError`` listing every
    problem, and otherwise returns a one-line summary. ``sections`` adds
    top-level config sections only this dataset reads, with their defaults
    (e.g. ``camus: {view: 4CH}``), present in a run's config when it uses
    this dataset.
    """

    name: str
    version: int
    description: str
    citation: str
    tasks: tuple[str, ...]
    load: Callable[[DataRequest], DataBundle]
    check: Callable[[DataRequest], str]
    license: str = ""
    synthesizer: Synthesizer | None = None
    sections: Mapping[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        out = _name_problems("dataset", self.name) + _version_problems(self.version)
        out += _text_problems(self, "description", "citation")
        if not callable(self.load) or not callable(self.check):
            out.append("load and check must be callables")
        return out


@dataclass(frozen=True)
class ModelSpec:
    """A model: ``build(config, info)`` returns a :class:`BenchModel`.

    ``config`` is the resolved run config; its ``model`` section starts from
    ``defaults``. ``sections`` adds top-level config sections only this model
    reads (e.g. ``aux``). ``info`` is the data bundle's ``info``. ``prepare``
    (optional) runs before training as ``prepare(bundle, config, context)``
    with a :class:`~cardiobench.runner.StageContext`, may run recorded stages
    (e.g. train a segmenter) and returns the bundle the model trains on plus
    facts for the run record. ``build`` may return a bare network: the core
    completes it with the task's standard loss and decoding
    (:mod:`cardiobench.task_models`). ``source`` and ``origin`` are set for
    models a :class:`ModelSource` built (its prefix; e.g. a file's hash);
    ``required`` names ``model.`` keys that have no default and must be set.
    """

    name: str
    version: int
    description: str
    citation: str
    tasks: tuple[str, ...]
    build: Callable[[Mapping[str, Any], Mapping[str, Any]], nn.Module]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    prepare: Callable[..., tuple[DataBundle, dict[str, Any]]] | None = None
    source: str = ""
    origin: str = ""
    required: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        out = _name_problems("model", self.name) + _version_problems(self.version)
        out += _text_problems(self, "description", "citation")
        if not self.tasks:
            out.append("tasks must name at least one task")
        if not callable(self.build):
            out.append("build must be a callable")
        return out


@dataclass(frozen=True)
class SourcedModel:
    """One model a :class:`ModelSource` found: its constructor's arguments
    and how to build it.

    ``parameters`` maps each argument a user may set (``--model-args``) to its
    default (``None`` where the constructor has none, or none that YAML can
    hold); ``required`` names those that must be set. ``create(contract,
    args)`` returns an ``nn.Module`` for the task's (resolved) contract, bare
    or complete, given only the arguments the user set. ``origin`` identifies
    what was built beyond its name (e.g. a file's SHA-256), for the record.
    """

    parameters: Mapping[str, Any]
    create: Callable[[ModelContract, Mapping[str, Any]], nn.Module]
    required: tuple[str, ...] = ()
    description: str = ""
    origin: str = ""


@dataclass(frozen=True)
class ModelSource:
    """Models named ``<prefix>:<rest>``, resolved without a plugin per model
    (e.g. ``timm:convnext_atto``).

    ``find(rest, contract)`` returns a :class:`SourcedModel`, or raises a
    ``CardiobenchError`` (an unknown name with did-you-mean, a missing
    library with what to install, a model that cannot serve the contract).
    ``example`` is a full name that works, shown by ``cardiobench list
    models``; ``outputs`` and ``inputs`` list the contract output kinds and
    input kinds (signal, image, video) it can serve.
    """

    prefix: str
    description: str
    example: str
    find: Callable[[str, ModelContract], SourcedModel]
    outputs: tuple[str, ...] = ("classes", "scalar", "mask")
    install: str = ""
    inputs: tuple[str, ...] = ("signal", "image", "video")

    def serves(self, contract: ModelContract | None) -> bool:
        """Whether this source can build models for a task with ``contract``."""
        return contract is not None and contract.output in self.outputs and contract.kind in self.inputs

    @property
    def name(self) -> str:
        return self.prefix

    def problems(self) -> list[str]:
        out = [] if isinstance(self.prefix, str) and re.match(r"^[a-z][a-z0-9_-]*$", self.prefix) else [f"prefix {self.prefix!r} must be lower-case letters, digits, _ and -"]
        out += _text_problems(self, "description", "example")
        if not callable(self.find):
            out.append("find must be a callable")
        return out


@dataclass(frozen=True)
class MetricSpec:
    """A metric ``fn(y_true, y_pred) -> float`` over whole evaluation sets.

    ``y_pred`` is what the task's models predict: (N,) values, (N, K) scores or
    (N, H, W) maps. A metric over large per-item arrays may also give
    ``item_stats(y_true, y_pred) -> (N, k)`` sufficient statistics and
    ``from_stats(stats) -> float`` with ``fn == from_stats(item_stats(...))``;
    bootstrap intervals then resample the statistics instead of the arrays.
    ``from_stats_many(stats) -> (R,)`` (optional) computes ``from_stats`` for
    R resamples at once from (R, N, k) statistics, for leaderboard intervals.
    ``item_values(stats) -> (N,)`` (optional), for a metric that is a mean
    over items, gives each item's value (NaN where undefined), which the
    leaderboard compares with the Wilcoxon signed-rank test. ``outcomes``
    says those values are right (1) or wrong (0), as accuracy's are: pairs
    are then compared with the exact McNemar test instead.
    """

    name: str
    description: str
    higher_is_better: bool
    fn: Callable[[np.ndarray, np.ndarray], float]
    citation: str = ""
    item_stats: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    from_stats: Callable[[np.ndarray], float] | None = None
    from_stats_many: Callable[[np.ndarray], np.ndarray] | None = None
    item_values: Callable[[np.ndarray], np.ndarray] | None = None
    outcomes: bool = False

    def problems(self) -> list[str]:
        out = _name_problems("metric", self.name) + _text_problems(self, "description")
        if not callable(self.fn):
            out.append("fn must be a callable")
        if (self.item_stats is None) != (self.from_stats is None):
            out.append("item_stats and from_stats come together")
        if self.from_stats_many is not None and self.from_stats is None:
            out.append("from_stats_many needs item_stats and from_stats")
        if self.item_values is not None and self.from_stats is None:
            out.append("item_values needs item_stats and from_stats")
        if self.outcomes and self.item_values is None:
            out.append("outcomes needs item_values (each item's right or wrong)")
        return out


@dataclass(frozen=True)
class ReportedResult:
    """A number a paper reports, kept apart from reproduced results.

    ``protocol`` names the preset that follows the paper's protocol (usually
    ``paper``); ``model`` names the registered model it corresponds to, if any.
    """

    task: str
    dataset: str
    method: str
    metric: str
    value: float
    split: str
    citation: str
    table: str
    protocol: str = "paper"
    model: str | None = None
    notes: str = ""

    @property
    def name(self) -> str:
        return f"{self.task}/{self.method}/{self.metric}/{self.table}"

    def problems(self) -> list[str]:
        out = _text_problems(self, "task", "dataset", "method", "metric", "split", "citation", "table")
        if not isinstance(self.value, (int, float)) or not np.isfinite(self.value):
            out.append(f"value must be a finite number, got {self.value!r}")
        return out


@dataclass(frozen=True)
class RunInfo:
    """The run an event is about, as run-event hooks receive it.

    ``run_dir`` is ``None`` only for the run that owns a stage, whose
    directory is made after its stages finish; ``track`` lists the trackers
    the run uses (a stage's include its owner's).
    """

    task: str
    model: str
    seed: int
    preset: str
    config: Mapping[str, Any]
    run_dir: Path | None = None
    folds: tuple[str, ...] = ()
    track: tuple[str, ...] = ()

    def fold_label(self, fold: str) -> str:
        """``[fold] `` before a line about one fold of a cross-validated run; nothing for a single split."""
        return f"[{fold}] " if len(self.folds) > 1 else ""

    @property
    def label(self) -> str:
        return f"{self.task}/{self.model}"


@dataclass(frozen=True)
class TrackerSpec:
    """An experiment tracker a run can enable with ``--track NAME``.

    ``create(run)`` is called when a run that asked for it starts and returns
    an object implementing run-event hooks (methods marked with
    :data:`~cardiobench.hookimpl`, e.g. ``cardiobench_epoch_end``); it is
    registered for that run only. ``install`` tells a user what to install
    when ``create`` cannot import its library.
    """

    name: str
    description: str
    create: Callable[[RunInfo], Any]
    install: str = ""

    def problems(self) -> list[str]:
        out = _name_problems("tracker", self.name) + _text_problems(self, "description")
        if not callable(self.create):
            out.append("create must be a callable")
        return out


SPEC_KINDS: dict[str, type] = {
    "tasks": TaskSpec,
    "datasets": DatasetSpec,
    "models": ModelSpec,
    "metrics": MetricSpec,
    "reported_results": ReportedResult,
    "trackers": TrackerSpec,
    "model_sources": ModelSource,
}


def validate_spec_list(kind: str, specs: Any) -> list[str]:
    """Problems with one hook's return value (a list of ``SPEC_KINDS[kind]``)."""
    expected = SPEC_KINDS[kind]
    if not isinstance(specs, Sequence) or isinstance(specs, (str, bytes)):
        return [f"cardiobench_{kind} must return a list of {expected.__name__}, got {type(specs).__name__}"]
    problems = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, expected):
            problems.append(f"item {i} of cardiobench_{kind} is a {type(spec).__name__}, not a {expected.__name__}")
            continue
        label = getattr(spec, "name", i)
        problems += [f"{expected.__name__} {label!r}: {p}" for p in spec.problems()]
    return problems
