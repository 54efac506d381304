"""The training and evaluation loops.

:class:`Trainer` trains with best-on-validation selection and checkpoints at
every epoch end; it resumes from the last checkpoint and, because every random
draw derives from (seed, epoch, index), ends exactly where an uninterrupted
run would. :func:`collect` runs a model over a loader and averages the
predictions that share an ``id`` (test-time clips of one video). In a
data-parallel run (:mod:`cardiobench.engine.distributed`) each process trains
on its share of every batch and predicts its share of the items; both gather
what they need so every process takes the same decisions.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler, SequentialSampler, Subset, WeightedRandomSampler

from cardiobench import phases, progress
from cardiobench.engine import checkpoint, distributed
from cardiobench.engine.devices import to_device
from cardiobench.engine.distributed import World
from cardiobench.engine.optim import Optimization
from cardiobench.engine.seeding import derive_seed
from cardiobench.errors import CardiobenchError


@dataclass
class Predictions:
    """Per-sample predictions: ``y_pred`` is (N,) values, (N, K) scores or
    (N, H, W) maps. ``joint`` holds a multi-task model's predictions of the
    same items for other tasks, by task name."""

    ids: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    joint: dict[str, Predictions] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Selection:
    """How an epoch is scored on validation: ``score(val_predictions, val_loss)``
    gives the value of ``name``; the best epoch has the highest value if
    ``higher_is_better``, else the lowest."""

    name: str
    score: Callable[[Predictions, float], float]
    higher_is_better: bool = False

    def better(self, value: float, best: float | None) -> bool:
        if best is None:
            return True
        return value > best if self.higher_is_better else value < best


@dataclass
class FitResult:
    history: list[dict[str, float]]
    best_epoch: int
    train_seconds: float
    train_samples: int

    @property
    def train_throughput(self) -> float:
        return self.train_samples / self.train_seconds if self.train_seconds > 0 else 0.0


class EpochLoader:
    """A DataLoader whose order and per-sample randomness are set per epoch.

    The shuffle order is seeded from (seed, epoch); datasets with
    ``set_epoch`` redraw their random samples (clip starts, augmentations).
    A shuffled dataset with ``sample_weights`` (one per item) is drawn with
    replacement in proportion to them instead (class-balanced sampling),
    ``len(dataset)`` draws an epoch.

    In a data-parallel ``world``, ``batch_size`` is the per-process batch: a
    shuffled loader takes this rank's part of the one-process order
    (:class:`~cardiobench.engine.distributed.RankSampler`), an ordered one its
    contiguous shard of the items.
    """

    def __init__(self, dataset: Dataset, batch_size: int, shuffle: bool, workers: int, seed: int, drop_last: bool = False, world: World = World()):
        self.dataset = dataset
        self.seed = seed
        self.generator = torch.Generator()
        sampler = self._sampler(dataset, shuffle)
        items: Dataset = dataset
        if world.parallel and shuffle:
            sampler = distributed.RankSampler(sampler, world)
        elif world.parallel:
            items = Subset(dataset, distributed.shard(len(dataset), world).tolist())  # type: ignore[arg-type]
            sampler = SequentialSampler(items)
        self.loader = DataLoader(
            items,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=workers,
            pin_memory=torch.cuda.is_available(),
            drop_last=drop_last and len(dataset) > batch_size * world.size,  # type: ignore[arg-type]
        )

    def _sampler(self, dataset: Dataset, shuffle: bool) -> Sampler:
        if not shuffle:
            return SequentialSampler(dataset)
        weights = getattr(dataset, "sample_weights", None)
        if weights is None:
            return RandomSampler(dataset, generator=self.generator)
        return WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.float64), len(dataset), replacement=True, generator=self.generator)

    def __len__(self) -> int:
        return len(self.loader)

    def epoch(self, epoch: int) -> DataLoader:
        self.generator.manual_seed(derive_seed(self.seed, "order", epoch))
        set_epoch = getattr(self.dataset, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(epoch)
        return self.loader


def _autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def mean_by_key(keys: list[str], y_true: np.ndarray, y_pred: np.ndarray) -> Predictions:
    """Predictions averaged over the items sharing a key (targets: the key's
    first item's), keys in order of first appearance."""
    pred = np.asarray(y_pred, dtype=np.float64)
    unique, first, inverse = np.unique(np.asarray(keys), return_index=True, return_inverse=True)
    if len(unique) == len(keys):  # nothing to average (e.g. one prediction per test slice)
        return Predictions([str(k) for k in keys], np.asarray(y_true), pred)
    order = np.argsort(first)
    sums = np.zeros((len(unique),) + pred.shape[1:])
    np.add.at(sums, inverse, pred)
    counts = np.bincount(inverse, minlength=len(unique)).reshape((-1,) + (1,) * (pred.ndim - 1))
    return Predictions([str(unique[i]) for i in order], np.asarray(y_true)[first[order]], (sums / counts)[order])


@torch.no_grad()
def collect(
    model: nn.Module,
    batches: Iterator[dict[str, Any]] | DataLoader,
    device: torch.device,
    amp: bool = False,
    desc: str = "eval",
    with_loss: bool = True,
    joint: bool = False,
    world: World = World(),
) -> tuple[Predictions, float, float]:
    """(predictions averaged per id, mean loss per batch item, items per second).

    With ``joint``, a model with ``joint_predict(outputs) -> {task: prediction}``
    run on batches with ``targets`` (``{task: target}``) also gives its
    predictions for those tasks, in ``Predictions.joint`` (the test pass asks
    for them; validation, once per epoch, does not). In a data-parallel
    ``world`` each process predicts its shard and every process gets all of
    them, in dataset order.
    """
    model.eval()
    ids: list[str] = []
    trues: list[np.ndarray] = []
    preds: list[np.ndarray] = []
    joint_predict = getattr(model, "joint_predict", None) if joint else None
    joint_arrays: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    loss_sum, items = torch.zeros((), device=device), 0
    start = time.perf_counter()
    for batch in progress.bar(batches, desc=desc, unit="batch"):
        batch = to_device(batch, device)
        with _autocast(device, amp):
            outputs = model(batch["input"])
            if with_loss:
                loss_sum += model.loss(outputs, batch).detach().float() * len(batch["id"])
            pred = model.predict(outputs)
        ids.extend(batch["id"])
        trues.append(batch["target"].detach().cpu().numpy())
        preds.append(pred.detach().float().cpu().numpy())
        if joint_predict is not None and "targets" in batch:
            for task, task_pred in joint_predict(outputs).items():
                joint_arrays.setdefault(task, ([], []))[0].append(batch["targets"][task].detach().cpu().numpy())
                joint_arrays[task][1].append(task_pred.detach().float().cpu().numpy())
        items += len(batch["id"])
    seconds = time.perf_counter() - start
    local_items = items
    if world.parallel:  # every shard, in rank order (= dataset order)
        shards = distributed.gather((ids, trues, preds, joint_arrays), world)
        ids, trues, preds = (_concat(shard[k] for shard in shards) for k in range(3))
        tasks = sorted({task for shard in shards for task in shard[3]})
        joint_arrays = {task: (_concat(s[3].get(task, ([], []))[0] for s in shards), _concat(s[3].get(task, ([], []))[1] for s in shards)) for task in tasks}
        total_loss, items = distributed.reduce_sum([float(loss_sum), items], world)
        loss_sum = torch.tensor(total_loss)
    predictions = mean_by_key(ids, np.concatenate(trues), np.concatenate(preds))
    predictions.joint = {task: mean_by_key(ids, np.concatenate(t), np.concatenate(p)) for task, (t, p) in joint_arrays.items()}
    return predictions, float(loss_sum) / max(items, 1), local_items / seconds if seconds > 0 else 0.0


EpochEnd = Callable[[int, int, dict[str, float], bool], None]


@dataclass
class Standing:
    """Where training stands after an epoch: the best epoch (0-based) and its
    score so far, and the training time and samples in total."""

    best_epoch: int = -1
    best_score: float | None = None
    seconds: float = 0.0
    samples: int = 0


def _ignore_epoch(epoch: int, epochs: int, values: dict[str, float], best: bool) -> None:
    pass


@dataclass
class Trainer:
    """Train ``model`` with ``optimization``, keeping the epoch that ``select``
    scores best on validation. After each epoch, ``on_epoch_end(epoch,
    epochs, values, best)`` reports it (the run sends it as a run event)."""

    model: nn.Module
    optimization: Optimization
    device: torch.device
    checkpoint_dir: Path
    select: Selection
    amp: bool = False
    label: str = ""
    log: Callable[[str], None] = print
    history: list[dict[str, float]] = field(default_factory=list)
    world: World = World()
    train_module: nn.Module | None = None  # what training calls: the model, or a DistributedDataParallel around it
    on_epoch_end: EpochEnd = _ignore_epoch

    @property
    def last_path(self) -> Path:
        return self.checkpoint_dir / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.checkpoint_dir / "best.pt"

    def amp_scaler(self) -> torch.amp.GradScaler:
        fp16 = self.amp and self.device.type == "cuda" and not torch.cuda.is_bf16_supported()
        return torch.amp.GradScaler("cuda", enabled=fp16)

    def _state(self, epoch: int, standing: Standing, scaler: torch.amp.GradScaler) -> dict[str, Any]:
        sched = self.optimization.scheduler
        ranks_rng = distributed.gather(_rng_state(), self.world)  # every process's random state, for an exact resume
        rng = ranks_rng[self.world.rank]
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimization.optimizer.state_dict(),
            "scheduler": sched.state_dict() if sched is not None else {},
            "scaler": scaler.state_dict(),
            "torch_rng": rng["torch"],
            "cuda_rng": rng["cuda"],
            **({"rank_rng": ranks_rng} if self.world.parallel else {}),
            "history": self.history,
            "best_epoch": standing.best_epoch,
            "best_score": standing.best_score,
            "train_seconds": standing.seconds,
            "train_samples": standing.samples,
        }

    def _restore(self, scaler: torch.amp.GradScaler) -> tuple[int, Standing]:
        state = checkpoint.load(self.last_path)
        saved_world = len(state.get("rank_rng", [None]))
        if saved_world != self.world.size:
            raise CardiobenchError(f"{self.last_path} was written by a run on {saved_world} process(es); resume it on {saved_world} as well (this is {self.world.size}), so it ends where the uninterrupted run would.")
        self.model.load_state_dict(state["model"])
        self.optimization.optimizer.load_state_dict(state["optimizer"])
        if self.optimization.scheduler is not None:
            self.optimization.scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        rng = state["rank_rng"][self.world.rank] if self.world.parallel else {"torch": state["torch_rng"], "cuda": state["cuda_rng"]}
        torch.set_rng_state(rng["torch"])
        if rng["cuda"]:
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.history = list(state["history"])
        self.log(f"{self.label}resumed after epoch {state['epoch'] + 1} from {self.last_path}")
        return state["epoch"] + 1, Standing(state["best_epoch"], state["best_score"], state["train_seconds"], state["train_samples"])

    def _set_aside(self, exc: checkpoint.UnreadableCheckpoint) -> None:
        """An unreadable resume state: keep it beside as ``last.pt.unreadable``
        and train this fold again from its first epoch, which ends exactly
        where the uninterrupted run would (every draw derives from seed, epoch, item)."""
        distributed.barrier(self.world)
        if self.world.main:
            self.last_path.replace(self.last_path.with_name("last.pt.unreadable"))
        self.log(f"{self.label}{exc} Kept it as last.pt.unreadable; training this fold again from its first epoch, which ends where an uninterrupted run would.")

    def train_epoch(self, batches: Iterable[dict[str, Any]], scaler: torch.amp.GradScaler, desc: str = "train") -> tuple[float, int, float]:
        """One pass of optimisation steps: (mean loss, items, seconds)."""
        self.model.train()
        module = self.train_module or self.model
        optimizer, scheduler = self.optimization.optimizer, self.optimization.scheduler
        step_schedule = scheduler is not None and self.optimization.per_step
        show = progress.enabled()
        loss_sum, seen = torch.zeros((), device=self.device), 0
        bar = progress.bar(batches, desc=desc, unit="batch")
        tic = time.perf_counter()
        for step, batch in enumerate(bar):
            batch = to_device(batch, self.device)
            with _autocast(self.device, self.amp):
                loss = self.model.loss(module(batch["input"]), batch)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if step_schedule:
                scheduler.step()
            n = len(batch["id"])
            loss_sum += loss.detach().float() * n
            seen += n
            if show and step % 10 == 0:
                bar.set_postfix(loss=f"{float(loss_sum) / seen:.4g}", items_s=f"{seen / (time.perf_counter() - tic):.1f}")
        seconds = time.perf_counter() - tic
        total_loss, total_seen = distributed.reduce_sum([float(loss_sum), seen], self.world)
        return total_loss / max(total_seen, 1), int(total_seen), seconds

    def fit(self, train: EpochLoader, val: DataLoader, epochs: int) -> FitResult:
        scaler = self.amp_scaler()
        start_epoch, standing = 0, Standing()
        if self.last_path.exists():
            try:
                start_epoch, standing = self._restore(scaler)
            except checkpoint.UnreadableCheckpoint as exc:
                self._set_aside(exc)
        with checkpoint.BackgroundWriter() as writer:
            for epoch in range(start_epoch, epochs):
                with phases.phase(f"epoch {epoch + 1}"):
                    self._epoch(epoch, epochs, train, val, scaler, standing, writer)
        distributed.barrier(self.world)  # rank 0's last writes are on disk before any rank reads best.pt
        if not self.best_path.exists():
            raise CardiobenchError(self._no_best_epoch())
        self.model.load_state_dict(checkpoint.load(self.best_path)["model"])
        return FitResult(self.history, standing.best_epoch, standing.seconds, standing.samples)

    def _no_best_epoch(self) -> str:
        """Why no epoch was kept: a divergence (a non-finite loss) or a
        validation metric that is undefined although the losses stayed finite."""
        diverged = [h["epoch"] for h in self.history if not (math.isfinite(h["train_loss"]) and math.isfinite(h["val_loss"]))]
        if diverged:
            return f"{self.label}training diverged: the loss became non-finite at epoch {diverged[0]}, so no epoch gave a finite validation {self.select.name} (try a lower train.lr, or train.amp=false)."
        return (
            f"{self.label}the validation {self.select.name} was undefined at every epoch although the losses stayed finite: nothing diverged, "
            f"the metric cannot be computed on this validation part (for example, one class is missing from it). "
            f"Select by validation loss with --set train.select_by=loss, or give the validation part every class."
        )

    def _epoch(self, epoch: int, epochs: int, train: EpochLoader, val: DataLoader, scaler: torch.amp.GradScaler, standing: Standing, writer: checkpoint.BackgroundWriter) -> None:
        """Train one epoch, validate, keep the best weights, checkpoint, report."""
        train_loss, seen, seconds = self.train_epoch(train.epoch(epoch), scaler, f"{self.label}epoch {epoch + 1}/{epochs}")
        standing.seconds, standing.samples = standing.seconds + seconds, standing.samples + seen
        if self.optimization.scheduler is not None and not self.optimization.per_step:
            self.optimization.scheduler.step()

        val_pred, val_loss, _ = collect(self.model, val, self.device, self.amp, f"{self.label}validate", world=self.world)
        score = self.select.score(val_pred, val_loss)
        improved = math.isfinite(score) and self.select.better(score, standing.best_score)
        if improved:
            standing.best_epoch, standing.best_score = epoch, score
        values = {"train_loss": train_loss, "val_loss": val_loss, f"val_{self.select.name}": score, "seconds": seconds}
        self.history.append({"epoch": epoch + 1, **values})
        state = self._state(epoch, standing, scaler)
        if self.world.main:
            best = [(self.best_path, {"epoch": epoch, "model": state["model"]})] if improved else []
            writer.save([*best, (self.last_path, state)])
        self.on_epoch_end(epoch + 1, epochs, {**values, "items_per_second": seen / seconds}, improved)


def _concat(parts: Iterable[list[Any]]) -> list[Any]:
    return [item for part in parts for item in part]


def _rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}
