"""Re-evaluate a finished run: test-time corruption sweeps, class activation
maps, attention maps and weakly supervised localisation.

A corruption is applied by the task's own data pipeline through the config
keys ``eval.corruption`` and ``eval.corruption_level`` (a task that declares
them supports ``--corrupt``); class activation maps need a model with a
``cam(x) -> (B, h, w)`` method and a task with a ``preview`` of its inputs;
attention maps and localisation need a model with ``attention_maps(x) ->
{name: (B, h, w)}`` (and, to score boxes, a test set with ``boxes``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from cardiobench import atomic, config, fold_model, localisation, plotting, records
from cardiobench.cross_dataset import external_test
from cardiobench.engine import checkpoint, devices, numerics
from cardiobench.engine.loop import EpochLoader, collect
from cardiobench.errors import CardiobenchError, ConfigError
from cardiobench.evaluation import score
from cardiobench.registry import Registry
from cardiobench.runner import RUN_FILE, RunRequest
from cardiobench.specs import DataBundle, DataRequest


class FinishedRun:
    """A run directory with a record, and what is needed to test it again."""

    def __init__(self, run_dir: Path, registry: Registry, device: str = "auto"):
        self.run_dir = Path(run_dir)
        if not (self.run_dir / records.RECORD_FILE).is_file():
            raise CardiobenchError(f"{self.run_dir} is not a finished run (no {records.RECORD_FILE}); finish it with cardiobench run --resume {self.run_dir}.")
        self.registry = registry
        self.record = records.read(self.run_dir / records.RECORD_FILE)
        self.request = RunRequest(**json.loads((self.run_dir / RUN_FILE).read_text())["request"])
        self.values = config.read_yaml(self.run_dir / "config.yaml")
        numerics.apply(*numerics.configured(self.values))  # tested again with the kernels that made it
        self.task = registry.task(self.record["task"]["name"])
        self.model_spec = registry.model(self.record["model"]["name"], self.task.name)
        self.dataset = registry.dataset(self.record["dataset"]["name"])
        self.device = devices.resolve_device(device)

    def bundle(self, overrides: dict[str, Any] | None = None) -> DataBundle:
        values = config.merge(self.values, overrides or {})
        root = Path(self.request.data_root) if self.request.data_root else None
        bundle = self.dataset.load(DataRequest(self.task.name, root, values, self.request.seed))
        if bundle.fingerprint != self.record["dataset"]["fingerprint"]:
            raise CardiobenchError(f"The data of {self.run_dir} changed since the run (fingerprint {bundle.fingerprint[:12]}, recorded {self.record['dataset']['fingerprint'][:12]}).")
        if "test_dataset" in self.record:  # an external validation run is tested again on the same external test split
            tested = self.record["test_dataset"]
            other_root = Path(self.request.test_data_root) if self.request.test_data_root else None
            bundle = external_test(bundle, self.registry.dataset(tested["name"]), DataRequest(self.task.name, other_root, values, self.request.seed, bundle.info))
            if bundle.tested_on["fingerprint"] != tested["fingerprint"]:
                raise CardiobenchError(f"The test data ({tested['name']}) of {self.run_dir} changed since the run (fingerprint {bundle.tested_on['fingerprint'][:12]}, recorded {tested['fingerprint'][:12]}).")
        return bundle

    def model(self, fold: str, bundle: DataBundle) -> torch.nn.Module:
        model = fold_model.build(self.model_spec, self.task, self.values, bundle.info)
        model.load_state_dict(checkpoint.load(self.run_dir / "checkpoints" / fold / "best.pt")["model"])
        return devices.prepare_model(model, self.device, bool(self.values["train"].get("channels_last", False))).eval()


def _loader(dataset: Any, values: dict[str, Any]) -> Any:
    return EpochLoader(dataset, int(values["eval"]["batch_size"]), False, 0, 0).loader


def robustness(run: FinishedRun, corruption: str, levels: list[float]) -> tuple[Path, Path]:
    """Test metrics at each corruption level; writes a CSV table and a PNG curve."""
    if "corruption" not in run.values.get("eval", {}):
        raise ConfigError(f"Task {run.task.name!r} declares no test-time corruption (no eval.corruption key); --corrupt is not available for it.")
    metrics = [run.registry.metric(m) for m in run.task.metrics]
    rows = []
    for level in levels:
        bundle = run.bundle({"eval": {"corruption": corruption, "corruption_level": float(level)}})
        values: dict[str, list[float]] = {}
        for fold in bundle.folds:
            preds, _, _ = collect(run.model(fold.name, bundle), _loader(fold.test, run.values), run.device, desc=f"test at {corruption} {level:g}", with_loss=False)
            for name, value in score(metrics, preds, 0, 0).items():
                values.setdefault(name, []).append(value.value)
        rows.append({"corruption": corruption, "level": float(level), **{k: float(np.mean(v)) for k, v in values.items()}})
    table = pl.DataFrame(rows)
    out = run.run_dir / "eval"
    csv_path = out / f"robustness-{corruption}.csv"
    atomic.write_with(csv_path, table.write_csv)
    names = [m.name for m in metrics]
    fig, axes = plotting.plt.subplots(1, len(names), figsize=(4 * len(names), 3.4))
    for ax, name in zip(np.atleast_1d(axes), names):
        ax.plot(table["level"], table[name], "o-")
        ax.set(xlabel=f"{corruption} ratio", ylabel=name, title=name.upper())
        ax.grid(alpha=0.3)
    fig.suptitle(f"{run.record['model']['name']} on {run.task.name}: test metrics under {corruption}")
    return csv_path, plotting.save(fig, out / f"robustness-{corruption}.png")


def class_activation_maps(run: FinishedRun, count: int) -> list[Path]:
    """Overlays of the model's class activation map on the preview (e.g. the
    first frame) of the first ``count`` test items."""
    if run.task.preview is None:
        raise ConfigError(f"Task {run.task.name!r} has no input preview, so class activation maps cannot be drawn for it.")
    bundle = run.bundle()
    fold = bundle.folds[0]
    model = run.model(fold.name, bundle)
    if not hasattr(model, "cam"):
        raise ConfigError(f"Model {run.model_spec.name!r} has no class activation maps (they need a classification head, e.g. the ACR models).")
    paths: list[Path] = []
    for batch in _loader(fold.test, run.values):
        with torch.no_grad():
            maps = model.cam(batch["input"].to(run.device)).float().cpu()
        for i in range(len(maps)):
            if len(paths) == count:
                return paths
            image = run.task.preview(batch["input"][i], bundle.info)
            cam = F.interpolate(maps[i][None, None], size=image.shape[:2], mode="bilinear", align_corners=False)[0, 0].numpy()
            cam = (cam - cam.min()) / max(float(cam.max() - cam.min()), 1e-12)
            fig, ax = plotting.plt.subplots(figsize=(3, 3))
            ax.imshow(image)
            ax.imshow(cam, cmap="jet", alpha=0.4)
            ax.set_axis_off()
            ax.set_title(f"{batch['id'][i]} (clip {len(paths)})", fontsize=8)
            paths.append(plotting.save(fig, run.run_dir / "eval" / "cam" / f"{len(paths):03d}-{batch['id'][i].replace('/', '_')}.png"))
    return paths


def _attention_model(run: FinishedRun) -> tuple[DataBundle, Any, torch.nn.Module]:
    """(bundle, first fold, its selected model), refusing models without attention maps."""
    bundle = run.bundle()
    fold = bundle.folds[0]
    model = run.model(fold.name, bundle)
    if not hasattr(model, "attention_maps"):
        raise ConfigError(f"Model {run.model_spec.name!r} has no attention maps (they need attention gates, e.g. the AG-Sononet models).")
    return bundle, fold, model


@torch.no_grad()
def _input_sized_maps(model: torch.nn.Module, batch: dict[str, Any], device: torch.device) -> dict[str, np.ndarray]:
    """The model's attention maps of a batch, upsampled to the input size: (B, H, W) per name."""
    maps = model.attention_maps(batch["input"].to(device))
    size = batch["input"].shape[-2:]
    return {k: F.interpolate(v[:, None].float(), size=size, mode="bilinear", align_corners=False)[:, 0].cpu().numpy() for k, v in maps.items()}


