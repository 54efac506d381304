"""One run, end to end: resolve names and config, load data, train each fold,
score the test predictions, write the run directory.

A run directory ``runs/<time>-<task>-<model>-s<seed>/`` holds ``run.json``
(what was asked), ``config.yaml`` (the resolved config), ``log.txt``,
``checkpoints/<fold>/``, ``folds/<fold>.json`` (finished folds),
``predictions.csv``, ``record.json`` and ``plots/``. ``resume`` re-enters a
directory and finishes it exactly as an uninterrupted run would. Launched on
several processes (torchrun), a run is data-parallel: every process trains and
predicts its share, rank 0 alone writes the directory.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cardiobench import atomic, config, external, fold_model, phases, records, selection
from cardiobench.cross_dataset import external_test
from cardiobench.engine import devices, distributed, numerics, optim
from cardiobench.engine.loop import (
    EpochLoader,
    FitResult,
    Predictions,
    Trainer,
    collect,
)
from cardiobench.engine.weights import WeightsSource
from cardiobench.engine.seeding import derive_seed, seed_everything
from cardiobench.errors import CardiobenchError, out_of_memory
from cardiobench.evaluation import MetricValue, fold_mean, per_class, score
from cardiobench.model_check import blame_model
from cardiobench.run_dirs import CONFIG_FILE, RUN_FILE, RunLog, fixed_run_dir, new_run_dir
from cardiobench.paths import cache_dir
from cardiobench.registry import Registry
from cardiobench.run_outputs import FoldResult, pooled, predictions_frame, save_maps
from cardiobench.run_record import mean_analysis, metric_dict, model_record, provenance, summary, test_items
from cardiobench.run_request import (
    Resolved,
    RunRequest,
    preset_banner,
    request_name,
    resolve,
)
from cardiobench.specs import (
    DataBundle,
    DataRequest,
    Fold,
    MetricSpec,
    RunInfo,
    TaskSpec,
    parameter_count,
)

@dataclass
class RunOutcome:
    run_dir: Path
    record: dict[str, Any]
    reused: bool = False  # finished before this call (a shared stage, a finished sweep point)


def _baseline_predictions(task: TaskSpec, train_targets: np.ndarray, preds: Predictions) -> np.ndarray | None:
    """The task's constant baseline for every test item; class scores are padded
    with zeros to the model's classes (those absent from training)."""
    if task.reference_baseline is None:
        return None
    constant = np.asarray(task.reference_baseline(train_targets), dtype=np.float64)
    if preds.y_pred.ndim == 2 and constant.ndim == 1 and len(constant) < preds.y_pred.shape[1]:
        constant = np.pad(constant, (0, preds.y_pred.shape[1] - len(constant)))
    return np.broadcast_to(constant, (len(preds),) + constant.shape).copy()


