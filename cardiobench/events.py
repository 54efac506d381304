"""Sending run events to the hooks that observe them, and opening the
trackers a run asked for (see the run-event hooks in :mod:`cardiobench.hookspecs`).

Events are sent on rank 0 only. An observer never stops a run: one that
raises (or a tracker that cannot be imported or created) is reported once on
stderr and not called again in this process.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import pluggy
from tqdm.auto import tqdm

from cardiobench.engine import distributed
from cardiobench.specs import RunInfo, TrackerSpec

STATUSES = ("finished", "failed", "interrupted")


def warn(message: str) -> None:
    """One line on stderr that leaves progress bars intact."""
    tqdm.write(f"warning: {message}", file=sys.stderr)


class Events:
    """The run-event hooks of one plugin manager, and the trackers they may open."""

    def __init__(self, manager: pluggy.PluginManager, trackers: Mapping[str, TrackerSpec]):
        self.manager = manager
        self.trackers = dict(trackers)
        self._dropped: set[str] = set()  # observers (plugin names) and trackers that failed once
        self._tracker_of: dict[str, str] = {}  # registered tracker instance -> tracker name
        self._requested: list[tuple[str, ...]] = []  # trackers of the runs in progress, outermost first

    def emit(self, event: str, **kwargs: Any) -> None:
        """Call every implementation of ``cardiobench_<event>`` with the
        arguments it asks for, in pluggy's order."""
        if not distributed.current().main:
            return
        hook = getattr(self.manager.hook, f"cardiobench_{event}")
        for impl in reversed(hook.get_hookimpls()):
            if impl.plugin_name in self._dropped:
                continue
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception as exc:  # an observer only observes
                self._drop(impl.plugin_name, f"failed in {event}: {type(exc).__name__}: {exc}")

    def _drop(self, plugin: str, why: str) -> None:
        tracker = self._tracker_of.get(plugin)
        self._dropped.add(tracker or plugin)
        self._dropped.add(plugin)
        what = f"tracker {tracker!r}" if tracker else f"plugin {plugin!r}"
        warn(f"{what} {why}; runs go on without it.")

    def _with_inherited(self, track: tuple[str, ...]) -> tuple[str, ...]:
        """``track`` after the trackers of the runs in progress, each once."""
        inherited = self._requested[-1] if self._requested else ()
        return tuple(dict.fromkeys([*inherited, *track]))

    @contextlib.contextmanager
    def requesting(self, track: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        """For the block (a whole run, its stages included): runs started
        inside it track with ``track`` as well as with their own trackers."""
        names = self._with_inherited(track)
        self._requested.append(names)
        try:
            yield names
        finally:
            self._requested.pop()

    @contextlib.contextmanager
    def run(self, info: RunInfo) -> Iterator[RunInfo]:
        """The events of one run in ``info.run_dir``: its trackers open,
        ``run_start`` is sent, and ``run_end`` with how the block ended."""
        info = replace(info, track=self._with_inherited(info.track))
        opened = [plugin for plugin in (self._open(name, info) for name in info.track) if plugin]
        status = "failed"
        try:
            self.emit("run_start", run=info)
            yield info
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self.emit("run_end", run=info, status=status)
            for plugin in opened:
                with contextlib.suppress(ValueError):
                    self.manager.unregister(name=plugin)
                self._tracker_of.pop(plugin, None)

    def _open(self, name: str, info: RunInfo) -> str | None:
        """Register tracker ``name``'s observer for this run; its plugin name."""
        if name in self._dropped or not distributed.current().main:
            return None
        spec = self.trackers[name]
        try:
            observer = spec.create(info)
            plugin = f"tracker:{name}:{id(observer)}"
            self.manager.register(observer, name=plugin)
        except ImportError as exc:
            self._dropped.add(name)
            warn(f"tracker {name!r} needs a library that is not installed ({exc}); {spec.install or 'install it'}. Runs go on without it.")
            return None
        except Exception as exc:
            self._dropped.add(name)
            warn(f"tracker {name!r} could not start: {type(exc).__name__}: {exc}. Runs go on without it.")
            return None
        self._tracker_of[plugin] = name
        return plugin
