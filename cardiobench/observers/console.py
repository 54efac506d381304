"""Run events on the terminal: each epoch's line and a bar over the run's epochs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from cardiobench import progress
from cardiobench.hookspecs import hookimpl
from cardiobench.observers import lines
from cardiobench.specs import RunInfo


class Console:
    """Prints epoch and stage lines above the progress bars and advances a
    bar over all epochs of all folds (``--no-progress`` hides the bar only)."""

    def __init__(self) -> None:
        self.bars: dict[Path | None, tqdm] = {}

    @hookimpl
    def cardiobench_run_start(self, run: RunInfo) -> None:
        total = len(run.folds) * int(run.config["train"]["epochs"])
        self.bars[run.run_dir] = progress.bar(total=total, desc=f"{run.label} epochs", unit="epoch", leave=False)

    @hookimpl
    def cardiobench_epoch_end(self, run: RunInfo, fold: str, epoch: int, epochs: int, values: dict[str, float], best: bool) -> None:
        tqdm.write(lines.epoch_line(run, fold, epoch, epochs, values, best))
        bar = self.bars.get(run.run_dir)
        if bar is not None:
            bar.n = run.folds.index(fold) * epochs + epoch
            bar.refresh()

    @hookimpl
    def cardiobench_run_end(self, run: RunInfo) -> None:
        bar = self.bars.pop(run.run_dir, None)
        if bar is not None:
            bar.close()

    @hookimpl
    def cardiobench_stage_start(self, stage: str, stage_dir: Path) -> None:
        tqdm.write(lines.stage_line(stage, stage_dir, None))

    @hookimpl
    def cardiobench_stage_end(self, stage: str, stage_dir: Path, record: dict[str, Any], reused: bool) -> None:
        tqdm.write(lines.stage_line(stage, stage_dir, reused))