class _Run:
    """The work of one run directory."""

    def __init__(self, request: RunRequest, registry: Registry, resolved: Resolved, run_dir: Path, info: RunInfo):
        self.request, self.registry, self.resolved = request, registry, resolved
        self.run_dir, self.info = run_dir, info
        self.values = resolved.config.values
        self.world = distributed.current()
        self.log = RunLog(run_dir / "log.txt") if self.world.main else RunLog(None, echo=False)
        self.device = distributed.device_for(devices.resolve_device(request.device), self.world)
        self.metrics: list[MetricSpec] = [registry.metric(m) for m in resolved.task.metrics]
        self.numerics = numerics.signature(numerics.configured(self.values)[0], self.device)
        self.weights = fold_model.Weights(WeightsSource(Path(request.weights)), request.eval_only, request.reinit_mismatched) if request.weights else None
        self.external: external.External | None = None
        self.flops: float | None = None  # forward FLOPs per item, counted by the model check
        self.data_subsets: dict[str, Any] = {}  # the dataset's groups of test items (DataBundle.subsets)

    def fold(self, fold: Fold, index: int, bundle: DataBundle) -> FoldResult:
        done = self.run_dir / "folds" / f"{fold.name}.json"
        if done.exists():
            self.log(f"fold {fold.name}: already finished, reusing {done}")
            return FoldResult.load(done)
        if self.external is not None:  # predictions made elsewhere: nothing to train or test
            preds = self.external.per_fold[fold.name]
            targets = bundle.train_targets[index] if bundle.train_targets else np.empty(0)
            return FoldResult(fold.name, preds, 0, [], 0.0, 0, 0.0, _baseline_predictions(self.resolved.task, targets, preds), 0, {})
        train_cfg, eval_cfg = self.values["train"], self.values["eval"]
        world = self.world
        seed = derive_seed(self.request.seed, "fold", fold.name) % 2**31
        seed_everything(seed)
        model = devices.prepare_model(fold_model.build(self.resolved.model, self.resolved.task, self.values, bundle.info), self.device, bool(train_cfg.get("channels_last", False)))
        if self.weights is not None:
            self.log(f"{self.info.fold_label(fold.name)}{self.weights.load(model, fold.name, len(bundle.folds)).line()}")
        if world.parallel:  # same initial weights everywhere, but each process its own dropout draws
            torch.manual_seed(derive_seed(seed, "rank", world.rank) % 2**31)
        workers = train_cfg["num_workers"] if train_cfg["num_workers"] is not None else devices.default_workers(self.device)
        train = EpochLoader(fold.train, distributed.per_rank_batch(int(train_cfg["batch_size"]), world), True, workers, seed, drop_last=True, world=world)
        val = EpochLoader(fold.val, int(eval_cfg["batch_size"]), False, workers, seed, world=world).loader
        test = EpochLoader(fold.test, int(eval_cfg["batch_size"]), False, workers, seed, world=world).loader
        select, selection_note = selection.for_fold(
            selection.selection(self.registry, self.resolved.task, train_cfg["select_by"]), self.resolved.task, self.registry.metric(self.resolved.task.rank_metric), fold.val, bundle.info.get("classes", ()), self.info.fold_label(fold.name)
        )
        if selection_note:
            self.log(f"warning: {selection_note}")
        trainer = Trainer(
            model=model,
            optimization=optim.build(model, train_cfg, len(train)),
            device=self.device,
            checkpoint_dir=self.run_dir / "checkpoints" / fold.name,
            select=select,
            amp=bool(train_cfg["amp"]),
            label=self.info.fold_label(fold.name),
            log=self.log,
            world=world,
            train_module=distributed.wrap(model, self.device, world, bool(train_cfg["sync_bn"]), bool(train_cfg["find_unused_parameters"])),
            on_epoch_end=lambda epoch, epochs, values, best: self.registry.events.emit("epoch_end", run=self.info, fold=fold.name, epoch=epoch, epochs=epochs, values=values, best=best),
        )
        if self.weights is not None and self.weights.eval_only:
            fit = FitResult([], -1, 0.0, 0)
            if world.main:
                fold_model.keep_as_best(model, trainer.checkpoint_dir)
        else:
            with phases.phase(f"{trainer.label}train"), self.memory_guard(fold, "training", "train.batch_size"), blame_model(model, self.resolved.model_label(self.registry)):
                fit = trainer.fit(train, val, int(train_cfg["epochs"]))
        with phases.phase(f"{trainer.label}test"), self.memory_guard(fold, "testing", "eval.batch_size"), blame_model(model, self.resolved.model_label(self.registry)):
            preds, _, throughput = collect(model, test, self.device, bool(train_cfg["amp"]), "test", with_loss=False, joint=True, world=world)
        targets = bundle.train_targets[index] if bundle.train_targets else np.empty(0)
        analysis = self.analyse(model, fold) if world.main else {}
        baseline = _baseline_predictions(self.resolved.task, targets, preds)
        result = FoldResult(fold.name, preds, fit.best_epoch + 1, fit.history, fit.train_seconds, fit.train_samples, throughput, baseline, parameter_count(model), analysis, selection_note)
        if world.main:
            result.save(done.parent)
        distributed.barrier(world)
        return result

    @contextlib.contextmanager
    def memory_guard(self, fold: Fold, doing: str, batch_key: str) -> Iterator[None]:
        """Out of memory becomes a message with the batch size in use and the
        override that lowers it; the last finished epoch's checkpoint is intact."""
        try:
            yield
        except Exception as exc:
            if not out_of_memory(exc):
                raise
            section, key = batch_key.split(".")
            batch = int(self.values[section][key])
            last = self.run_dir / "checkpoints" / fold.name / "last.pt"
            kept = f"The last finished epoch is intact in {last}. " if last.exists() else ""
            raise CardiobenchError(
                f"Out of memory on {self.device} while {doing} fold {fold.name} with {batch_key} = {batch}"
                f"{f' ({batch // self.world.size} per process)' if self.world.parallel else ''} ({type(exc).__name__}: {str(exc)[:200]}). {kept}"
                f"Start again with a smaller batch, e.g. --set {batch_key}={max(1, batch // 2)}"
                f"{' (or --set train.amp=true on a GPU)' if self.device.type == 'cuda' else ''}, or free memory and continue this run with: cardiobench run --resume {self.run_dir}"
            ) from exc

    def analyse(self, model: torch.nn.Module, fold: Fold) -> dict[str, float]:
        """The task's extra analysis of the selected model on this fold's test set."""
        analysis = self.resolved.task.analysis
        if analysis is None:
            return {}
        model.eval()
        with torch.no_grad():
            values = analysis(model, fold, self.device, self.run_dir / "plots" / fold.name)
        for name, value in values.items():
            self.log(f"[{fold.name}] analysis {name}: {value:.4g}")
        return {name: float(value) for name, value in values.items()}

    def score(self, preds: Predictions, salt: str, task: TaskSpec | None = None) -> dict[str, MetricValue]:
        """Every metric of ``task`` (the run's by default) with its interval."""
        task = task or self.resolved.task
        metrics = [self.registry.metric(m) for m in task.metrics]
        groupings = [(g, [self.registry.metric(m) for m in g.metrics]) for g in task.groupings]
        subsets = {**task.subsets, **(self.data_subsets if task is self.resolved.task else {})}
        return score(metrics, preds, int(self.values["eval"]["bootstrap"]), derive_seed(self.request.seed, "bootstrap", salt) % 2**31, subsets, groupings)

    def score_folds(self, named: list[tuple[str, Predictions]], task: TaskSpec | None = None, salt: str = "") -> tuple[dict[str, MetricValue], list[dict[str, MetricValue]]]:
        """(headline metrics, per-fold metrics): a cross-validated run's
        headline is the mean over folds, as papers report."""
        if len(named) == 1:
            metrics = self.score(named[0][1], salt + "pooled", task)
            return metrics, [metrics]
        per_fold = [self.score(p, salt + name, task) for name, p in named]
        return {metric: fold_mean([fold[metric] for fold in per_fold]) for metric in per_fold[0]}, per_fold

    def joint_predictions(self, results: list[FoldResult]) -> dict[str, list[tuple[str, Predictions]]]:
        """Per fold, a multi-task model's predictions for each other registered
        task it predicted in every fold."""
        found = set.intersection(*(set(r.predictions.joint) for r in results))
        names = sorted(name for name in found if name != self.resolved.task.name and name in self.registry.tasks)
        return {name: [(r.name, r.predictions.joint[name]) for r in results] for name in names}

    def joint_record(self, joint: dict[str, list[tuple[str, Predictions]]]) -> dict[str, Any]:
        """The metrics of each joint task, as the record's ``joint``."""
        out = {}
        for task_name, named in joint.items():
            task = self.registry.task(task_name)
            metrics, per_fold = self.score_folds(named, task, f"joint-{task_name}-")
            out[task_name] = {"version": task.version, "metrics": metric_dict(metrics), "folds": [{"name": n, "metrics": metric_dict(m), "n_test": len(p)} for (n, p), m in zip(named, per_fold)]}
            out[task_name] |= test_items(pooled(named), [self.registry.metric(m) for m in task.metrics])
        return out


