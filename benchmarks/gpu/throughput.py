"""Training throughput of lvef models at the paper preset's clip size, and the
AG-Sononet overhead, for the GPU suite (benchmarks/gpu/suite.py).

A training step here is the engine's (forward under AMP, the model's own
loss, backward, SGD step), timed from the request of its batch to the end of
its GPU work: ``wait`` is the share of that time spent waiting for the batch
(the loader's workers and the host-to-device copy), so 0 means the GPU never
waits for data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from cardiobench import api, config, fold_model
from cardiobench.engine.devices import prepare_model, to_device
from cardiobench.registry import Registry


@dataclass
class Throughput:
    model: str
    variant: str
    clips_per_second: float
    data_wait_fraction: float
    peak_memory_gib: float
    steps: int


class WithPseudoMasks(Dataset):
    """STCA's training items without its segmenter stage: empty pseudo masks
    with weight 0, so the step computes every loss term at the real shapes."""

    def __init__(self, clips: Dataset):
        self.clips = clips

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.clips[index])
        size = item["input"].shape[-1]
        item["pseudo_ed"] = item["pseudo_es"] = torch.zeros(size, size)
        item["alpha"] = torch.tensor(0.0)
        return item


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _batches(loader: DataLoader) -> Iterator[dict[str, Any]]:
    while True:
        yield from loader


def clip_data(overrides: list[str]) -> tuple[Dataset, dict[str, Any]]:
    """The paper preset's training clips of a small synthetic set."""
    data = api.datasets("lvef", preset="paper", overrides=overrides)
    return data.train, data.info


def loading_rate(dataset: Dataset, batch: int, workers: int, batches: int) -> float:
    """Clips per second a DataLoader delivers, with no model."""
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True, persistent_workers=workers > 0)
    stream = _batches(loader)
    next(stream)
    tic = time.perf_counter()
    for _ in range(batches):
        next(stream)
    return batches * batch / (time.perf_counter() - tic)


def train_rate(registry: Registry, model_name: str, variant: str, dataset: Dataset, info: dict[str, Any], device: torch.device, batch: int, steps: int, workers: int, pin: bool = False, prefetch: int = 2, channels_last: bool = False, compile_model: bool = False, warmup: int = 3) -> Throughput:
    """Clips per second of training steps, the share of step time waiting for data, and peak GPU memory."""
    task, spec = registry.task("lvef"), registry.model(model_name, "lvef")
    model = prepare_model(fold_model.build(spec, task, config.resolve(task, spec, "paper").values, info), device, channels_last)  # the engine's channels-last 3-D path
    step_module = torch.compile(model) if compile_model else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    amp = device.type == "cuda"
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True, pin_memory=pin, prefetch_factor=prefetch if workers else None, persistent_workers=workers > 0)
    stream = _batches(loader)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    waited = total = 0.0
    for step in range(warmup + steps):
        tic = time.perf_counter()
        batch_items = to_device(next(stream), device)
        got = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = model.loss(step_module(batch_items["input"]), batch_items)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        _sync(device)
        if step >= warmup:
            waited += got - tic
            total += time.perf_counter() - tic
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else 0.0
    return Throughput(model_name, variant, steps * batch / total, waited / total, peak, steps)


def as_rows(results: list[Throughput]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