def attention_overlays(run: FinishedRun, count: int) -> list[Path]:
    """Each attention map and their max-normalised mean (AG-all) over the first
    ``count`` test images, with the localised box (AG-Sononet Fig. 3 and 5)."""
    if run.task.preview is None:
        raise ConfigError(f"Task {run.task.name!r} has no input preview, so attention maps cannot be drawn for it.")
    bundle, fold, model = _attention_model(run)
    paths: list[Path] = []
    for batch in _loader(fold.test, run.values):
        maps = _input_sized_maps(model, batch, run.device)
        for i in range(len(batch["id"])):
            if len(paths) == count:
                return paths
            image = run.task.preview(batch["input"][i], bundle.info)
            scaled = localisation.normalised({k: v[i] for k, v in maps.items()})
            panels = {**scaled, "AG-all": np.mean(list(scaled.values()), axis=0)}
            box = localisation.box_from_maps(scaled)
            fig, axes = plotting.plt.subplots(1, len(panels) + 1, figsize=(2.6 * (len(panels) + 1), 2.4))
            axes[0].imshow(image)
            axes[0].set_title(f"{batch['id'][i]}"[-28:], fontsize=7)
            for ax, (name, m) in zip(axes[1:], panels.items()):
                ax.imshow(image)
                ax.imshow(m, cmap="jet", alpha=0.45)
                ax.set_title(name, fontsize=9)
            if box is not None:
                x0, y0, x1, y1 = box
                axes[-1].add_patch(plotting.plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="red", linewidth=1.5))
            for ax in axes:
                ax.set_axis_off()
            paths.append(plotting.save(fig, run.run_dir / "eval" / "attention" / f"{len(paths):03d}-{batch['id'][i].replace('/', '_').replace(':', '_').replace(' ', '_')}.png"))
    return paths


