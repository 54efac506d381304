"""Data-parallel runs with torch.distributed.

A run launched by ``torchrun`` (or as N SLURM tasks through submitit) reads its
rank and world size from the environment, joins one process group (NCCL on
GPUs, gloo on CPUs) and trains one DistributedDataParallel model. Training
splits the run's seeded per-epoch order by rank, so the global batch ``j`` holds
exactly the items a one-process run with the same global batch would draw;
evaluation predicts every item exactly once (contiguous shards, no padding) and
gathers them in dataset order. Rank 0 alone writes files and prints.

One process is the world of size 1: every function here is then a no-op, and a
run is bit-identical to what it was before this module existed.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Sampler

from cardiobench.errors import CardiobenchError, ConfigError

T = TypeVar("T")

ENV_TIMEOUT = "CARDIOBENCH_DIST_TIMEOUT_S"


class Stopped(CardiobenchError):
    """The launcher stopped this process (another rank failed, or the job was cancelled)."""

    exit_code = 128 + signal.SIGTERM


def _stop(signum: int, frame: object) -> None:
    raise Stopped(
        "This data-parallel run was stopped by its launcher (SIGTERM: another process of the run failed, or the job was cancelled). "
        "Finished epochs are kept and nothing is half-written; continue with the same launch and --resume RUN_DIR (the run directory printed at its start)."
    )


@dataclass(frozen=True)
class World:
    """This process's place in the run: rank ``rank`` of ``size`` processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.size > 1

    def describe(self) -> dict[str, Any]:
        return {"world_size": self.size, "backend": self.backend}


def current() -> World:
    """The world this process belongs to (size 1 outside a process group)."""
    if not (dist.is_available() and dist.is_initialized()):
        return World()
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), dist.get_backend())


def _export_slurm_environment() -> None:
    """Under SLURM with several tasks and no torchrun variables, export
    ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``... the way submitit computes them."""
    if "WORLD_SIZE" in os.environ or int(os.environ.get("SLURM_NTASKS", "1")) <= 1:
        return
    try:
        from submitit.helpers import TorchDistributedEnvironment
    except ImportError:
        return
    TorchDistributedEnvironment().export(set_cuda_visible_devices=False)


def _backend(device_name: str) -> str:
    wants_cuda = device_name != "cpu" and torch.cuda.is_available()
    backend = "nccl" if wants_cuda else "gloo"
    if not dist.is_available() or not dist.is_backend_available(backend):
        raise ConfigError(f"This run was launched on several processes, but torch.distributed has no {backend!r} backend on this machine; launch one process or install a torch build with {backend}.")
    return backend


@contextlib.contextmanager
def session(device_name: str = "auto") -> Iterator[World]:
    """Join the process group the launcher describes (if any) for the block."""
    _export_slurm_environment()
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or (dist.is_available() and dist.is_initialized()):
        yield current()
        return
    backend = _backend(device_name)
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    timeout = datetime.timedelta(seconds=float(os.environ.get(ENV_TIMEOUT, 1800)))
    dist.init_process_group(backend, timeout=timeout)
    previous = signal.signal(signal.SIGTERM, _stop)  # torchrun stops the other ranks with SIGTERM when one fails
    try:
        yield current()
    except RuntimeError as exc:
        if not _lost_peer(exc):
            raise
        raise CardiobenchError(
            f"A process of this data-parallel run stopped or lost contact ({str(exc).splitlines()[0][:200]}). "
            "Finished epochs are kept and nothing is half-written; look for the failing rank above, then continue with the same launch and --resume RUN_DIR."
        ) from exc
    finally:
        signal.signal(signal.SIGTERM, previous)
        with contextlib.suppress(Exception):  # a peer may be gone already
            dist.destroy_process_group()


def _lost_peer(exc: RuntimeError) -> bool:
    text = str(exc).lower()
    return isinstance(exc, getattr(dist, "DistError", ())) or any(word in text for word in ("gloo", "nccl", "connection reset", "connection closed"))


def device_for(device: torch.device, world: World) -> torch.device:
    """One GPU per process: ``cuda`` becomes ``cuda:<local rank>``."""
    if world.parallel and device.type == "cuda" and device.index is None:
        return torch.device("cuda", world.local_rank)
    return device


def per_rank_batch(global_batch: int, world: World) -> int:
    """The batch each process trains on; the world size must divide it."""
    if global_batch % world.size:
        raise ConfigError(f"train.batch_size {global_batch} is the global batch and must be divisible by the world size {world.size} (each process trains on batch_size / world_size items); set --set train.batch_size=N with N a multiple of {world.size}.")
    return global_batch // world.size


def barrier(world: World) -> None:
    if world.parallel:
        dist.barrier()


def gather(value: T, world: World) -> list[T]:
    """Every rank's ``value``, in rank order, on every rank."""
    if not world.parallel:
        return [value]
    out: list[Any] = [None] * world.size
    dist.all_gather_object(out, value)
    return out


def from_main(value: T, world: World) -> T:
    """Rank 0's ``value`` on every rank."""
    if not world.parallel:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@contextlib.contextmanager
def main_first(world: World) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. filling a cache), then the others."""
    if world.parallel and not world.main:
        dist.barrier()
    yield
    if world.parallel and world.main:
        dist.barrier()


def shard(n: int, world: World) -> np.ndarray:
    """This rank's contiguous share of ``range(n)``: every index exactly once
    over the ranks, in order when concatenated by rank."""
    return np.array_split(np.arange(n), world.size)[world.rank]


class RankSampler(Sampler[int]):
    """This rank's part of another sampler's epoch order, padded (by repeating
    its start) to a multiple of the world size and taken every ``size``-th item
    from ``rank``: per-rank batch ``k`` of every rank together is the
    one-process batch ``k`` of size ``world.size`` times larger."""

    def __init__(self, base: Sampler[int], world: World):
        self.base, self.world = base, world

    def __len__(self) -> int:
        return -(-len(self.base) // self.world.size)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[int]:
        order = list(self.base)
        padded = order + order[: len(self) * self.world.size - len(order)]
        return iter(padded[self.world.rank :: self.world.size])


def wrap(model: nn.Module, device: torch.device, world: World, sync_bn: bool, find_unused: bool) -> nn.Module:
    """The module training calls: ``model`` itself in one process, else a
    DistributedDataParallel around it (SyncBatchNorm first if asked)."""
    if not world.parallel:
        return model
    if sync_bn:
        if device.type != "cuda":
            raise ConfigError("train.sync_bn needs GPUs (NCCL); on CPUs each process keeps its own BatchNorm statistics.")
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)


def reduce_sum(values: Sequence[float], world: World) -> list[float]:
    """Element-wise sum of ``values`` over the ranks."""
    if not world.parallel:
        return list(values)
    tensor = torch.tensor(list(values), dtype=torch.float64)
    if world.backend == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor)
    return tensor.cpu().tolist()
