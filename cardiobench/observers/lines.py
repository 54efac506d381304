"""The lines run events print and log."""

from __future__ import annotations

from pathlib import Path

from cardiobench.specs import RunInfo


def epoch_line(run: RunInfo, fold: str, epoch: int, epochs: int, values: dict[str, float], best: bool) -> str:
    """``epoch 3/7  train loss ..  val loss ..  val mae ..  *best  (12.3 items/s)``."""
    selected = "".join(f"  val {key[4:]} {value:.4g}" for key, value in values.items() if key.startswith("val_") and key != "val_loss")
    return (
        f"{run.fold_label(fold)}epoch {epoch}/{epochs}  train loss {values['train_loss']:.4g}  val loss {values['val_loss']:.4g}"
        f"{selected}{'  *best' if best else ''}  ({values['items_per_second']:.1f} items/s)"
    )


def stage_line(stage: str, stage_dir: Path | None, reused: bool | None) -> str:
    if reused is None:
        return f"stage {stage}: starting in {stage_dir}"
    return f"stage {stage}: {'reused' if reused else 'trained'} {stage_dir}"