def localise(run: FinishedRun, heuristic: localisation.Heuristic) -> tuple[Path, list[dict[str, Any]]]:
    """Boxes from the attention maps of every test image; against the test
    set's ground-truth ``boxes`` (where its dataset has them) the per-class
    IoU table of AG-Sononet's Table 3. Writes eval/localisation.csv."""
    bundle, fold, model = _attention_model(run)
    truth = getattr(fold.test, "boxes", None)
    if truth is None or all(b is None for b in truth):
        raise ConfigError(f"The test set of {run.run_dir} has no ground-truth boxes (the synthetic {run.dataset.name} set writes them), so localisation cannot be scored.")
    names = bundle.info.get("classes")
    position = {item_id: k for k, item_id in enumerate(fold.test.ids)}
    ious, classes, rows = [], [], []
    for batch in _loader(fold.test, run.values):
        maps = _input_sized_maps(model, batch, run.device)
        for i, item_id in enumerate(batch["id"]):
            gt = truth[position[item_id]]
            if gt is None:  # background images have no object
                continue
            box = localisation.box_from_maps({k: v[i] for k, v in maps.items()}, heuristic)
            label = int(batch["target"][i])
            ious.append(localisation.iou(box, gt))
            classes.append(names[label] if names else str(label))
            rows.append({"id": item_id, "class": classes[-1], "iou": ious[-1], "box": str(box), "truth": str(gt)})
    if not ious:
        raise ConfigError(f"No test image of {run.run_dir} has a ground-truth box.")
    table = localisation.table3(ious, classes)
    out = run.run_dir / "eval"
    atomic.write_with(out / "localisation-items.csv", pl.DataFrame(rows).write_csv)
    path = out / "localisation.csv"
    atomic.write_with(path, pl.DataFrame(table).write_csv)
    return path, table
