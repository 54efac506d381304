"""A task's test items written to plain files (``cardiobench export-split``),
so a model run anywhere predicts exactly our split and ``cardiobench score``
rates its predictions.

``OUT/manifest.csv`` lists one row per test item: ``fold``, ``id`` (what a
predictions file names), ``file`` (relative to OUT) and ``shape``. Each file
is the item's ``input`` tensor as the models see it (normalised float32,
the task contract's layout without the batch axis: (C, L) ECG segments,
(C, H, W) images or slices, (C, T, H, W) video clips), saved with
``numpy.save``. A task that tests several clips of one video lists each clip
under the video's id; average your predictions per id (as cardiobench does).
Targets are not exported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from cardiobench import atomic, progress
from cardiobench.contract import ModelContract
from cardiobench.specs import DataBundle

README = """Test items of task {task} (preset {preset}, dataset {dataset}, fingerprint {fingerprint}), written by cardiobench export-split.

manifest.csv: fold, id, file, shape (one row per test item; several rows may share an id: average their predictions).
Each file: numpy.load(file) -> the model input, float32, layout {layout}.
Predict, then write a CSV with columns fold, id and {columns} (one row per id),
{mask_note}and score it with:
  cardiobench score --task {task} --preset {preset} --predictions FILE --model-name NAME{data}
"""


def export(bundle: DataBundle, out: Path, task: str, preset: str, dataset: str, contract: ModelContract | None, data_root: str | None) -> tuple[Path, int]:
    """Write every fold's test items under ``out`` (replaced whole); returns (manifest path, item count)."""
    rows = []
    with atomic.directory(Path(out)) as tmp:
        for fold in bundle.folds:
            (tmp / fold.name).mkdir()
            for i in progress.bar(range(len(fold.test)), desc=f"export {fold.name}", unit="item"):
                item = fold.test[i]
                array = item["input"].numpy().astype(np.float32)
                name = f"{fold.name}/{i:06d}.npy"
                np.save(tmp / name, array)
                rows.append({"fold": fold.name, "id": str(item["id"]), "file": name, "shape": "x".join(map(str, array.shape))})
        pl.DataFrame(rows).write_csv(tmp / "manifest.csv")
        resolved = contract.resolved(bundle.info) if contract else None
        columns = "y_pred" if resolved and resolved.output == "scalar" else f"score_0 .. score_{resolved.classes - 1}" if resolved and resolved.output == "classes" else "(see docs)"
        mask_note = "or, for masks, an NPZ with ids (N,) '<fold>/<id>' and y_pred (N, H, W) probabilities,\n" if resolved and resolved.output == "mask" else ""
        (tmp / "README.txt").write_text(README.format(task=task, preset=preset, dataset=dataset, fingerprint=bundle.fingerprint[:12], layout=resolved.input_text().replace("(B, ", "(") if resolved else "the task's", columns=columns, mask_note=mask_note, data=f" --data-root {data_root}" if data_root else ""))
    return Path(out) / "manifest.csv", len(rows)