def _execute(run: _Run, bundle: DataBundle, stages: dict[str, Any], started: str, wall_start: float) -> RunOutcome:
    request, resolved = run.request, run.resolved
    results = [run.fold(fold, i, bundle) for i, fold in enumerate(bundle.folds)]
    if not run.world.main:  # rank 0 writes the record; the others receive it
        return RunOutcome(run.run_dir, distributed.from_main({}, run.world))

    named = [(r.name, r.predictions) for r in results]
    joined = pooled(named)
    metrics, per_fold = run.score_folds(named)
    folds = []
    for r, fold_metrics in zip(results, per_fold):
        folds.append({"name": r.name, "metrics": metric_dict(fold_metrics), "best_epoch": r.best_epoch, "n_test": len(r.predictions), "history": r.history})
        if r.analysis:
            folds[-1]["analysis"] = r.analysis
        if r.selection:
            folds[-1]["selection"] = r.selection

    baseline_record = None
    if all(r.baseline is not None for r in results) and resolved.task.reference_baseline is not None:
        base_pred = Predictions(joined.ids, joined.y_true, np.concatenate([r.baseline for r in results]))
        baseline_record = {"name": resolved.task.reference_baseline_name, "metrics": metric_dict(run.score(base_pred, "baseline"))}

    task, model_spec = resolved.task, resolved.model
    dataset = run.registry.dataset(resolved.dataset_name)
    plugins = {p: run.registry.plugin_version(p) for p in {run.registry.plugin_of("tasks", task.name), run.registry.plugin_of("models", model_spec.name), run.registry.plugin_of("datasets", dataset.name)}}
    train_seconds = sum(r.train_seconds for r in results)
    record = {
        "schema_version": records.SCHEMA_VERSION,
        "run_id": run.run_dir.name,
        "task": {"name": task.name, "version": task.version, "plugin": run.registry.plugin_of("tasks", task.name)},
        "dataset": {"name": dataset.name, "version": dataset.version, "plugin": run.registry.plugin_of("datasets", dataset.name), "fingerprint": bundle.fingerprint, "source": bundle.source, "info": bundle.info},
        "model": model_record(model_spec, run.registry.plugin_of("models", model_spec.name), results[0].parameters, request.overrides, run.flops),
        "preset": {"name": resolved.config.preset, "version": resolved.config.preset_version, "description": resolved.config.preset_description},
        "seed": request.seed,
        "request": {"overrides": list(request.overrides), "data_root": request.data_root} | ({"test_data_root": request.test_data_root} if request.test_dataset else {}),
        "config": run.values,
        "distributed": {**run.world.describe(), "global_batch": int(run.values["train"]["batch_size"]), "batch_per_rank": int(run.values["train"]["batch_size"]) // run.world.size},
        "metrics": metric_dict(metrics),
        "folds": folds,
        "stages": stages,
        "timing": {
            "wall_seconds": round(time.time() - wall_start, 3),
            "train_seconds": round(train_seconds, 3),
            "train_items_per_second": round(sum(r.train_samples for r in results) / train_seconds, 3) if train_seconds else 0.0,
            "eval_items_per_second": round(float(np.mean([r.eval_throughput for r in results])), 3),
            "phases": clock.as_records() if (clock := phases.current()) else [],
            **devices.peak_memory(run.device),
        },
        "environment": records.environment(devices.describe(run.device), plugins, run.numerics),
        "started_at": started,
        "finished_at": records.now(),
    }
    record["provenance"] = run.external.record() if run.external else provenance(request, bundle.folds)
    if bundle.tested_on is not None:
        record["test_dataset"] = {**bundle.tested_on, "plugin": run.registry.plugin_of("datasets", bundle.tested_on["name"])}
    if baseline_record is not None:
        record["reference_baseline"] = baseline_record
    analysis = mean_analysis(results)
    if analysis:
        record["analysis"] = analysis
    class_names = bundle.info.get("classes")
    if class_names and joined.y_pred.ndim == 2 and len(class_names) == joined.y_pred.shape[1]:
        record["per_class"] = per_class(joined.y_true, joined.y_pred, class_names)
    record |= test_items(joined, run.metrics)
    joint = run.joint_predictions(results)
    if joint:
        record["joint"] = run.joint_record(joint)
    record = records.portable(record, {cache_dir(): "<cache>", run.run_dir.parent: "<runs>"})  # no local absolute paths in what gets shared
    problems = records.problems(record)
    if problems:
        raise CardiobenchError(f"Internal error: the run record of {run.run_dir} fails its schema: {'; '.join(problems)}")

    atomic.write_with(run.run_dir / "predictions.csv", predictions_frame(results).write_csv)
    if joined.y_pred.ndim > 2:
        save_maps(run.run_dir / "predictions.npz", named)
    _plots(run, [(task, joined, run.run_dir / "plots")] + [(run.registry.task(name), pooled(named), run.run_dir / "plots" / name) for name, named in joint.items()])
    records.write(run.run_dir / records.RECORD_FILE, record)
    for fold in bundle.folds:  # a finished run needs only its best weights
        (run.run_dir / "checkpoints" / fold.name / "last.pt").unlink(missing_ok=True)
    run.registry.events.emit("test_end", run=run.info, record=record)
    run.log(summary(record, run.metrics))
    run.log(f"run directory: {run.run_dir}")
    return RunOutcome(run.run_dir, distributed.from_main(record, run.world))


def _plots(run: _Run, jobs: list[tuple[TaskSpec, Predictions, Path]]) -> None:
    """Each task's plots of its pooled predictions (the run task's under
    ``plots/``, a joint task's under ``plots/<task>/``)."""
    for spec, predictions, folder in jobs:
        if spec.plots is not None:
            for path in spec.plots(predictions, folder):
                run.log(f"plot: {path}")


@dataclass
class StageContext:
    """What a model's ``prepare`` may use: the run's request and registry, and
    :meth:`run_stage` to train a prerequisite as a recorded run of its own."""

    request: RunRequest
    registry: Registry
    runs_dir: Path
    owner: RunInfo

    def run_stage(self, request: RunRequest, key: str = "") -> RunOutcome:
        """Run ``request`` in ``<runs_dir>/stages/<name>``, named by the request
        and ``key`` (e.g. the data fingerprint): every run needing the same
        stage shares one training, resumed if interrupted."""
        request = _with_numerics(request, self.owner.config, self.registry)
        stage, stage_dir = f"{request.task}/{request.model}", self.runs_dir / "stages" / request_name(request, key)
        self.registry.events.emit("stage_start", run=self.owner, stage=stage, stage_dir=stage_dir)
        with phases.phase(f"stage {stage}"):
            outcome = run_in(request, self.registry, stage_dir)
        self.registry.events.emit("stage_end", run=self.owner, stage=stage, stage_dir=stage_dir, record=outcome.record, reused=outcome.reused)
        return outcome


def _with_numerics(request: RunRequest, owner: dict[str, Any], registry: Registry) -> RunRequest:
    """``request`` computing with its owner's numerics (they hold for the
    whole process): overrides say so where its own config differs."""
    mode, threads = numerics.configured(owner)
    if numerics.configured(resolve(request, registry).config.values) == (mode, threads):
        return request
    return replace(request, overrides=[*request.overrides, f"engine.numerics={mode}", f"engine.threads={'null' if threads is None else threads}"])


def _prepare(request: RunRequest, registry: Registry, resolved: Resolved, runs_dir: Path) -> tuple[DataBundle, dict[str, Any]]:
    """Load (and validate) the data and run the model's preparation stages;
    everything that can reject bad input happens here, before a run directory
    exists. A stage may fill in config keys it resolved (e.g. the segmenter run
    it trained), so the saved config names them and a resumed run reuses them."""
    dataset = registry.dataset(resolved.dataset_name)
    root = Path(request.data_root).expanduser() if request.data_root else None
    with distributed.main_first(distributed.current()), phases.phase("data"):  # rank 0 fills the caches, the others read them
        bundle = dataset.load(DataRequest(request.task, root, resolved.config.values, request.seed))
        if request.test_dataset:
            bundle = external_test(bundle, registry.dataset(request.test_dataset), DataRequest(request.task, Path(request.test_data_root) if request.test_data_root else None, resolved.config.values, request.seed, bundle.info))
    stages: dict[str, Any] = {}
    if request.predictions:  # checked whole before a run directory exists
        stages["external"] = external.load(Path(request.predictions), bundle, resolved.task.contract, int(resolved.config.values["eval"]["batch_size"]))
    if resolved.model.prepare is not None:
        with registry.events.requesting(resolved.track):  # a stage tracks where its owner does
            bundle, stages = resolved.model.prepare(bundle, resolved.config.values, StageContext(request, registry, runs_dir, resolved.info(request)))
    if not request.predictions:  # bad weights and a model that breaks the task's contract stop here, before a run directory exists
        with phases.phase("model check"):
            model = fold_model.build(resolved.model, resolved.task, resolved.config.values, bundle.info)
            for fold in bundle.folds if request.weights else []:
                fold_model.Weights(WeightsSource(Path(request.weights)), request.eval_only, request.reinit_mismatched).load(model, fold.name, len(bundle.folds))
            stages["flops_per_item"] = fold_model.check(model, resolved.task, bundle.folds[0], bundle.info, resolved.model_label(registry))
    return bundle, stages


class Interrupted(CardiobenchError):
    """Ctrl-C during a run: what was finished is kept, and the run resumes."""

    exit_code = 130


def _start(request: RunRequest, registry: Registry, resolved: Resolved, run_dir: Path, started: str, prepared: tuple[DataBundle, dict[str, Any]], wall_start: float) -> RunOutcome:
    bundle, stages = prepared
    run = _Run(request, registry, resolved, run_dir, resolved.info(request, run_dir, tuple(fold.name for fold in bundle.folds)))
    run.external = stages.pop("external", None)
    run.flops = stages.pop("flops_per_item", None)
    run.data_subsets = dict(bundle.subsets)
    run.log(f"data: {bundle.source} (fingerprint {bundle.fingerprint[:12]}, {len(bundle.folds)} fold(s))")
    if bundle.tested_on is not None:
        run.log(f"test data: {bundle.tested_on['source']} (fingerprint {bundle.tested_on['fingerprint'][:12]}): external validation, trained and selected on the data above")
    run.log(f"numerics: {numerics.describe(run.numerics)}")
    try:
        with registry.events.run(run.info):
            return _execute(run, bundle, stages, started, wall_start)
    except KeyboardInterrupt:
        raise Interrupted(f"Interrupted. Every finished epoch and fold is kept in {run_dir} (files are written whole or not at all); continue with: cardiobench run --resume {run_dir}") from None


def run(request: RunRequest, registry: Registry, runs_dir: Path = Path("runs"), run_dir: Path | None = None) -> RunOutcome:
    """Start a new run (in ``run_dir`` if given, else a new time-stamped
    directory under ``runs_dir``)."""
    with phases.clock():
        return _run(request, registry, runs_dir, run_dir)


def _run(request: RunRequest, registry: Registry, runs_dir: Path, run_dir: Path | None) -> RunOutcome:
    wall_start, started = time.time(), records.now()
    devices.reset_peak_memory()
    resolved = resolve(request, registry)
    numerics.apply(*numerics.configured(resolved.config.values))  # before anything computes
    banner = preset_banner(resolved.config)
    print(banner, flush=True)
    prepared = _prepare(request, registry, resolved, runs_dir)
    world = distributed.current()
    if world.main:
        run_dir = fixed_run_dir(Path(run_dir)) if run_dir is not None else new_run_dir(runs_dir, request)
    run_dir = distributed.from_main(run_dir, world)
    if world.main:
        atomic.write_text(run_dir / RUN_FILE, json.dumps({"request": asdict(request), "preset": {"name": resolved.config.preset, "version": resolved.config.preset_version, "description": resolved.config.preset_description}, "sources": resolved.config.sources, "started_at": started}, indent=2))
        atomic.write_text(run_dir / CONFIG_FILE, config.dump_yaml(resolved.config.values))
        RunLog(run_dir / "log.txt", echo=False)(banner)
        RunLog(run_dir / "log.txt")(f"run: {request.task} / {request.model} / seed {request.seed} -> {run_dir}")
    distributed.barrier(world)
    return _start(request, registry, resolved, run_dir, started, prepared, wall_start)


def resume(run_dir: Path, registry: Registry) -> RunOutcome:
    """Finish an interrupted run from its last checkpoint (its record's phase
    times are this process's)."""
    with phases.clock():
        return _resume(Path(run_dir), registry)


def _resume(run_dir: Path, registry: Registry) -> RunOutcome:
    wall_start = time.time()
    devices.reset_peak_memory()
    if not (run_dir / RUN_FILE).is_file() or not (run_dir / CONFIG_FILE).is_file():
        raise CardiobenchError(f"{run_dir} is not a cardiobench run directory (no {RUN_FILE} and {CONFIG_FILE}).")
    if (run_dir / records.RECORD_FILE).is_file():
        raise CardiobenchError(f"{run_dir} already finished (it has {records.RECORD_FILE}); nothing to resume.")
    meta = json.loads((run_dir / RUN_FILE).read_text())
    request = RunRequest(**meta["request"])
    resolved = resolve(request, registry)
    saved = config.read_yaml(run_dir / CONFIG_FILE)
    resolved.config = config.ResolvedConfig(saved, meta["preset"]["name"], meta["preset"]["version"], meta["preset"]["description"], meta["sources"])
    numerics.apply(*numerics.configured(saved))
    if distributed.current().main:
        RunLog(run_dir / "log.txt")(f"resuming {run_dir}")
    return _start(request, registry, resolved, run_dir, meta["started_at"], _prepare(request, registry, resolved, run_dir.parent), wall_start)


def run_in(request: RunRequest, registry: Registry, run_dir: Path) -> RunOutcome:
    """The run of ``request`` in ``run_dir``: its record if finished, else
    resumed if started, else started there. Concurrent callers take turns (a
    lock on the directory), so the work is done once."""
    run_dir = Path(run_dir)
    world = distributed.current()
    with atomic.exclusive(run_dir) if world.main else contextlib.nullcontext():
        state = distributed.from_main(run_state(run_dir), world)
        if state == "finished":
            return RunOutcome(run_dir, records.read(run_dir / records.RECORD_FILE), reused=True)
        if state == "started":
            return resume(run_dir, registry)
        return run(request, registry, run_dir.parent, run_dir)


def run_state(run_dir: Path) -> str:
    """``finished`` (a record), ``started`` (resumable) or ``new``."""
    if (run_dir / records.RECORD_FILE).is_file():
        return "finished"
    return "started" if (run_dir / RUN_FILE).is_file() and (run_dir / CONFIG_FILE).is_file() else "new"
