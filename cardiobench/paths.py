"""Where cardiobench keeps caches and runs."""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE = "CARDIOBENCH_CACHE"


def cache_dir() -> Path:
    """Root of cardiobench's caches (synthetic datasets, decoded videos).

    ``$CARDIOBENCH_CACHE`` if set, else ``$XDG_CACHE_HOME/cardiobench``, else
    ``~/.cache/cardiobench``.
    """
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cardiobench"
