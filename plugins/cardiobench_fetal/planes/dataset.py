"""The ``fetal-planes-db`` dataset: FETAL_PLANES_DB (Burgos-Artizzu et al.,
Scientific Reports 10:10200, 2020) as AG-Sononet's preprocessing sees it.

Splits: the CSV's Train column is train vs test (patient-disjoint, as
published); validation is a patient-disjoint share of train fixed by
``data.split_seed``. Items: one grey image resized to ``data.image_size``
(decoded once into the cache), centre-cropped to ``data.crop``, augmented in
training (shift, horizontal flip, rotation, zoom, AG-Sononet section 3) with
parameters drawn per (seed, epoch, index), then whitened per image. Item ids
are ``<US_Machine>:<Image_name>`` so test metrics split by machine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
import torchvision.transforms.v2.functional as TF
from torch.utils.data import Dataset

from cardiobench.data.generated import generated
from cardiobench.engine.seeding import derive_seed
from cardiobench.errors import DataError
from cardiobench.specs import DataBundle, DataRequest, Fold
from cardiobench_fetal.planes import images, synthetic
from cardiobench_fetal.planes.layout import BACKGROUND, Layout, class_names, raise_problems, read_layout

NAME = "fetal-planes-db"
VERSION = 1
CITATION = "Burgos-Artizzu et al., Evaluation of deep convolutional neural networks for automatic classification of common maternal fetal ultrasound planes, Scientific Reports 10:10200, 2020 (FETAL_PLANES_DB, Zenodo 3904280)"
LICENSE = "CC BY 4.0 (FETAL_PLANES_DB); synthetic images: Apache-2.0"
FOLD = "official"
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Augment:
    """Training augmentation (AG-Sononet section 3; the authors' code shifts by
    a fraction of the size and flips with probability 0.5)."""

    shift: float
    rotation: float
    zoom: tuple[float, float]
    flip: float

    def __call__(self, image: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        h, w = image.shape[-2:]
        if rng.random() < self.flip:
            image = TF.horizontal_flip(image)
        dx, dy = rng.uniform(-self.shift, self.shift, 2) * (w, h)
        angle, scale = rng.uniform(-self.rotation, self.rotation), rng.uniform(*self.zoom)
        return TF.affine(image, angle=float(angle), translate=[float(dx), float(dy)], scale=float(scale), shear=[0.0, 0.0], interpolation=TF.InterpolationMode.BILINEAR)


def centre_crop_offsets(size: Sequence[int], crop: Sequence[int]) -> tuple[int, int]:
    return (int(size[0]) - int(crop[0])) // 2, (int(size[1]) - int(crop[1])) // 2


class PlaneImages(Dataset):
    """Items ``input`` (1, crop H, crop W) whitened, ``target`` class index,
    ``id``; ``boxes[i]`` is item i's anatomy box in input pixels (synthetic
    data) or None; training sets carry ``sample_weights``."""

    def __init__(self, pixels: np.ndarray, labels: np.ndarray, ids: list[str], index: np.ndarray, crop: Sequence[int], seed: int, augment: Augment | None = None, boxes: Sequence[Box | None] | None = None):
        self.pixels, self.index = pixels, index
        self.labels = labels[index]
        self.ids = [ids[i] for i in index]
        self.top, self.left = centre_crop_offsets(pixels.shape[1:], crop)
        self.crop = (int(crop[0]), int(crop[1]))
        self.seed, self.epoch, self.augment = seed, 0, augment
        self.boxes = [boxes[i] for i in index] if boxes is not None else [None] * len(index)
        self.sample_weights: np.ndarray | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.index)

    def class_targets(self) -> np.ndarray:
        """Each item's class, for the core's check that the validation metric is defined."""
        return self.labels

    def __getitem__(self, i: int) -> dict[str, Any]:
        j = int(self.index[i])
        image = torch.from_numpy(np.array(self.pixels[j, self.top : self.top + self.crop[0], self.left : self.left + self.crop[1]], dtype=np.float32))[None]
        if self.augment is not None:
            image = self.augment(image, np.random.default_rng(derive_seed(self.seed, "augment", self.epoch, j)))
        image = (image - image.mean()) / image.std().clamp_min(1e-6)
        return {"input": image, "target": torch.tensor(int(self.labels[i])), "id": self.ids[i]}


def balanced_weights(labels: np.ndarray, n_classes: int, background: int, background_weight: float | None) -> np.ndarray:
    """Per-image sampling weights: 1/n_c, and ``background_weight``/n_c for the
    background class (AG-Sononet section 3: 13/n_c with 13 standard planes;
    None: the number of other classes, so a background image is drawn as
    often as all the others together)."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = 1.0 / np.maximum(counts, 1)
    weights[background] *= (n_classes - 1) if background_weight is None else float(background_weight)
    return weights[labels]


