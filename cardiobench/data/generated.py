"""Synthetic datasets generated once into the cache and reused afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cardiobench import atomic
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
            with atomic.directory(root) as tmp:
                write(tmp)
    return root
