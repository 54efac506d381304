"""Engine training-step overhead against a bare PyTorch loop (target: <= 3%).

Both loops run the same R(2+1)D-18 EF regressor (quick-preset clips: 8 frames
of 32x32, batch 8) over the same in-memory batches with the same optimizer.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks.timing import paired_medians
from cardiobench.engine import optim
from cardiobench.engine.loop import Selection, Trainer
from cardiobench.engine.seeding import seed_everything
from cardiobench_echo.models.video_resnet import EFRegressor, build_backbone

TRAIN = {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 1e-4, "scheduler": "none", "epochs": 1}
STEPS, BATCH = 8, 8


def make_batches() -> list[dict]:
    g = torch.Generator().manual_seed(0)
    return [
        {"input": torch.randn(BATCH, 3, 8, 32, 32, generator=g), "target": torch.rand(BATCH, generator=g) * 80 + 10, "id": [f"v{i}" for i in range(BATCH)]}
        for _ in range(STEPS)
    ]


def test_engine_step_overhead(benchmark, report, tmp_path: Path):
    seed_everything(0)
    model = EFRegressor(build_backbone("r2plus1d", {"model": {"weights": None}}), 55.0)
    bare_model = copy.deepcopy(model)
    batches = make_batches()

    trainer = Trainer(model, optim.build(model, TRAIN, STEPS), torch.device("cpu"), tmp_path, select=Selection("loss", lambda p, loss: loss), log=lambda _: None)
    scaler = trainer.amp_scaler()
    bare_opt = torch.optim.AdamW(bare_model.parameters(), lr=1e-3, weight_decay=1e-4)

    def engine_epoch() -> None:
        trainer.train_epoch(batches, scaler)

    def bare_epoch() -> None:
        bare_model.train()
        for batch in batches:
            bare_opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(bare_model(batch["input"]), batch["target"])
            loss.backward()
            bare_opt.step()

    engine_epoch(), bare_epoch()  # warm-up
    engine_s, bare_s = paired_medians(engine_epoch, bare_epoch, rounds=7)
    overhead = engine_s / bare_s - 1
    benchmark.extra_info.update({"engine_s_per_step": engine_s / STEPS, "bare_s_per_step": bare_s / STEPS, "overhead": overhead})
    benchmark.pedantic(engine_epoch, rounds=2, iterations=1)
    report(
        f"engine training step {1000 * engine_s / STEPS:.1f} ms vs bare PyTorch loop {1000 * bare_s / STEPS:.1f} ms "
        f"-> overhead {100 * overhead:+.2f}% (target <= 3%: {'met' if overhead <= 0.03 else 'NOT met'})"
    )
