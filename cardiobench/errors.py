"""User-facing errors.

Every problem a user can cause (a bad name, a bad config key, a malformed data
folder, a broken plugin) is raised as a :class:`CardiobenchError`. The CLI prints
its message as one paragraph and exits non-zero; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CardiobenchError(Exception):
    """A problem the user can fix; its message is shown without a traceback."""

    exit_code = 2


class PluginError(CardiobenchError):
    """A plugin failed to import or returned an invalid spec."""


class ConfigError(CardiobenchError):
    """A preset, override or YAML file is invalid."""


class DataError(CardiobenchError):
    """A data folder is missing, malformed, or holds invalid rows or files."""


class UnknownNameError(CardiobenchError):
    """A task, model, dataset, metric or preset name is not registered."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A 'did you mean' hint for ``name`` among ``choices``, or ''."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> UnknownNameError:
    """An error for an unregistered ``name`` of ``kind``, listing what exists."""
    choices = sorted(choices)
    listing = ", ".join(choices) if choices else "none are registered"
    return UnknownNameError(
        f"Unknown {kind} {name!r}.{did_you_mean(name, choices)} Available {kind}s: {listing}."
    )


def bulleted(problems: list[str], limit: int = 50) -> str:
    """Problems as '; '-joined text, truncated after ``limit`` entries."""
    shown = problems[:limit]
    more = f"; ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return "; ".join(shown) + more


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is the host or an accelerator running out of memory."""
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()
