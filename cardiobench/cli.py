"""The ``cardiobench`` command: argument parsing and printing only; the work
happens in :mod:`cardiobench.runner`, :mod:`cardiobench.registry` and friends."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import polars as pl

from cardiobench import __version__, atomic, audit, config, library_warnings, native_noise
from cardiobench.atomic import DiskFull
from cardiobench.cli_protocol import add_data_arguments, add_model_arguments, add_run_arguments, request_from
from cardiobench.engine import distributed
from cardiobench.progress import set_enabled as set_progress
from cardiobench.errors import CardiobenchError, unknown_name
from cardiobench.registry import ENV_DISABLE, ENV_PLUGINS, Registry, load_registry
from cardiobench.runner import resume, run
from cardiobench.specs import DataRequest, parameter_count
from cardiobench.tables import markdown

Command = Callable[[argparse.Namespace, Registry], int]


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--plugin", action="append", default=argparse.SUPPRESS, metavar="MODULE", help=f"load an extra plugin module (repeatable; also ${ENV_PLUGINS})")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="cardiobench",
        parents=[common],
        description="Train, evaluate and compare published cardiac deep-learning models on one protocol.",
        epilog=f"Plugins: entry-point group 'cardiobench', --plugin, ${ENV_PLUGINS}; block with ${ENV_DISABLE}.",
    )
    parser.add_argument("--version", action="version", version=f"cardiobench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help="train and test a model on a task", description="Train, validate and test one model on one task; writes a run directory with record.json. Launched with torchrun --nproc-per-node N -m cardiobench run ..., the run is data-parallel over N processes (train.batch_size is then the global batch).")
    add_data_arguments(p)
    add_model_arguments(p)
    p.add_argument("--eval-only", action="store_true", help="test --weights without training (the same as: cardiobench evaluate)")
    add_run_arguments(p)
    p.add_argument("--resume", metavar="RUN_DIR", type=Path, help="continue an interrupted run")
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("evaluate", parents=[common], help="test trained weights on a task's test split, without training", description="Score trained weights (--weights) on the task's test split with the same metrics, intervals, baselines and plots as a trained run; the run directory and record are marked eval-only with the weights' SHA-256.")
    add_data_arguments(p)
    add_model_arguments(p, weights_required=True)
    add_run_arguments(p)
    p.set_defaults(handler=_cmd_run, eval_only=True, resume=None)

    p = sub.add_parser("score", parents=[common], help="score predictions made elsewhere on a task's test split", description="Score a predictions file (CSV in the predictions.csv form: fold, id, y_pred or score_0..score_n-1; NPZ with ids and y_pred for masks) with the task's metrics, intervals, baselines and plots; the record is marked external with the file's SHA-256. Get the test items with cardiobench export-split.")
    add_data_arguments(p)
    p.add_argument("--predictions", required=True, type=Path, metavar="FILE", help="the predictions file")
    p.add_argument("--model-name", metavar="NAME", help="what the predictions' model is called in the record and tables (default: the file's name); recorded as external:NAME")
    p.add_argument("--runs-dir", default="runs", type=Path, help="where run directories go (default: ./runs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=_cmd_score)

    p = sub.add_parser("export-split", parents=[common], help="write a task's test items to plain files, to predict them elsewhere", description="Write each fold's test items (the model inputs as NPY, with manifest.csv of ids) so a model run anywhere predicts exactly this split; score its predictions with cardiobench score.")
    add_data_arguments(p)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="the folder to write (replaced whole)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=_cmd_export_split)

    p = sub.add_parser("eval", parents=[common], help="re-test a finished run: corruption sweeps, class activation maps, attention maps, localisation", description="Test a finished run's best weights again under test-time corruption, draw class activation or attention maps, or localise objects from attention maps; results go to RUN_DIR/eval/.")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument("--corrupt", metavar="NAME", help="test-time corruption, e.g. zero-pixels (replace that share of pixels with 0)")
    p.add_argument("--levels", default="0,0.1,0.2,0.3,0.4,0.5", help="comma-separated corruption levels (default: 0 to 0.5 by 0.1)")
    p.add_argument("--cam", type=int, metavar="N", help="write class activation map overlays for the first N test clips")
    p.add_argument("--attention", type=int, metavar="N", help="write attention-map overlays (each gate, AG-all, the localised box) for the first N test images")
    p.add_argument("--localise", action="store_true", help="boxes from attention maps for every test image, scored by IoU against ground-truth boxes (AG-Sononet Table 3)")
    p.add_argument("--localise-sigma", type=float, default=2.0, metavar="PX", help="blur of the attention maps before thresholding, in input pixels (default 2)")
    p.add_argument("--localise-threshold", type=float, default=0.5, metavar="T", help="keep activations >= T x the blurred map's maximum (default 0.5)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=_cmd_eval)

    p = sub.add_parser("list", parents=[common], help="list registered tasks, datasets, models, metrics or trackers")
    p.add_argument("kind", choices=["tasks", "datasets", "models", "metrics", "trackers"])
    p.add_argument("--task", help="only what serves this task")
    p.add_argument("--json", action="store_true", help="print JSON (models carry their exact parameter count) for scripts")
    p.add_argument("--contract", action="store_true", help="with tasks: what each task's models receive and must return")
    p.set_defaults(handler=_cmd_list)

    p = sub.add_parser("plugins", parents=[common], help="list loaded plugins, their versions and hooks")
    p.set_defaults(handler=_cmd_plugins)

    p = sub.add_parser("data", parents=[common], help="check a data folder or write a synthetic one")
    data = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    c = data.add_parser("check", parents=[common], help="validate a data folder without training")
    c.add_argument("--task", required=True)
    c.add_argument("--dataset", help="dataset name (default: the task's)")
    c.add_argument("--data-root", metavar="DIR", required=True, type=Path)
    c.add_argument("--preset", default="quick", help="preset whose data settings (frame size, ...) to use")
    c.set_defaults(handler=_cmd_data_check)
    s = data.add_parser("synth", parents=[common], help="write a synthetic dataset in its real on-disk format")
    s.add_argument("name", help="synthesizer name (e.g. echonet)")
    s.add_argument("--out", required=True, type=Path, metavar="DIR")
    s.add_argument("--n", type=int, help="number of items (default: the generator's)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(handler=_cmd_data_synth)
    p = sub.add_parser("leaderboard", parents=[common], help="versioned leaderboard tables built from run records")
    board = p.add_subparsers(dest="leaderboard_command", required=True, metavar="ACTION")
    b = board.add_parser("build", parents=[common], help="render every table from the committed records")
    b.add_argument("--check", action="store_true", help="change nothing; fail with a diff if the committed tables are not what the records give")
    s = board.add_parser("submit", parents=[common], help="validate finished runs' records and add them (all or none), then rebuild")
    s.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    r = board.add_parser("reproduce", parents=[common], help="re-run recorded runs and compare their metrics with the records")
    r.add_argument("--task", help="only this task (default: every task with records)")
    r.add_argument("--preset", default="ci", help="which recorded runs to re-run (default: ci)")
    r.add_argument("--runs-dir", type=Path, help="where the re-runs go (default: a temporary folder)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    f = board.add_parser("count-flops", parents=[common], help="count the forward FLOPs of records made before runs counted them (same network, same config)")
    f.add_argument("--task", help="only this task (default: every task with records)")
    g = board.add_parser("plot", parents=[common], help="PNG of the ranking metric against parameter count, per table")
    g.add_argument("--task", required=True)
    w = board.add_parser("site", parents=[common], help="a static website of every table and run record (opens from disk, no server)")
    w.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write (replaced whole)")
    w.add_argument("--no-progress", action="store_true", help="no progress bars")
    for q in (b, s, r, f, g, w):
        q.add_argument("--root", type=Path, default=Path("leaderboards"), help="the leaderboards folder (default: ./leaderboards)")
        q.set_defaults(handler=_cmd_leaderboard)

    p = sub.add_parser("sweep", parents=[common], help="run a grid of runs (models x seeds x presets x data x overrides) on an executor", description="cardiobench sweep FILE runs every point of the sweep file that is not finished (a re-run skips finished points and resumes interrupted ones); cardiobench sweep status FILE shows each point's state.")
    p.add_argument("words", nargs="+", metavar="[status] FILE", help="the sweep file (YAML), after 'status' to only show the points' states")
    p.add_argument("--executor", choices=["debug", "local", "slurm", "ray"], default="local", help="debug: one after another in this process; local: subprocesses (default); slurm: a job array; ray: an existing Ray cluster (cardiobench[ray])")
    p.add_argument("--runs-dir", type=Path, help="where the points' run directories go (default: the file's runs_dir, else runs/sweep-<file name>)")
    p.add_argument("--dry-run", action="store_true", help="show the points and their states; start nothing")
    p.add_argument("--submit", action="store_true", help="at the end, add every finished point's record to the leaderboards (one validated submission)")
    p.add_argument("--root", type=Path, default=Path("leaderboards"), help="the leaderboards folder for --submit (default: ./leaderboards)")
    p.set_defaults(handler=_cmd_sweep)

    p = sub.add_parser("audit", parents=[common], help="list the papers' reported numbers that break their task's consistency checks", description="Check every reported row against the relations its task declares between its metrics (e.g. accuracy between sensitivity and specificity) and list the violations.")
    p.add_argument("--task", help="only this task (default: every task)")
    p.set_defaults(handler=_cmd_audit)

    p = sub.add_parser("bench", parents=[common], help="speed benchmarks")
    bench = p.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    k = bench.add_parser("kernels", parents=[common], help="kernels against eager PyTorch and torch.compile (STCA and AG-Sononet shapes)")
    k.add_argument("--device", default="auto", help="auto | cpu | cuda")
    k.add_argument("--tca-batch", type=int, default=20, help="batch of the TCA workloads (STCA trains with 20)")
    k.add_argument("--gate-batch", type=int, default=64, help="batch of the attention-gate workloads (AG-Sononet trains with 64)")
    k.add_argument("--repeats", type=int, default=5)
    k.add_argument("--no-compile", action="store_true", help="skip torch.compile of the eager code")
    k.add_argument("--save", type=Path, metavar="FILE", help="also write the report (markdown) to FILE")
    k.set_defaults(handler=_cmd_bench_kernels)
    return parser


def _print_table(rows: list[dict[str, object]], empty: str) -> None:
    print(markdown(pl.DataFrame(rows)) if rows else empty)


def _cmd_run(args: argparse.Namespace, registry: Registry) -> int:
    if args.no_progress:
        set_progress(False)
    with distributed.session(args.device) as world, _quiet_unless(world.main):
        _start_or_resume(args, registry)
    return 0


@contextlib.contextmanager
def _quiet_unless(speaks: bool) -> Iterator[None]:
    """Rank 0 of a data-parallel run prints; the other ranks' output (and
    progress bars) go nowhere, their errors still to stderr."""
    if speaks:
        yield
        return
    set_progress(False)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _start_or_resume(args: argparse.Namespace, registry: Registry) -> None:
    if args.resume:
        resume(args.resume, registry)
        return
    if not args.task or not args.model:
        raise CardiobenchError("cardiobench run needs --task and --model (or --resume RUN_DIR). See: cardiobench list tasks; cardiobench list models --task T.")
    request = request_from(args)
    run(request, registry, runs_dir=args.runs_dir)


def _require_task(args: argparse.Namespace, command: str) -> None:
    if not args.task:
        raise CardiobenchError(f"cardiobench {command} needs --task (see: cardiobench list tasks).")


def _cmd_score(args: argparse.Namespace, registry: Registry) -> int:
    _require_task(args, "score")
    if args.no_progress:
        set_progress(False)
    request = request_from(args)
    request.model = f"external:{args.model_name or args.predictions.stem}"
    request.predictions = str(args.predictions.expanduser().resolve())
    request.device = "cpu"
    run(request, registry, runs_dir=args.runs_dir)
    return 0


def _cmd_export_split(args: argparse.Namespace, registry: Registry) -> int:
    from cardiobench import api, export_split

    _require_task(args, "export-split")
    if args.no_progress:
        set_progress(False)
    bundle, _ = api.load_data(args.task, args.preset, args.seed, args.overrides, args.data_root, args.dataset, registry, args.test_dataset, args.test_data_root)
    task = registry.task(args.task)
    dataset = (args.dataset or task.default_dataset) + (f", tested on {args.test_dataset} (its test split, normalised as the training data)" if args.test_dataset else "")
    manifest, count = export_split.export(bundle, args.out.expanduser(), task.name, args.preset, dataset, task.contract, args.data_root)
    print(f"wrote {count} test item(s) of {len(bundle.folds)} fold(s) to {manifest.parent} (manifest: {manifest}; see README.txt there)")
    return 0


def _cmd_eval(args: argparse.Namespace, registry: Registry) -> int:
    from cardiobench import retest

    if args.corrupt is None and args.cam is None and args.attention is None and not args.localise:
        raise CardiobenchError("cardiobench eval needs --corrupt NAME [--levels ...], --cam N, --attention N and/or --localise.")
    if args.no_progress:
        set_progress(False)
    finished = retest.FinishedRun(args.run_dir, registry, args.device)
    if args.corrupt is not None:
        try:
            levels = [float(x) for x in args.levels.split(",") if x.strip()]
        except ValueError as exc:
            raise CardiobenchError(f"--levels must be comma-separated numbers, e.g. 0,0.1,0.2; got {args.levels!r}.") from exc
        table, plot = retest.robustness(finished, args.corrupt, levels)
        print(markdown(pl.read_csv(table)))
        print(f"wrote {table} and {plot}")
    if args.cam is not None:
        paths = retest.class_activation_maps(finished, args.cam)
        print(f"wrote {len(paths)} class activation map(s) to {paths[0].parent if paths else args.run_dir / 'eval' / 'cam'}")
    if args.attention is not None:
        paths = retest.attention_overlays(finished, args.attention)
        print(f"wrote {len(paths)} attention map figure(s) to {paths[0].parent if paths else args.run_dir / 'eval' / 'attention'}")
    if args.localise:
        from cardiobench.localisation import Heuristic

        path, table = retest.localise(finished, Heuristic(args.localise_sigma, args.localise_threshold))
        print(markdown(pl.DataFrame(table)))
        print(f"wrote {path}")
    return 0


def _cmd_list(args: argparse.Namespace, registry: Registry) -> int:
    if args.task:
        registry.task(args.task)
    if args.kind == "tasks" and args.contract:
        for name in [args.task] if args.task else sorted(registry.tasks):
            contract = registry.task(name).contract
            print(f"## {name}\n\n" + (markdown(pl.DataFrame(contract.rows())) if contract else "declares no model contract (only its plugins' models serve it)") + "\n")
        return 0
    if args.kind == "tasks":
        rows = [{"name": t.spec.name, "version": t.spec.version, "plugin": t.plugin, "modality": t.spec.modality, "dataset": t.spec.default_dataset, "metrics": ", ".join(t.spec.metrics), "description": t.spec.description, "citation": t.spec.citation} for t in (registry.tasks[n] for n in sorted(registry.tasks)) if not args.task or t.spec.name == args.task]
    elif args.kind == "datasets":
        rows = [{"name": n, "version": d.spec.version, "plugin": d.plugin, "tasks": ", ".join(d.spec.tasks), "synthesizer": d.spec.synthesizer.name if d.spec.synthesizer else "", "description": d.spec.description, "citation": d.spec.citation} for n, d in sorted(registry.datasets.items()) if not args.task or args.task in d.spec.tasks]
    elif args.kind == "models":
        rows = []
        for name, m in sorted(registry.models.items()):
            if args.task and args.task not in m.spec.tasks:
                continue
            task = registry.task(args.task or m.spec.tasks[0])
            values = config.resolve(task, m.spec, "paper" if "paper" in config.available_presets(task) else "quick").values
            count = parameter_count(m.spec.build(values, {}))
            rows.append({"name": name, "version": m.spec.version, "plugin": m.plugin, "tasks": ", ".join(m.spec.tasks), **({"parameters": count} if args.json else {"params (paper preset)": f"{count / 1e6:.2f}M"}), "description": m.spec.description, "citation": m.spec.citation})
        for prefix, source in sorted(registry.model_sources.items()):
            served = [t.spec.name for _, t in sorted(registry.tasks.items()) if source.spec.serves(t.spec.contract)]
            if not args.task or args.task in served:
                rows.append({"name": f"{prefix}:...", "version": "", "plugin": source.plugin, "tasks": ", ".join(served), **({"parameters": None} if args.json else {"params (paper preset)": ""}), "description": f"{source.spec.description}; e.g. --model {source.spec.example}", "citation": source.spec.install})
    elif args.kind == "trackers":
        rows = [{"name": n, "plugin": t.plugin, "description": t.spec.description, "install": t.spec.install} for n, t in sorted(registry.trackers.items())]
    else:
        rows = [{"name": n, "plugin": m.plugin, "better": "higher" if m.spec.higher_is_better else "lower", "description": m.spec.description, "computed with": m.spec.citation} for n, m in sorted(registry.metrics.items()) if not args.task or n in registry.task(args.task).metrics]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    _print_table(rows, f"no {args.kind} registered")
    return 0


def _cmd_plugins(args: argparse.Namespace, registry: Registry) -> int:
    _print_table([{"plugin": p.name, "version": p.version, "hooks": ", ".join(h.removeprefix("cardiobench_") for h in p.hooks), "from": p.origin} for p in registry.plugins], "no plugins loaded")
    return 0


def _cmd_data_check(args: argparse.Namespace, registry: Registry) -> int:
    task = registry.task(args.task)
    dataset = registry.dataset(args.dataset or task.default_dataset)
    values = config.resolve(task, None, args.preset, datasets=[dataset]).values
    print(dataset.check(DataRequest(task.name, args.data_root.expanduser(), values)))
    return 0


def _cmd_data_synth(args: argparse.Namespace, registry: Registry) -> int:
    synths = {d.spec.synthesizer.name: d.spec.synthesizer for d in registry.datasets.values() if d.spec.synthesizer}
    if args.name not in synths:
        raise unknown_name("synthesizer", args.name, synths)
    out = args.out.expanduser()
    if out.exists() and any(out.iterdir()):
        raise CardiobenchError(f"Output folder {out} exists and is not empty; choose another --out or remove it.")
    with atomic.directory(out) as tmp:
        synths[args.name].write(tmp, args.n, args.seed)
    print(f"wrote synthetic {args.name} data to {out}")
    return 0


def _cmd_leaderboard(args: argparse.Namespace, registry: Registry) -> int:
    from cardiobench import leaderboard
    from cardiobench.leaderboard.store import Store

    store = Store(args.root)
    action = args.leaderboard_command
    if action == "build":
        built = leaderboard.build(store, registry)
        if args.check:
            diff = leaderboard.check(built)
            if diff:
                print(diff)
                raise CardiobenchError(f"The committed leaderboards under {store.root} are not what the records give (diff above); run cardiobench leaderboard build and commit the result.")
            print(f"leaderboards under {store.root} match their {sum(len(t.records) for t in built.tables)} records ({len(built.tables)} table(s))")
        else:
            changed = leaderboard.write(built)
            print(f"built {len(built.tables)} table(s) under {store.root}; {len(changed)} file(s) changed")
    elif action == "submit":
        paths, changed = leaderboard.publish(store, registry, args.run_dirs)
        print("".join(f"added {path}\n" for path in paths) + f"{len(changed)} leaderboard file(s) changed")
    elif action == "reproduce":
        if args.no_progress:
            set_progress(False)
        comparisons, notes = leaderboard.reproduce(store, registry, args.task, args.preset, args.runs_dir)
        for note in notes:
            print(f"note: {note}")
        if not comparisons:
            raise CardiobenchError(f"No recorded {args.preset!r} runs to reproduce under {store.root}{' for ' + args.task if args.task else ''}.")
        print(markdown(leaderboard.comparison_table(comparisons)))
        if any(not c.ok for c in comparisons):
            raise CardiobenchError(leaderboard.failure_message(comparisons))
        exact = sum(c.exact for c in comparisons)
        print(f"all {len(comparisons)} metric(s) of {len({c.run_id for c in comparisons})} run(s) reproduce: {exact} bit for bit, {len(comparisons) - exact} statistically")
    elif action == "count-flops":
        from cardiobench.leaderboard import flops

        changed, notes = flops.count_missing(store, registry, args.task)
        print("".join(f"note: {note}\n" for note in notes) + f"counted the FLOPs of {len(changed)} record(s); {len(notes)} left without; rebuild with cardiobench leaderboard build")
    elif action == "site":
        from cardiobench.leaderboard import site

        if args.no_progress:
            set_progress(False)
        built = site.build(store, registry, args.out)
        print(f"wrote {len(built.pages)} page(s), {built.runs} of them run pages, to {built.root}; open {built.root / 'index.html'}")
    else:
        for path in leaderboard.plot(store, registry, args.task):
            print(f"wrote {path}")
    return 0


def _cmd_sweep(args: argparse.Namespace, registry: Registry) -> int:
    from cardiobench import sweep

    if len(args.words) > 2 or (len(args.words) == 2 and args.words[0] != "status"):
        raise CardiobenchError(f"cardiobench sweep takes FILE or status FILE, got: {' '.join(args.words)}.")
    spec = sweep.load(Path(args.words[-1]), list(getattr(args, "plugin", [])))
    runs_dir = sweep.runs_dir_of(spec, args.runs_dir)
    invalid = sweep.invalid_points(spec, registry)
    if args.words[0] == "status" or args.dry_run:
        rows = sweep.status(spec, runs_dir)
        for row in rows:
            if row["point"] in invalid and row["state"] != "done":
                row["state"], row["where"] = "invalid", invalid[row["point"]]
        _print_table(rows, "the sweep has no points")
        states = [row["state"] for row in rows]
        print(f"{len(rows)} point(s) under {runs_dir}: " + ", ".join(f"{states.count(s)} {s}" for s in ("done", "running", "failed", "interrupted", "pending", "invalid") if s in states))
        return 0 if args.dry_run or all(s == "done" for s in states) else 1
    outcome = sweep.execute(spec, args.executor, runs_dir, invalid)
    print(f"{len(spec.points)} point(s) under {runs_dir}: {len(outcome.done)} done ({outcome.started} run now), {len(outcome.failed)} failed")
    for failure in outcome.failed:
        print(f"failed: {failure['point']}: {failure['error']} (log: {failure['log']})")
    if args.submit and outcome.done:
        from cardiobench.leaderboard.store import Store

        added = sweep.submit(outcome.done, Store(args.root), registry)
        print(f"submitted {len(added)} new record(s) to {args.root} ({len(outcome.done) - len(added)} already there)")
    if outcome.failed:
        raise CardiobenchError(f"{len(outcome.failed)} of {len(spec.points)} point(s) failed (listed above); fix them and run the sweep again: finished points are skipped.")
    return 0


def _cmd_audit(args: argparse.Namespace, registry: Registry) -> int:
    tasks = [registry.task(args.task)] if args.task else [registry.task(name) for name in sorted(registry.tasks)]
    rows = []
    for task in tasks:
        for violation in audit.audit(task.checks, registry.reported_for(task.name)):
            rows.append({"task": task.name, "paper table": violation.table, "row": violation.method, "violation": violation.detail(), "check": violation.check.name})
    checked = sum(len(t.checks) for t in tasks)
    _print_table(rows, f"no violations ({checked} check(s) over the reported rows of {len(tasks)} task(s))")
    return 0


def _cmd_bench_kernels(args: argparse.Namespace, registry: Registry) -> int:
    from cardiobench.kernels import bench

    header, rows = bench.run(args.device, args.tca_batch, args.gate_batch, args.repeats, not args.no_compile)
    report = f"{header}\n\n{bench.table(rows)}\n"
    print(report)
    if args.save:
        atomic.write_text(args.save, f"# cardiobench bench kernels\n\n`cardiobench bench kernels --tca-batch {args.tca_batch} --gate-batch {args.gate_batch} --repeats {args.repeats}`\n\n{report}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with native_noise.filtered(), library_warnings.in_our_words(getattr(args, "debug", False)):
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    debug = getattr(args, "debug", False)
    try:
        registry = load_registry(getattr(args, "plugin", []))
        return args.handler(args, registry)
    except CardiobenchError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into a reader that stopped (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted. A run continues where it stopped with: cardiobench run --resume RUN_DIR", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure still gets one readable paragraph
        if debug:
            traceback.print_exc()
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            print(f"error: {atomic.disk_full_error(Path(exc.filename or '.'), exc)}", file=sys.stderr)
            return DiskFull.exit_code
        print(f"error: internal error {type(exc).__name__}: {exc}. Re-run with --debug for the traceback, and please report it.", file=sys.stderr)
        return 1
