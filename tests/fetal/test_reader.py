"""The FETAL_PLANES_DB reader on generated folders: the real CSV quirks, every
colour mode, labels, patient-disjoint splits, boxes, and every bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from cardiobench.errors import DataError
from cardiobench.specs import DataRequest
from cardiobench_fetal.planes import dataset, images, layout, synthetic


def _load(root: Path, config: dict, seed: int = 0):
    return dataset.load(DataRequest("fetal-planes", root, config, seed))


def test_csv_keeps_the_real_quirks_and_reader_strips_them(planes_folder: Path):
    raw = (planes_folder / layout.CSV_NAME).read_text().splitlines()
    assert raw[0] == "Image_name;Patient_num;Plane;Brain_plane;Operator;US_Machine;Train "
    assert all(line.endswith(("1 ", "0 ")) for line in raw[1:])
    read = layout.read_layout(planes_folder)
    assert read.problems == [] and len(read.images) == 48
    assert {im.train for im in read.images} == {True, False}


def test_every_colour_mode_decodes_to_the_same_grey(planes_folder: Path):
    read = layout.read_layout(planes_folder)
    kinds = set()
    for im in read.images[:8]:
        raw = cv2.imread(str(im.path), cv2.IMREAD_UNCHANGED)
        kinds.add((raw.dtype.name, raw.shape[2] if raw.ndim == 3 else 1))
        grey = images.decode(im.path, raw.shape[:2])
        reference = cv2.imread(str(im.path), cv2.IMREAD_GRAYSCALE)
        assert grey.dtype == np.uint8 and np.abs(grey.astype(int) - reference.astype(int)).max() <= 1
    assert kinds == {("uint8", 1), ("uint8", 3), ("uint8", 4), ("uint16", 1)}


def test_labels_splits_and_boxes(planes_folder: Path, fetal_config: dict):
    bundle = _load(planes_folder, fetal_config)
    (fold,) = bundle.folds
    read = layout.read_layout(planes_folder)
    by_name = {im.name: im for im in read.images}
    patients = [{by_name[i.split(":", 1)[1]].patient for i in part.ids} for part in (fold.train, fold.val, fold.test)]
    assert not (patients[0] & patients[1]) and not (patients[0] & patients[2]) and not (patients[1] & patients[2])
    assert all(not by_name[i.split(":", 1)[1]].train for i in fold.test.ids)
    item = fold.test[0]
    assert item["input"].shape == (1, 48, 64) and abs(float(item["input"].mean())) < 1e-4 and abs(float(item["input"].std()) - 1) < 1e-2
    name = item["id"].split(":", 1)[1]
    assert item["id"].startswith(by_name[name].machine + ":") and int(item["target"]) == layout.PLANES.index(by_name[name].plane)
    boxes = [b for b in fold.test.boxes if b is not None]
    assert boxes and all(0 <= b[0] < b[2] and b[1] < b[3] for b in boxes)
    background = [b for b, t in zip(fold.test.boxes, fold.test.labels) if t == layout.PLANES.index("Other")]
    assert all(b is None for b in background)
    weights = fold.train.sample_weights
    labels = fold.train.labels
    other = layout.PLANES.index("Other")
    mass = np.bincount(labels, weights=weights, minlength=6)
    present = [k for k in range(6) if k != other and mass[k] > 0]
    assert np.allclose(mass[present], mass[present][0]) and np.isclose(mass[other], 5 * mass[present][0])


def test_brain_sub_planes_give_nine_classes(planes_folder: Path, fetal_config: dict):
    config = {**fetal_config, "data": {**fetal_config["data"], "classes": "planes+brain"}}
    bundle = _load(planes_folder, config)
    assert bundle.info["classes"] == list(layout.CLASSES["planes+brain"])
    read = layout.read_layout(planes_folder)
    thalamic = [im for im in read.images if im.brain_plane == "Trans-thalamic"]
    assert thalamic and all(im.label("planes+brain") == 1 for im in thalamic)
    assert bundle.fingerprint != _load(planes_folder, fetal_config).fingerprint


def test_augmentation_is_drawn_per_seed_epoch_and_image(planes_folder: Path, fetal_config: dict):
    train = _load(planes_folder, fetal_config).folds[0].train
    train.set_epoch(3)
    a = train[2]["input"]
    train.set_epoch(4)
    b = train[2]["input"]
    train.set_epoch(3)
    assert torch.equal(a, train[2]["input"]) and not torch.equal(a, b)


def test_every_bad_row_and_image_is_named_at_once(planes_copy: Path, fetal_config: dict):
    csv = planes_copy / layout.CSV_NAME
    lines = csv.read_text().splitlines()
    names = [line.split(";")[0] for line in lines[1:]]
    lines[1] = lines[1].replace(lines[1].split(";")[2], "Fetal heart")  # unknown Plane
    lines[2] = ";".join(lines[2].split(";")[:3] + ["Trans-nowhere"] + lines[2].split(";")[4:])  # unknown Brain_plane
    lines[3] = lines[3][: lines[3].rfind(";")] + ";yes "  # Train not 0/1
    lines.append(lines[5])  # duplicate Image_name
    csv.write_text("\n".join(lines) + "\n")
    (planes_copy / layout.IMAGES / f"{names[6]}.png").unlink()  # missing image
    (planes_copy / layout.IMAGES / f"{names[7]}.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")  # undecodable
    with pytest.raises(DataError) as err:
        _load(planes_copy, fetal_config)
    text = str(err.value)
    for expected in ("Fetal heart", "Trans-nowhere", "Train must be 0 or 1", f"duplicate Image_name {names[4]!r}", f"{names[6]}.png is missing", f"{names[7]}.png cannot be decoded"):
        assert expected in text, expected


def test_missing_columns_and_missing_csv(planes_copy: Path, fetal_config: dict, tmp_path: Path):
    with pytest.raises(DataError, match="FETAL_PLANES_DB_data.csv is missing"):
        _load(tmp_path, fetal_config)
    csv = planes_copy / layout.CSV_NAME
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(";".join(line.split(";")[:5]) for line in lines) + "\n")
    with pytest.raises(DataError, match="lacks column\\(s\\) US_Machine, Train"):
        _load(planes_copy, fetal_config)


def test_decode_cache_is_reused(planes_folder: Path):
    paths = [im.path for im in layout.read_layout(planes_folder).images[:5]]
    first, problems = images.decoded(paths, (40, 50))
    assert problems == {} and first.shape == (5, 40, 50)
    again, _ = images.decoded(paths, (40, 50))
    assert isinstance(again, np.memmap) and np.array_equal(first, again)


def test_synthetic_generation_is_deterministic(tmp_path: Path):
    synthetic.write(tmp_path / "a", 12, 5)
    synthetic.write(tmp_path / "b", 12, 5)
    assert (tmp_path / "a" / layout.CSV_NAME).read_bytes() == (tmp_path / "b" / layout.CSV_NAME).read_bytes()
    assert (tmp_path / "a" / synthetic.BOXES).read_bytes() == (tmp_path / "b" / synthetic.BOXES).read_bytes()
