"""The plugin contract: one hook per kind of thing a plugin can bring, and
one per run event.

Each *spec* hook takes no arguments and returns a list of specs (see
:mod:`cardiobench.specs`). cardiobench calls every registered implementation,
validates what it returns and refuses a name that two plugins register.

Each *run-event* hook (``cardiobench_run_start`` ... ``cardiobench_run_end``)
is called on rank 0 as a run goes, with keyword arguments; an implementation
may take any subset of them. Events only observe: an implementation that
raises is reported once on stderr and not called again in that process, and
the run goes on. The console lines and progress bar and the run's
``log.txt`` are written by two built-in implementations
(:mod:`cardiobench.observers`); trackers (``--track``) are more.

A plugin is a module (or object) with functions decorated by :data:`hookimpl`;
it is found through the ``cardiobench`` entry-point group, ``--plugin
module.path`` or ``CARDIOBENCH_PLUGINS``. Implement only the hooks you need::

    from cardiobench import hookimpl

    @hookimpl
    def cardiobench_models():
        return [ModelSpec(name="my-net", ...)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

from cardiobench import hookimpl
from cardiobench.specs import DatasetSpec, MetricSpec, ModelSource, ModelSpec, ReportedResult, RunInfo, TaskSpec, TrackerSpec

PROJECT = "cardiobench"
hookspec = pluggy.HookspecMarker(PROJECT)
__all__ = ["hookimpl", "hookspec"]


@hookspec
def cardiobench_tasks() -> list[TaskSpec]:
    """Return the tasks this plugin defines.

    A task names its default dataset, its metrics (by registered metric name),
    the metric that ranks leaderboards, and a folder of YAML presets
    (``defaults.yaml`` plus ``paper``, ``quick`` and ``ci``). Bump
    ``version`` whenever a change could alter a task's results.
    """


@hookspec
def cardiobench_datasets() -> list[DatasetSpec]:
    """Return the datasets this plugin can read.

    ``load(request)`` reads the dataset's public on-disk format and returns a
    :class:`~cardiobench.specs.DataBundle` for the requested task; with
    ``request.data_root=None`` it reads a synthetic copy written by the spec's
    ``synthesizer`` in that same format. ``check`` validates a folder and reports every bad row or
    file at once. Nothing may be downloaded.
    """


@hookspec
def cardiobench_models() -> list[ModelSpec]:
    """Return the models this plugin provides, each naming the tasks it serves.

    ``build(config, info)`` returns an ``nn.Module`` that also implements
    ``loss(outputs, batch)`` and ``predict(outputs)``
    (:class:`~cardiobench.specs.BenchModel`). Model-specific config keys and
    their defaults go in ``defaults`` and appear under ``model.`` in a run's
    config.
    """


@hookspec
def cardiobench_metrics() -> list[MetricSpec]:
    """Return metrics, each a function ``fn(y_true, y_pred) -> float``.

    Compute them with a reference library (scikit-learn, torchmetrics) rather
    than by hand; say which in ``citation``. Tasks refer to metrics by name,
    so one metric serves every task that needs it.
    """


@hookspec
def cardiobench_reported_results() -> list[ReportedResult]:
    """Return numbers a paper reports (method, metric, value, split, citation,
    table), so leaderboards can show them beside reproduced rows.

    Register only numbers the paper states; never estimate a missing one.
    """


@hookspec
def cardiobench_trackers() -> list[TrackerSpec]:
    """Return experiment trackers, each enabled per run by ``--track NAME``
    (or the config key ``track``).

    Import the tracker's library inside ``create``, not at module level, so
    that cardiobench works without it; an ``ImportError`` there becomes one
    warning naming ``install``.
    """


@hookspec
def cardiobench_model_sources() -> list[ModelSource]:
    """Return model sources: each resolves the model names ``<prefix>:<rest>``
    (e.g. ``timm:convnext_atto``, ``py:my_net.py:build``) for any task with a
    model contract, so a library's models need no plugin each.

    ``find(rest, contract)`` returns a :class:`~cardiobench.specs.SourcedModel`:
    the constructor's settable arguments (``--model-args``) and a ``create``
    that builds the network for the task's contract (input channels, classes).
    A bare network is completed with the task kind's loss and decoding
    (:mod:`cardiobench.task_models`). Never download weights. The built-in
    sources (``timm``, ``torchvision``, ``monai``, ``smp``, ``py``) are
    plugins of this hook like any other.
    """


# --------------------------------------------------------------------------- run events


@hookspec
def cardiobench_run_start(run: RunInfo) -> None:
    """A run starts (or resumes) in ``run.run_dir``; ``run.config`` is its
    resolved config, ``run.folds`` its fold names."""


@hookspec
def cardiobench_epoch_end(run: RunInfo, fold: str, epoch: int, epochs: int, values: dict[str, float], best: bool) -> None:
    """Training epoch ``epoch`` (1-based, of ``epochs``) of ``fold`` ended.

    ``values`` holds ``train_loss``, ``val_loss``, ``val_<selection metric>``
    (the validation metric that selects the best epoch), ``seconds`` and
    ``items_per_second``; ``best`` says whether this epoch is the best so far.
    """


@hookspec
def cardiobench_test_end(run: RunInfo, record: dict[str, Any]) -> None:
    """The run's test set is scored and ``record`` (see ``record.json``) and
    its plots are written."""


@hookspec
def cardiobench_run_end(run: RunInfo, status: str) -> None:
    """The run stopped: ``status`` is ``finished``, ``failed`` or ``interrupted``.
    Close what ``cardiobench_run_start`` opened here."""


@hookspec
def cardiobench_stage_start(run: RunInfo, stage: str, stage_dir: Path) -> None:
    """A model's preparation stage ``stage`` (e.g. ``lvef-seg/segmenter``)
    starts in ``stage_dir`` for ``run`` (whose ``run_dir`` is not made yet);
    the stage is a run of its own and sends its own run events."""


@hookspec
def cardiobench_stage_end(run: RunInfo, stage: str, stage_dir: Path, record: dict[str, Any], reused: bool) -> None:
    """Stage ``stage`` of ``run`` finished with ``record``; ``reused`` when an
    earlier run had already trained it."""
