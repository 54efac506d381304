"""Run events in the run directory's ``log.txt``."""

from __future__ import annotations

from pathlib import Path

from cardiobench.hookspecs import hookimpl
from cardiobench.observers import lines
from cardiobench.specs import RunInfo

LOG_FILE = "log.txt"


def append_line(path: Path, text: str) -> None:
    with open(path, "a") as handle:
        handle.write(text + "\n")


class LogFile:
    """Appends each epoch's line to ``<run_dir>/log.txt``, as on the terminal."""

    @hookimpl
    def cardiobench_epoch_end(self, run: RunInfo, fold: str, epoch: int, epochs: int, values: dict[str, float], best: bool) -> None:
        if run.run_dir is not None:
            append_line(run.run_dir / LOG_FILE, lines.epoch_line(run, fold, epoch, epochs, values, best))

    @hookimpl
    def cardiobench_run_end(self, run: RunInfo, status: str) -> None:
        if run.run_dir is not None and status != "finished":
            append_line(run.run_dir / LOG_FILE, f"run {status}")
