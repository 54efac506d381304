"""``cardiobench sweep``: many runs (models x seeds x presets x data x
overrides) on submitit's executors (``debug`` in this process, ``local``
subprocesses, ``slurm`` job arrays) or Ray, each in a deterministic directory,
so a re-run skips finished points and resumes interrupted ones. Only this
driver writes leaderboards (``--submit``), once, at the end."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import submitit

from cardiobench import atomic, leaderboard, records
from cardiobench.errors import CardiobenchError
from cardiobench.leaderboard.store import Store
from cardiobench.registry import Registry
from cardiobench.run_request import check_request
from cardiobench.sweep.spec import Point, Resources, Sweep, load
from cardiobench.sweep.worker import PointFiles, PointJob, report

EXECUTORS = ("debug", "local", "slurm", "ray")

__all__ = ["EXECUTORS", "Outcome", "execute", "invalid_points", "load", "runs_dir_of", "status", "submit"]


@dataclass
class Outcome:
    done: list[Path]  # run directories of every finished point
    failed: list[dict[str, Any]]  # point, error, log
    started: int  # points this call ran (the others were finished already)


def runs_dir_of(sweep: Sweep, override: Path | None) -> Path:
    """``--runs-dir``, else the file's ``runs_dir``, else ``runs/sweep-<file name>``."""
    return Path(override or sweep.runs_dir or Path("runs") / f"sweep-{sweep.source.stem}")


def status(sweep: Sweep, runs_dir: Path) -> list[dict[str, Any]]:
    """One row per point: its labels, state and where to look."""
    rows = []
    for point in sweep.points:
        files = PointFiles(runs_dir, point.name)
        state = files.state()
        where = files.run_dir if state == "done" else files.log if files.log.exists() else ""
        rows.append({**point.label(), "state": state, "where": str(where)})
    return rows


def _submitit_executor(kind: str, runs_dir: Path, resources: Resources) -> submitit.AutoExecutor:
    executor = submitit.AutoExecutor(folder=runs_dir / ".submitit" / "%j", cluster=None if kind == "slurm" else kind)
    gpus = resources.gpus_per_run
    executor.update_parameters(
        name="cardiobench",
        timeout_min=resources.timeout_min,
        cpus_per_task=resources.cpus_per_run,
        gpus_per_node=gpus,
        tasks_per_node=max(1, gpus),  # a multi-GPU run: one task per GPU, joined by torch.distributed
        mem_gb=resources.mem_gb,
        slurm_array_parallelism=resources.array_parallelism,
        **({"slurm_partition": resources.partition} if resources.partition else {}),
    )
    return executor


def _wait(jobs: list[tuple[Point, Any]], runs_dir: Path, result: Outcome) -> None:
    for point, job in jobs:
        files = PointFiles(runs_dir, point.name)
        try:
            result.done.append(Path(job.results()[0]))  # rank 0's answer (a data-parallel point has one per task)
        except Exception as exc:  # a failed point never stops the others
            result.failed.append(report(exc, files))


def _run_submitit(kind: str, points: list[Point], runs_dir: Path, resources: Resources, result: Outcome) -> None:
    executor = _submitit_executor(kind, runs_dir, resources)
    args = [(p.request, PointFiles(runs_dir, p.name), resources.cpus_per_run) for p in points]
    if kind == "slurm":
        jobs = executor.map_array(PointJob(), *zip(*args)) if args else []
        _wait(list(zip(points, jobs)), runs_dir, result)
        return
    # debug runs one job at a time in this process; local keeps at most array_parallelism subprocesses
    window = 1 if kind == "debug" else resources.array_parallelism
    queue = list(zip(points, args))
    running: list[tuple[Point, Any]] = []
    while queue or running:
        while queue and len(running) < window:
            point, arg = queue.pop(0)
            running.append((point, executor.submit(PointJob(), *arg)))
        finished = [kind == "debug" or job.done() for _, job in running]
        if any(finished):
            _wait([entry for entry, end in zip(running, finished) if end], runs_dir, result)
            running = [entry for entry, end in zip(running, finished) if not end]
        else:
            time.sleep(0.5)


def _run_ray(points: list[Point], runs_dir: Path, resources: Resources, result: Outcome) -> None:
    try:
        import ray
    except ImportError as exc:
        raise CardiobenchError('The ray executor needs Ray: pip install "cardiobench[ray]".') from exc
    from cardiobench.sweep.worker import run_point

    if resources.gpus_per_run > 1:
        raise CardiobenchError("The ray executor runs one process per point; use gpus_per_run <= 1 (or the slurm executor for data-parallel points).")
    ray.init(address=resources.ray_address, ignore_reinit_error=True)
    remote = ray.remote(num_gpus=resources.gpus_per_run, num_cpus=resources.cpus_per_run)(run_point)
    refs = [(p, remote.remote(p.request, PointFiles(runs_dir, p.name), resources.cpus_per_run)) for p in points]
    for point, ref in refs:
        try:
            result.done.append(Path(ray.get(ref)))
        except Exception as exc:
            result.failed.append(report(exc, PointFiles(runs_dir, point.name)))


def execute(sweep: Sweep, kind: str, runs_dir: Path, invalid: dict[str, str]) -> Outcome:
    """Run every point that is not finished; ``invalid`` (point name -> error)
    are failed without being started. Returns what finished and what failed."""
    if kind not in EXECUTORS:
        raise CardiobenchError(f"Unknown executor {kind!r}; use one of {', '.join(EXECUTORS)}.")
    result = Outcome([], [], 0)
    todo = []
    for point in sweep.points:
        files = PointFiles(runs_dir, point.name)
        if point.name in invalid:
            atomic.write_text(files.log, f"error: {invalid[point.name]}\n")
            atomic.write_text(files.failed, invalid[point.name] + "\n")
            result.failed.append({"point": point.name, "error": invalid[point.name], "log": str(files.log)})
        elif files.state() == "done":
            result.done.append(files.run_dir)
        else:
            todo.append(point)
    result.started = len(todo)
    if kind == "ray":
        _run_ray(todo, runs_dir, sweep.resources, result)
    elif todo:
        _run_submitit(kind, todo, runs_dir, sweep.resources, result)
    return result


def invalid_points(sweep: Sweep, registry: Registry) -> dict[str, str]:
    """Points a run would refuse at once (unknown name, bad override), by name, with the reason."""
    invalid = {}
    for point in sweep.points:
        try:
            check_request(point.request, registry)
        except CardiobenchError as exc:
            invalid[point.name] = str(exc)
    return invalid


def submit(run_dirs: list[Path], store: Store, registry: Registry) -> list[Path]:
    """Add the finished points' records that the leaderboards do not hold yet
    (one validated submission, then the tables rebuilt)."""
    on_board = {r["run_id"] for task in {records.read(d / records.RECORD_FILE)["task"]["name"] for d in run_dirs} for r in store.records(task)}
    return leaderboard.publish(store, registry, [d for d in run_dirs if d.name not in on_board])[0]
