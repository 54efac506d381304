"""The plugin contract: one hook per kind of thing a plugin can bring.

Each hook takes no arguments and returns a list of specs (see
:mod:`cardiobench.specs`). cardiobench calls every registered implementation,
validates what it returns and refuses a name that two plugins register.

A plugin is a module (or object) with functions decorated by :data:`hookimpl`;
it is found through the ``cardiobench`` entry-point group, ``--plugin
module.path`` or ``CARDIOBENCH_PLUGINS``. Implement only the hooks you need::

    from cardiobench import hookimpl

    @hookimpl
    def cardiobench_models():
        return [ModelSpec(name="my-net", ...)]
"""

from __future__ import annotations

import pluggy

from cardiobench.specs import DatasetSpec, MetricSpec, ModelSpec, ReportedResult, TaskSpec

PROJECT = "cardiobench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


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
