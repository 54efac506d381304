"""Progress bars (tqdm), switched off for the whole process by ``--no-progress``
or ``CARDIOBENCH_PROGRESS=0``. Plugins use :func:`bar` too.

On a terminal a bar redraws itself in place. Anywhere else (a log file,
SLURM's output, CI, a pipe) carriage-return redraws would pile up into one
enormous line, so a bar there prints a plain line at most every
:data:`LINE_SECONDS` seconds or per 10% of its total, and one when it ends.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
LINE_SECONDS = 30.0
_enabled = os.environ.get("CARDIOBENCH_PROGRESS", "1") != "0"


def set_enabled(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled


class LineBar(tqdm):
    """A tqdm bar for a non-terminal stream: whole lines, few of them."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._last_line, self._last_n, self._last_tenth = 0.0, -1, -1
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:  # noqa: ARG002 - tqdm's signature
        if msg == "":
            return False  # tqdm clears a finished bar with an empty message (then a carriage return): nothing to clear in a log
        tenth = int(10 * self.n / self.total) if self.total else -1
        now = time.monotonic()
        if self.n != self._last_n and (tenth > self._last_tenth or now - self._last_line >= LINE_SECONDS):
            self._line(now, tenth)
        return True

    def _line(self, now: float, tenth: int) -> None:
        self._last_line, self._last_n, self._last_tenth = now, self.n, tenth
        self.fp.write(self.__str__().strip() + "\n")
        self.fp.flush()

    def clear(self, nolock: bool = False) -> None:  # noqa: ARG002 - tqdm.write clears bars around its line: nothing to clear
        pass

    def close(self) -> None:
        if not self.disable and self.n != self._last_n:
            self._line(time.monotonic(), 10)
        self.leave = False  # the last line is written: tqdm's own farewell would add an empty line
        super().close()


def _on_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def bar(iterable: Iterable[T] | None = None, **kwargs: Any) -> tqdm:
    """A tqdm bar that disappears when it ends (unless ``leave=True``); whole
    lines instead of redraws when its stream is not a terminal."""
    kwargs.setdefault("leave", False)
    kwargs["disable"] = kwargs.get("disable", False) or not _enabled
    stream = kwargs.get("file") or sys.stderr
    if _on_terminal(stream):
        return tqdm(iterable, **kwargs)
    kwargs.setdefault("mininterval", 1.0)
    kwargs["dynamic_ncols"], kwargs["ncols"], kwargs["ascii"] = False, 100, True
    return LineBar(iterable, **kwargs)
