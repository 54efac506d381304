"""Wall time per phase of a run (data generation, decoding, stages, each
epoch, test), so a slow phase is visible in every record and at the end of
every run.

A run opens a :func:`clock`; code anywhere below it marks its work with
:func:`phase`. Phases nest (``decoding`` inside ``data``); a stage run opens
its own clock, so its phases land in its own record while the enclosing run
sees the stage as one phase.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Clock:
    """The phases of one run, in the order they started."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    depth: int = 0

    def as_records(self) -> list[dict[str, Any]]:
        return [dict(e) for e in self.entries if "seconds" in e]


_clocks: list[Clock] = []


@contextmanager
def clock() -> Iterator[Clock]:
    """Collect the phases of the work inside (one run)."""
    current = Clock()
    _clocks.append(current)
    try:
        yield current
    finally:
        _clocks.remove(current)


def current() -> Clock | None:
    """The innermost open clock, if any."""
    return _clocks[-1] if _clocks else None


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the work inside as ``name`` on the innermost clock (none: untimed)."""
    if not _clocks:
        yield
        return
    owner = _clocks[-1]
    entry: dict[str, Any] = {"phase": name, "depth": owner.depth}
    owner.entries.append(entry)
    owner.depth += 1
    tic = time.perf_counter()
    try:
        yield
    finally:
        entry["seconds"] = round(time.perf_counter() - tic, 3)
        owner.depth -= 1


def table(entries: list[dict[str, Any]]) -> str:
    """The phases as indented lines, ``name  seconds``."""
    width = max((2 * e["depth"] + len(e["phase"]) for e in entries), default=0)
    return "\n".join(f"  {'  ' * e['depth'] + e['phase']:<{width}}  {e['seconds']:8.1f} s" for e in entries)
