"""Synthetic datasets generated once into the cache and reused afterwards."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cardiobench import atomic, phases
from cardiobench.paths import cache_dir


def generated(name: str, marker: str, what: str, write: Callable[[Path], None]) -> Path:
    """``<cache>/synthetic/<name>``, written atomically by ``write(folder)``
    unless its ``marker`` file shows a finished earlier generation (runs
    started together generate it once: the others wait for it)."""
    root = cache_dir() / "synthetic" / name
    if (root / marker).is_file():
        return root
    with atomic.exclusive(root):
        if not (root / marker).is_file():
            print(f"generating {what} into {root} (once; reused afterwards)", flush=True)
            with phases.phase("data generation"), atomic.directory(root) as tmp:
                write(tmp)
    return root


def worker_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool for generators whose workers die with the process that
    started them (on Linux), so a killed run leaves no orphan behind."""
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, initializer=_die_with_parent)


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
