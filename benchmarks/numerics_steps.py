"""Seconds per training step of one model per task, under one numerics mode
and preset, in a process of its own (a mode holds for a whole process).

``python -m benchmarks.numerics_steps MODE PRESET OUT.json [THREADS]``: for each case,
the preset's config, the first batches of its synthetic training split, the
engine's optimizer; one warm-up step, then the median of ``STEPS`` timed
forward + loss + backward + optimizer steps. Used by ``test_numerics.py``.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import time
from pathlib import Path

from cardiobench.engine import numerics

CASES = [("lvef", "r2plus1d"), ("lvef", "tca"), ("lvef-seg", "deeplabv3"), ("ecg-pvc-apb", "ecg-joint-l2"), ("fetal-planes", "ag-sononet-8"), ("myo-seg", "unet"), ("dcm-cls", "mtl-attn")]
STEPS = 5


def seconds_per_step(task: str, model: str, preset: str) -> float:
    from cardiobench import config
    from cardiobench.engine import devices, optim
    from cardiobench.engine.loop import EpochLoader
    from cardiobench.registry import load_registry
    from cardiobench.specs import DataRequest

    registry = load_registry()
    task_spec, model_spec = registry.task(task), registry.model(model)
    values = config.resolve(task_spec, model_spec, preset).values
    bundle = registry.dataset(task_spec.default_dataset).load(DataRequest(task, None, values, 0))
    loader = EpochLoader(bundle.folds[0].train, int(values["train"]["batch_size"]), True, 0, 0, drop_last=True)
    batches = (batch for epoch in itertools.count() for batch in loader.epoch(epoch))  # a ci split may hold fewer batches than the steps
    net = devices.prepare_model(model_spec.build(values, bundle.info), devices.resolve_device("cpu"), bool(values["train"]["channels_last"])).train()
    optimizer = optim.build(net, values["train"], STEPS + 1).optimizer
    times = []
    for _ in range(STEPS + 1):
        batch = next(batches)
        tic = time.perf_counter()
        loss = net.loss(net(batch["input"]), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - tic)
    return statistics.median(times[1:])


def main(mode: str, preset: str, out: Path, threads: int | None = None) -> None:
    numerics.prepare(mode)
    numerics.apply(mode, threads)
    from cardiobench import progress

    progress.set_enabled(False)
    timings = {f"{task}/{model}": seconds_per_step(task, model, preset) for task, model in CASES}
    out.write_text(json.dumps({"mode": mode, "preset": preset, "threads": threads, "seconds_per_step": timings}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else None)
