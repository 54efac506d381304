"""Plugin discovery and name lookup.

Plugins come from the ``cardiobench`` entry-point group (first-party ones
too), from ``--plugin module.path`` and from ``CARDIOBENCH_PLUGINS``
(comma-separated module paths). ``CARDIOBENCH_DISABLE_PLUGINS``
(comma-separated plugin names) blocks any of them.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata as metadata
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import pluggy

from cardiobench import __version__, hookspecs, model_sources, observers, sources
from cardiobench.errors import CardiobenchError, PluginError, UnknownNameError, bulleted, out_of_memory, unknown_name
from cardiobench.events import Events
from cardiobench.specs import SPEC_KINDS, DatasetSpec, MetricSpec, ModelSource, ModelSpec, ReportedResult, TaskSpec, TrackerSpec, validate_spec_list

ENTRY_POINT_GROUP = "cardiobench"
ENV_PLUGINS = "CARDIOBENCH_PLUGINS"
ENV_DISABLE = "CARDIOBENCH_DISABLE_PLUGINS"

S = TypeVar("S")


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, version, origin and the hooks it implements."""

    name: str
    version: str
    origin: str
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class Registered(Generic[S]):
    """A spec together with the plugin that registered it."""

    spec: S
    plugin: str


@dataclass
class Registry:
    """Every spec the loaded plugins registered, by kind and name."""

    plugins: list[PluginInfo] = field(default_factory=list)
    tasks: dict[str, Registered[TaskSpec]] = field(default_factory=dict)
    datasets: dict[str, Registered[DatasetSpec]] = field(default_factory=dict)
    models: dict[str, Registered[ModelSpec]] = field(default_factory=dict)
    metrics: dict[str, Registered[MetricSpec]] = field(default_factory=dict)
    reported_results: list[Registered[ReportedResult]] = field(default_factory=list)
    trackers: dict[str, Registered[TrackerSpec]] = field(default_factory=dict)
    model_sources: dict[str, Registered[ModelSource]] = field(default_factory=dict)
    sourced: dict[tuple[str, str], Registered[ModelSpec]] = field(default_factory=dict)
    events: Events = field(default_factory=lambda: Events(_manager(), {}))

    def task(self, name: str) -> TaskSpec:
        return self._lookup("task", self.tasks, name)

    def dataset(self, name: str) -> DatasetSpec:
        return self._lookup("dataset", self.datasets, name)

    def model(self, name: str, task: str | None = None) -> ModelSpec:
        """A registered model, or (given the ``task`` it is for) a model
        named through a source, e.g. ``timm:convnext_atto``."""
        if name in self.models or not model_sources.is_source_name(name):
            try:
                return self._lookup("model", self.models, name)
            except UnknownNameError as exc:
                raise UnknownNameError(f"{exc} Any library model works too, e.g. {', '.join(s.spec.example for s in self.model_sources.values())} (see: cardiobench list models).") from None
        if task is None:
            raise CardiobenchError(f"Model {name!r} comes from a model source; it is built for a task (give the task).")
        if (name, task) not in self.sourced:
            prefix, rest = model_sources.split(name)
            source = self.model_sources.get(prefix)
            if source is None and "." in prefix and "py" in self.model_sources:  # module.path:factory
                source, rest = self.model_sources["py"], name
            elif source is None:
                raise unknown_name("model source", prefix, self.model_sources)
            spec = model_sources.sourced_spec(name, rest, self.task(task), source.spec)
            self.sourced[(name, task)] = Registered(_guard("models", spec, source.plugin), source.plugin)
        return self.sourced[(name, task)].spec

    def metric(self, name: str) -> MetricSpec:
        return self._lookup("metric", self.metrics, name)

    def tracker(self, name: str) -> TrackerSpec:
        return self._lookup("tracker", self.trackers, name)

    def plugin_of(self, kind: str, name: str) -> str:
        if kind == "models" and name not in self.models:
            return next(r.plugin for (n, _), r in self.sourced.items() if n == name)
        return getattr(self, kind)[name].plugin

    def plugin_version(self, plugin: str) -> str:
        return next((p.version for p in self.plugins if p.name == plugin), "unknown")

    def models_for(self, task: str) -> list[ModelSpec]:
        return [r.spec for r in self.models.values() if task in r.spec.tasks]

    def reported_for(self, task: str) -> list[ReportedResult]:
        return [r.spec for r in self.reported_results if r.spec.task == task]

    @staticmethod
    def _lookup(kind: str, table: Mapping[str, Registered[Any]], name: str) -> Any:
        if name not in table:
            raise unknown_name(kind, name, table)
        return table[name].spec


