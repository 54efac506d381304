"""Data-parallel runs (torch.distributed, gloo on this CPU): the order split by
rank, exact evaluation shards, and 2-process runs launched by torchrun that
repeat bit for bit and resume after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from torch.utils.data import RandomSampler

from cardiobench import records
from cardiobench.engine import checkpoint
from cardiobench.engine.distributed import RankSampler, World, per_rank_batch, shard
from cardiobench.errors import ConfigError
from tests.test_engine import only_run

RUN = ("run", "--task", "lvef", "--model", "mc3", "--preset", "ci", "--set", "train.epochs=6", "--no-progress")


def torchrun(*args: object, nproc: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc), "-m", "cardiobench", *map(str, args)]


def launch(runs: Path, *extra: str) -> Path:
    result = subprocess.run(torchrun(*RUN, *extra, "--runs-dir", runs), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return only_run(runs)


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (torchrun starts each worker in a session of its own)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return launch(tmp_path_factory.mktemp("ddp-a"))


def test_rank_batches_together_are_the_one_process_batches():
    base = RandomSampler(range(10))
    for size in (2, 3):
        parts = [list(RankSampler(base, World(rank, size))) for rank in range(size)]
        assert all(len(p) == -(-10 // size) for p in parts)
    order = list(range(10))
    sampler = RankSampler(order, World(0, 2))  # type: ignore[arg-type]
    rank0, rank1 = list(sampler), list(RankSampler(order, World(1, 2)))  # type: ignore[arg-type]
    for k in range(0, 4, 2):  # per-rank batch 2: global batch k holds one-process items [2k, 2k + 4)
        assert sorted(rank0[k : k + 2] + rank1[k : k + 2]) == order[2 * k : 2 * k + 4]


def test_evaluation_shards_cover_every_item_once_in_order():
    for n in (0, 1, 7, 10):
        for size in (1, 2, 3):
            assert np.concatenate([shard(n, World(r, size)) for r in range(size)]).tolist() == list(range(n))


def test_world_size_must_divide_the_batch():
    assert per_rank_batch(8, World(0, 2)) == 4
    with pytest.raises(ConfigError, match="divisible by the world size 2"):
        per_rank_batch(5, World(0, 2))


@pytest.mark.slow
def test_two_process_run_records_its_world_and_every_test_item_once(first: Path, tmp_path: Path):
    record = records.read(first / "record.json")
    assert records.problems(record) == []
    assert record["distributed"] == {"world_size": 2, "backend": "gloo", "global_batch": 4, "batch_per_rank": 2}
    ids = record["test_items"]["ids"]
    assert len(ids) == len(set(ids)) == record["folds"][0]["n_test"] == 6
    assert "resumed" not in (first / "log.txt").read_text() and (first / "log.txt").read_text().count("epoch 6/6") == 1, "rank 0 alone logs"
    again = launch(tmp_path)
    assert (again / "predictions.csv").read_bytes() == (first / "predictions.csv").read_bytes()
    assert records.read(again / "record.json")["metrics"] == record["metrics"]


@pytest.mark.slow
def test_a_killed_rank_stops_the_run_which_resumes_to_the_uninterrupted_result(first: Path, tmp_path: Path):
    """One process SIGKILLed mid-training: the launcher stops the other, which
    says what happened; --resume on two processes ends byte-identical."""
    runs, stderr = tmp_path / "runs", tmp_path / "stderr.txt"
    with open(stderr, "w") as sink:
        launcher = subprocess.Popen(torchrun(*RUN, "--runs-dir", runs), stdout=subprocess.DEVNULL, stderr=sink)
        deadline = time.time() + 300
        while time.time() < deadline and launcher.poll() is None:
            if list(runs.glob("*/checkpoints/official/last.pt")):
                os.kill(max(children(launcher.pid)), signal.SIGKILL)
                break
            time.sleep(0.01)
        assert launcher.wait(timeout=120) != 0
    assert "error: A process of this data-parallel run stopped" in stderr.read_text() or "error: This data-parallel run was stopped by its launcher" in stderr.read_text()
    run_dir = only_run(runs)
    assert not (run_dir / "record.json").exists() and checkpoint.load(run_dir / "checkpoints" / "official" / "last.pt")["epoch"] < 5

    one = subprocess.run([sys.executable, "-m", "cardiobench", "run", "--resume", run_dir], capture_output=True, text=True)
    assert one.returncode != 0 and "written by a run on 2 process(es)" in one.stderr
    resumed = subprocess.run(torchrun("run", "--resume", run_dir, "--no-progress"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed after epoch" in (run_dir / "log.txt").read_text()
    assert (run_dir / "predictions.csv").read_bytes() == (first / "predictions.csv").read_bytes()
    assert records.read(run_dir / "record.json")["metrics"] == records.read(first / "record.json")["metrics"]


@pytest.mark.slow
def test_a_batch_the_world_cannot_split_is_refused_before_anything_is_written(tmp_path: Path):
    result = subprocess.run(torchrun(*RUN, "--set", "train.batch_size=5", "--runs-dir", tmp_path), capture_output=True, text=True)
    assert result.returncode != 0
    assert "error: train.batch_size 5 is the global batch and must be divisible by the world size 2" in result.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_launch_without_the_backend_is_refused(monkeypatch: pytest.MonkeyPatch):
    import torch.distributed as dist

    from cardiobench.engine import distributed

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(dist, "is_backend_available", lambda name: False)
    with pytest.raises(ConfigError, match="no 'gloo' backend"):
        with distributed.session("cpu"):
            pass
