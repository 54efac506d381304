"""A run's directory: its name, its creation, and its log.

``runs/<time>-<task>-<model>-s<seed>/`` holds ``run.json`` (what was asked)
and ``config.yaml`` (the resolved config) from its first moment, so a run
that stops can be resumed."""

from __future__ import annotations

import time
from pathlib import Path

from cardiobench.errors import CardiobenchError
from cardiobench.model_sources import path_safe
from cardiobench.observers.logfile import append_line
from cardiobench.run_request import RunRequest

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"


class RunLog:
    """Prints a line and appends it to the run's ``log.txt``."""

    def __init__(self, path: Path | None = None, echo: bool = True):
        self.path, self.echo = path, echo

    def __call__(self, message: str) -> None:
        if self.echo:
            print(message, flush=True)
        if self.path is not None:
            append_line(self.path, message)


def new_run_dir(runs_dir: Path, request: RunRequest) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(runs_dir) / f"{stamp}-{request.task}-{path_safe(request.model)}-s{request.seed}"
    run_dir, n = base, 1
    while run_dir.exists():
        n += 1
        run_dir = base.with_name(f"{base.name}-{n}")
    run_dir.mkdir(parents=True)
    return run_dir


def fixed_run_dir(run_dir: Path) -> Path:
    if (run_dir / RUN_FILE).exists():
        raise CardiobenchError(f"{run_dir} already holds a run; resume it with cardiobench run --resume {run_dir}.")
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir
