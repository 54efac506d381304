"""What runs one grid point, wherever an executor puts it (this process, a
subprocess, a SLURM task, a Ray worker), and the files that tell its state.

Per point, under the sweep's runs directory: ``<name>/`` (the run directory,
which makes a re-run skip or resume it), ``logs/<name>.log`` (its output),
``logs/<name>.failed`` (the error of its last failed attempt) and the lock
``<name>.lock``, held while it runs.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import submitit

from cardiobench import atomic, progress
from cardiobench.engine import distributed
from cardiobench.errors import CardiobenchError
from cardiobench.registry import load_registry
from cardiobench.runner import RunRequest, run_in, run_state


@dataclass(frozen=True)
class PointFiles:
    runs_dir: Path
    name: str

    @property
    def run_dir(self) -> Path:
        return self.runs_dir / self.name

    @property
    def log(self) -> Path:
        return self.runs_dir / "logs" / f"{self.name}.log"

    @property
    def failed(self) -> Path:
        return self.runs_dir / "logs" / f"{self.name}.failed"

    def running(self) -> bool:
        """Whether a worker holds the point's lock now (a dead worker's lock is free)."""
        return atomic.held(self.run_dir)

    def state(self) -> str:
        """done, running, failed, interrupted (started, resumes when re-run) or pending."""
        found = run_state(self.run_dir)
        if found == "finished":
            return "done"
        if self.running():
            return "running"
        if self.failed.is_file():
            return "failed"
        return "interrupted" if found == "started" else "pending"


def _rank() -> int:
    return int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", 0)))


def run_point(request: RunRequest, files: PointFiles, cpus: int) -> str:
    """Run (or resume, or skip when finished) one point; returns its run
    directory. Output goes to the point's log (rank 0's; other ranks of a
    data-parallel point to ``.rankN`` beside it); a failure leaves
    ``<name>.failed`` with the error and is raised again for the executor."""
    import torch

    rank = _rank()
    log = files.log if rank == 0 else files.log.with_name(f"{files.name}.rank{rank}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, cpus))
    progress.set_enabled(False)
    with open(log, "a") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            with distributed.session(request.device):
                outcome = run_in(request, load_registry(request.plugins), files.run_dir)
        except BaseException as exc:
            message = str(exc) if isinstance(exc, CardiobenchError) else f"{type(exc).__name__}: {exc}"
            print(f"error: {message}")
            traceback.print_exc(file=sink)
            if rank == 0:
                atomic.write_text(files.failed, message + "\n")
            raise
    if rank == 0:
        files.failed.unlink(missing_ok=True)
    return str(outcome.run_dir)


class PointJob(submitit.helpers.Checkpointable):
    """:func:`run_point` for submitit: a SLURM job preempted or timed out is
    requeued with the same arguments, and the run resumes from its directory."""

    def __call__(self, request: RunRequest, files: PointFiles, cpus: int) -> str:
        return run_point(request, files, cpus)


def describe_failure(exc: BaseException | None) -> str:
    """One line of a failed job's exception (submitit wraps it with the remote traceback)."""
    text = str(exc) if exc is not None else "unknown failure"
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("error:", "cardiobench.errors"))]
    return (errors or lines or ["unknown failure"])[-1][:300]


def report(exc: BaseException | None, files: PointFiles) -> dict[str, Any]:
    error = files.failed.read_text().strip() if files.failed.is_file() else describe_failure(exc)
    return {"point": files.name, "error": error, "log": str(files.log)}