def patient_validation(patients: np.ndarray, train_rows: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) rows: a patient-disjoint ``fraction`` of the training patients."""
    unique = np.unique(patients[train_rows])
    rng = np.random.default_rng(seed)
    n_val = max(1, int(round(fraction * len(unique)))) if fraction > 0 and len(unique) > 1 else 0
    val_patients = set(rng.permutation(unique)[:n_val].tolist())
    is_val = np.array([patients[r] in val_patients for r in train_rows], dtype=bool)
    return train_rows[~is_val], train_rows[is_val]


def read_boxes(root: Path, layout: Layout, size: Sequence[int], crop: Sequence[int]) -> list[Box | None] | None:
    """Ground-truth anatomy boxes from a synthetic folder's side file, mapped to input pixels."""
    path = root / synthetic.BOXES
    if not path.is_file():
        return None
    table = pl.read_csv(path, separator=";", infer_schema_length=0)
    by_name = {r["Image_name"]: r for r in table.iter_rows(named=True)}
    top, left = centre_crop_offsets(size, crop)
    out: list[Box | None] = []
    for im in layout.images:
        row = by_name.get(im.name)
        if row is None or not row["x0"]:
            out.append(None)
            continue
        sx, sy = int(size[1]) / float(row["width"]), int(size[0]) / float(row["height"])
        out.append((float(row["x0"]) * sx - left, float(row["y0"]) * sy - top, float(row["x1"]) * sx - left, float(row["y1"]) * sy - top))
    return out


def _root(data_root: Path | None, data: Mapping[str, Any]) -> tuple[Path, str]:
    if data_root is not None:
        return data_root, f"FETAL_PLANES_DB folder {data_root}"
    n, seed = int(data["synthetic_images"]), int(data["synthetic_seed"])
    name = f"fetal-planes-v{synthetic.GENERATOR_VERSION}-n{n}-s{seed}"
    root = generated(name, synthetic.CSV_NAME, f"{n} synthetic FETAL_PLANES_DB images", lambda out: synthetic.write(out, n, seed))
    return root, f"synthetic FETAL_PLANES_DB-format images v{synthetic.GENERATOR_VERSION}"


def _read(request: DataRequest) -> tuple[Path, str, Layout, np.ndarray]:
    data = request.config["data"]
    root, source = _root(request.data_root, data)
    layout = read_layout(root)
    pixels, problems = images.decoded([im.path for im in layout.images], tuple(data["image_size"]))
    raise_problems(layout, problems)
    if not layout.images:
        raise DataError(f"{layout.csv_path} lists no images.")
    assert pixels is not None
    return root, source, layout, pixels


def _check_geometry(data: Mapping[str, Any]) -> None:
    size, crop = data["image_size"], data["crop"]
    if len(size) != 2 or len(crop) != 2 or crop[0] > size[0] or crop[1] > size[1] or min(crop) < 16:
        raise DataError(f"data.crop {crop} must be two sizes of at least 16 within data.image_size {size}.")


def load(request: DataRequest) -> DataBundle:
    data = request.config["data"]
    _check_geometry(data)
    classes = class_names(str(data["classes"]))
    root, source, layout, pixels = _read(request)
    labels = np.array([im.label(str(data["classes"])) for im in layout.images], dtype=np.int64)
    patients = np.array([im.patient for im in layout.images])
    ids = [f"{im.machine}:{im.name}" for im in layout.images]
    is_train = np.array([im.train for im in layout.images])
    train, val = patient_validation(patients, np.flatnonzero(is_train), float(data["val_fraction"]), int(data["split_seed"]))
    test = np.flatnonzero(~is_train)
    if len(train) == 0 or len(test) == 0:
        raise DataError(f"{layout.csv_path}: the Train column must mark some images 1 (train) and some 0 (test); found {len(train) + len(val)} and {len(test)}.")
    boxes = read_boxes(root, layout, data["image_size"], data["crop"])
    augment = Augment(float(data["shift"]), float(data["rotation"]), tuple(data["zoom"]), float(data["flip"])) if data["augment"] else None
    seed = derive_seed(request.seed, "fetal-augment") % 2**31
    parts = [PlaneImages(pixels, labels, ids, rows, data["crop"], seed, augment if rows is train else None, boxes) for rows in (train, val, test)]
    if data["balanced"]:
        parts[0].sample_weights = balanced_weights(labels[train], len(classes), classes.index(BACKGROUND), data["background_weight"])
    split = {k: data[k] for k in ("classes", "val_fraction", "split_seed")}
    fingerprint = hashlib.sha256(json.dumps({"content": layout.content_hash, "split": split}, sort_keys=True).encode()).hexdigest()
    counts = {part: {c: int(n) for c, n in zip(classes, np.bincount(labels[rows], minlength=len(classes)))} for part, rows in (("train", train), ("val", val), ("test", test))}
    info = {"classes": list(classes), "class_counts": counts, "patients": int(len(np.unique(patients))), "input_size": list(data["crop"]), "has_boxes": boxes is not None}
    source += f" ({len(layout.images)} images of {info['patients']} patients; {len(train)} train, {len(val)} validation, {len(test)} test; {len(classes)} classes)"
    return DataBundle([Fold(FOLD, *parts)], fingerprint, source, info, [labels[train]])


def check(request: DataRequest) -> str:
    data = request.config["data"]
    _, source, layout, _ = _read(request)
    planes = pl.DataFrame({"plane": [im.plane for im in layout.images]})["plane"].value_counts(sort=True)
    listing = ", ".join(f"{r['plane']} {r['count']}" for r in planes.iter_rows(named=True))
    return f"{source}: {len(layout.images)} rows, every image decodes ({data['image_size'][0]}x{data['image_size'][1]} cache); planes: {listing}; content {layout.content_hash[:12]}"
