"""The command-line arguments that define a run's protocol, shared by
``run``, ``evaluate``, ``score`` and ``export-split``, and the
:class:`~cardiobench.run_request.RunRequest` they make."""

from __future__ import annotations

import argparse
from pathlib import Path

from cardiobench.engine import numerics
from cardiobench.model_sources import parse_model_args
from cardiobench.run_request import RunRequest


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """What picks the test items: task, data, preset, seed, overrides."""
    p.add_argument("--task", help="task name (see: cardiobench list tasks)")
    p.add_argument("--dataset", help="dataset name (default: the task's)")
    p.add_argument("--data-root", metavar="DIR", help="folder of the real dataset; omitted: a synthetic set in the same format, generated on first use")
    p.add_argument("--test-dataset", metavar="NAME", help="external validation: train and select on --dataset, test on this dataset of the same task (e.g. camus)")
    p.add_argument("--test-data-root", metavar="DIR", help="folder of the real --test-dataset; omitted: its synthetic set")
    p.add_argument("--preset", default="quick", help="protocol preset: paper | quick | ci (default: quick, sized for a laptop CPU)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config key, e.g. --set train.epochs=3 (repeatable)")


def add_model_arguments(p: argparse.ArgumentParser, weights_required: bool = False) -> None:
    p.add_argument("--model", help="model name, or a library model such as timm:convnext_atto, torchvision:r2plus1d_18, monai:UNet, py:my_net.py:build (see: cardiobench list models --task T)")
    p.add_argument("--model-args", metavar="K=V,...", help="the model's constructor arguments, e.g. --model-args channels=[16,32,64],strides=[2,2] (the same as --set model.K=V)")
    p.add_argument("--weights", metavar="FILE|DIR", required=weights_required, help="trained weights (a cardiobench, timm, torchvision or Lightning checkpoint, or a state_dict; for a cross-validated task a folder with one file per fold, e.g. a run's checkpoints/)")
    p.add_argument("--reinit-mismatched", action="store_true", help="with --weights: keys the file lacks or shapes differently (e.g. a head for other classes) keep their fresh initialisation instead of an error")


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Where and how a run computes."""
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--numerics", choices=numerics.MODES, help="native: this machine's fastest kernels (bit-identical on this machine); portable: bit-identical on any x86-64 CPU (sets engine.numerics; default: the preset's, portable for ci)")
    p.add_argument("--runs-dir", default="runs", type=Path, help="where run directories go (default: ./runs)")
    p.add_argument("--track", default="", metavar="NAMES", help="experiment trackers, comma-separated: tensorboard, mlflow (see: cardiobench list trackers; also config key track)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def request_from(args: argparse.Namespace, eval_only: bool = False) -> RunRequest:
    """The run ``args`` ask for."""
    overrides = parse_model_args(getattr(args, "model_args", None) or "") + list(args.overrides)
    if getattr(args, "numerics", None):
        overrides.append(f"engine.numerics={args.numerics}")
    weights = getattr(args, "weights", None)
    return RunRequest(
        task=args.task,
        model=getattr(args, "model", None) or "",
        dataset=args.dataset,
        data_root=str(Path(args.data_root).expanduser().resolve()) if args.data_root else None,
        test_dataset=getattr(args, "test_dataset", None),
        test_data_root=str(Path(args.test_data_root).expanduser().resolve()) if getattr(args, "test_data_root", None) else None,
        preset=args.preset,
        seed=args.seed,
        overrides=overrides,
        device=getattr(args, "device", "auto"),
        plugins=list(getattr(args, "plugin", [])),
        track=[name.strip() for name in getattr(args, "track", "").split(",") if name.strip()],
        weights=str(Path(weights).expanduser().resolve()) if weights else None,
        eval_only=eval_only or bool(getattr(args, "eval_only", False)),
        reinit_mismatched=bool(getattr(args, "reinit_mismatched", False)),
    )
