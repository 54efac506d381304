"""Shared fixtures: an isolated cache, the loaded registry, an in-process CLI."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cardiobench.engine import numerics

# Runs with portable numerics (every ci preset) need ATen's and MKL's portable
# kernels chosen before torch first computes; this process runs many runs.
numerics.prepare("portable")

from cardiobench import progress  # noqa: E402
from cardiobench.cli import main  # noqa: E402
from cardiobench.registry import load_registry  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic data and decoded videos go to one temporary cache per session."""
    root = tmp_path_factory.mktemp("cache")
    os.environ["CARDIOBENCH_CACHE"] = str(root)
    os.environ["CARDIOBENCH_PROGRESS"] = "0"
    progress.set_enabled(False)
    return root


@pytest.fixture(scope="session")
def registry():
    return load_registry()


@dataclass
class Result:
    code: int
    out: str
    err: str


def cli(*args: str) -> Result:
    """Run ``cardiobench ARGS`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Result(code, out.getvalue(), err.getvalue())


def cli_subprocess(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cardiobench ARGS`` as a separate process (for entry points and kills)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "cardiobench", *map(str, args)], capture_output=True, text=True, env=full_env, **kwargs)