def _split_env(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _import_plugin(name: str, load: Any, origin: str) -> Any:
    try:
        return load()
    except Exception as exc:  # a plugin's import error must name the plugin
        raise PluginError(
            f"Plugin {name!r} ({origin}) failed to import: {type(exc).__name__}: {exc}. "
            f"Fix or uninstall it, or block it with {ENV_DISABLE}={name}."
        ) from exc


def _discover(extra: Iterable[str], environ: Mapping[str, str]) -> list[tuple[str, Any, str, str]]:
    """(name, plugin object, version, origin) for every plugin not blocked."""
    blocked = set(_split_env(environ.get(ENV_DISABLE)))
    found: list[tuple[str, Any, str, str]] = []
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in blocked:
            continue
        dist = ep.dist.name if ep.dist else "?"
        origin = f"entry point {ep.value!r} of distribution {dist}"
        plugin = _import_plugin(ep.name, ep.load, origin)
        version = getattr(plugin, "__version__", None) or (ep.dist.version if ep.dist else "unknown")
        found.append((ep.name, plugin, str(version), origin))
    for module_path in [*_split_env(environ.get(ENV_PLUGINS)), *extra]:
        if module_path in blocked or any(module_path == f[0] for f in found):
            continue
        plugin = _import_plugin(module_path, lambda m=module_path: importlib.import_module(m), f"module {module_path}")
        found.append((module_path, plugin, str(getattr(plugin, "__version__", "unknown")), f"module {module_path}"))
    return found


def load_registry(extra_plugins: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Registry:
    """Load every plugin and collect its specs; raise ``PluginError`` on any
    invalid spec or on a name registered by two plugins."""
    environ = os.environ if environ is None else environ
    manager = _manager()
    registry = Registry()
    for name, observer in [*observers.builtin(), *sources.builtin()]:
        manager.register(observer, name=name)
        registry.plugins.append(PluginInfo(name, __version__, "built in", tuple(sorted(c.name for c in manager.get_hookcallers(observer) or []))))
    for name, plugin, version, origin in _discover(extra_plugins, environ):
        try:
            manager.register(plugin, name=name)
        except Exception as exc:
            raise PluginError(f"Plugin {name!r} ({origin}) could not be registered: {exc}") from exc
        hooks = tuple(sorted(impl.name for impl in manager.get_hookcallers(plugin) or []))
        registry.plugins.append(PluginInfo(name, version, origin, hooks))

    for kind in SPEC_KINDS:
        caller = getattr(manager.hook, f"cardiobench_{kind}")
        for impl in sorted(caller.get_hookimpls(), key=lambda i: i.plugin_name):
            try:
                specs = impl.function()
            except Exception as exc:
                raise PluginError(f"Plugin {impl.plugin_name!r} raised in cardiobench_{kind}: {type(exc).__name__}: {exc}") from exc
            problems = validate_spec_list(kind, specs)
            if problems:
                raise PluginError(f"Plugin {impl.plugin_name!r} returned invalid specs: {bulleted(problems)}.")
            _add(registry, kind, specs, impl.plugin_name)
    registry.events = Events(manager, {name: r.spec for name, r in registry.trackers.items()})
    return registry


def _manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


GUARDED = {"tasks": ("plots", "analysis", "preview"), "datasets": ("load", "check"), "models": ("build", "prepare"), "model_sources": ("find",)}


def _guarded(plugin: str, where: str, fn: Any) -> Any:
    """``fn`` raising an unexpected exception becomes a ``PluginError`` naming
    the plugin and the call (``--debug`` shows the original traceback). Our own
    errors, out-of-memory and interrupts pass unchanged."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CardiobenchError:
            raise
        except Exception as exc:
            if out_of_memory(exc):
                raise
            raise PluginError(
                f"Plugin {plugin!r} raised in {where}: {type(exc).__name__}: {exc}. This is a bug in that plugin "
                f"(re-run with --debug for the traceback); block it with {ENV_DISABLE}={plugin} if you do not need it."
            ) from exc

    return call


def _guard(kind: str, spec: Any, plugin: str) -> Any:
    """``spec`` with each of its plugin callables guarded."""
    fields = {f: _guarded(plugin, f"{kind[:-1]} {spec.name!r} {f}", getattr(spec, f)) for f in GUARDED.get(kind, ()) if getattr(spec, f) is not None}
    return replace(spec, **fields) if fields else spec


def _add(registry: Registry, kind: str, specs: list[Any], plugin: str) -> None:
    if kind == "reported_results":
        registry.reported_results += [Registered(s, plugin) for s in specs]
        return
    table: dict[str, Registered[Any]] = getattr(registry, kind)
    for spec in specs:
        if spec.name in table:
            other = table[spec.name].plugin
            by = f"twice by plugin {plugin!r}" if other == plugin else f"by two plugins, {other!r} and {plugin!r}"
            raise PluginError(
                f"The {kind[:-1]} name {spec.name!r} is registered {by}. "
                f"Rename one, or block a plugin with {ENV_DISABLE}."
            )
        table[spec.name] = Registered(_guard(kind, spec, plugin), plugin)
