"""The ACDC reader on generated data: layout, slices, folds, class balance,
and every kind of bad input named at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiobench.data.cfg import read_key_values
from cardiobench.errors import DataError
from cardiobench.specs import DataRequest
from cardiobench_cmr.acdc import dataset, layout, slices
from tests.cmr.conftest import cmr_config


def request(root: Path, task: str = "dcm-cls", **data: object) -> DataRequest:
    return DataRequest(task, root, cmr_config(task, **data), seed=0)


def test_layout_reads_groups_and_frames_from_info_cfg(acdc_folder: Path):
    patients = layout.read_patients(acdc_folder)
    assert [p.name for p in patients] == [f"patient{i:03d}" for i in range(1, 11)]
    assert sorted(p.group for p in patients) == sorted(layout.GROUPS * 2)
    for p in patients:
        info, _ = read_key_values(p.folder / layout.INFO_FILE)
        assert p.frames == {"ED": int(info["ED"]), "ES": int(info["ES"])}
        assert p.image("ES").name == f"{p.name}_frame{int(info['ES']):02d}.nii.gz"
    assert any(p.frames["ED"] != 1 for p in patients), "the generator must exercise ED frames other than 1"
    assert (acdc_folder / "MANDATORY_CITATION.md").is_file()


def test_slices_are_resampled_cropped_and_scaled(acdc_folder: Path):
    patients = layout.read_patients(acdc_folder)
    decoded, problems = slices.decoded(patients, 128, 1.0)
    assert not problems and decoded is not None
    volume = nib.load(str(patients[0].image("ED")))
    truth = np.asarray(nib.load(str(patients[0].truth("ED"))).dataobj)
    assert decoded.images.shape[1:] == (128, 128) and decoded.images.dtype == np.uint8
    assert int((decoded.patient == 0).sum()) == 2 * volume.shape[2]
    first = np.flatnonzero((decoded.patient == 0) & (decoded.phase == "ED"))
    for z, row in enumerate(first):
        assert decoded.images[row].min() == 0 and decoded.images[row].max() == 255
        # myocardium area in mm^2 is kept by the 1 mm resampling (up to the crop and nearest-neighbour rounding)
        area_mm2 = (truth[:, :, z] == layout.MYOCARDIUM).sum() * float(np.prod(volume.header.get_zooms()[:2]))
        assert abs(int((decoded.labels[row] == layout.MYOCARDIUM).sum()) - area_mm2) <= 0.06 * area_mm2 + 30
    assert set(np.unique(decoded.labels).tolist()) == {0, 1, 2, 3}


def test_crop_centre_pads_and_crops():
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert slices.crop_centre(image, 2).tolist() == [[1, 2], [5, 6]]
    padded = slices.crop_centre(image, 6)
    assert padded.shape == (6, 6) and padded[2:5, 1:5].tolist() == image.tolist() and padded.sum() == image.sum()


def test_folds_are_patient_disjoint_stratified_and_fixed_by_split_seed(acdc_folder: Path):
    bundle = dataset.load(request(acdc_folder, folds=2, slices="all"))
    tested = []
    for fold in bundle.folds:
        sides = [{dataset.patient_of(i) for i in part.ids} for part in (fold.train, fold.val, fold.test)]
        assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
        assert {fold.test.labels[r] for r in fold.test.rows} == {0, 1}
        tested += sorted(sides[2])
    assert sorted(tested) == [f"patient{i:03d}" for i in range(1, 11)]
    item = bundle.folds[0].test[0]
    assert item["input"].shape == (1, 32, 32) and abs(float(item["input"].mean())) < 1e-4
    assert item["target"].dtype.is_floating_point is False and set(item["targets"]) == {"myo-seg", "dcm-cls"}
    assert dataset.load(request(acdc_folder, folds=2, slices="all")).fingerprint == bundle.fingerprint
    assert dataset.load(request(acdc_folder, folds=2, slices="all", split_seed=1)).fingerprint != bundle.fingerprint
    seg = dataset.load(DataRequest("myo-seg", acdc_folder, cmr_config("myo-seg", folds=2), 0)).folds[0].test[0]
    assert seg["target"].shape == (32, 32) and seg["target"].dtype.is_floating_point


def test_validation_share_takes_each_class_when_it_can():
    dcm = np.array([True] * 4 + [False] * 16)
    train = np.arange(20)
    val = dataset.validation_share(train, dcm, 0.15, np.random.default_rng(0))
    assert dcm[val].sum() == 1 and (~dcm[val]).sum() == 2
    lone = dataset.validation_share(np.arange(3, 20), dcm, 0.15, np.random.default_rng(0))
    assert dcm[lone].sum() == 0, "a single DCM patient stays in training"


def test_slices_without_myocardium_are_kept_or_dropped(acdc_folder: Path):
    everything = dataset.load(request(acdc_folder, folds=2, slices="all"))
    myocardium = dataset.load(request(acdc_folder, folds=2, slices="myocardium"))
    assert everything.info["slices"] > myocardium.info["slices"]
    assert all(item["targets"]["myo-seg"].sum() > 0 for fold in myocardium.folds for item in (fold.test[i] for i in range(len(fold.test))))


def test_oversampling_balances_training_only(acdc_folder: Path):
    plain = dataset.load(request(acdc_folder, folds=2))
    balanced = dataset.load(request(acdc_folder, folds=2, balance="oversample"))
    for a, b in zip(plain.folds, balanced.folds):
        labels = b.train.labels[b.train.rows]
        assert (labels == 1).sum() == (labels == 0).sum() and b.train.repeats.sum() == len(b.train) - len(a.train)
        assert list(a.test.rows) == list(b.test.rows) and list(a.val.rows) == list(b.val.rows)
    repeat = int(np.flatnonzero(balanced.folds[0].train.repeats)[0])
    first = balanced.folds[0].train[repeat]["input"]
    balanced.folds[0].train.set_epoch(1)
    assert not np.allclose(first, balanced.folds[0].train[repeat]["input"]), "each epoch redraws the rotation and noise"


def _save_like(path: Path, data: np.ndarray) -> None:
    nib.save(nib.Nifti1Image(data, np.diag([1.5, 1.5, 10.0, 1.0])), path)


def test_every_bad_patient_is_named_at_once(acdc_copy: Path):
    folders = sorted((acdc_copy / "training").iterdir())
    folders = [f for f in folders if f.is_dir()]
    (folders[0] / "Info.cfg").unlink()
    info = folders[1] / "Info.cfg"
    info.write_text(info.read_text().replace("Group: ", "Group: XYZ").replace("Height", "Heigth"))
    p2, p3, p4, p5, p6, p7 = folders[2:8]
    ed = lambda folder: next(folder.glob("*_frame??.nii.gz"))  # noqa: E731
    ed(p2).unlink()
    gt = next(p3.glob("*_gt.nii.gz"))
    _save_like(gt, np.zeros((5, 5, 2), dtype=np.uint8))
    gt = next(p4.glob("*_gt.nii.gz"))
    truth = np.asarray(nib.load(str(gt)).dataobj).copy()
    truth[0, 0, 0] = 7
    _save_like(gt, truth)
    image = ed(p5)
    pixels = np.asarray(nib.load(str(image)).dataobj).astype(np.float32)
    pixels[1, 1, 0] = np.nan
    _save_like(image, pixels)
    ed(p6).write_bytes(b"not a nifti")
    info = p7 / "Info.cfg"
    info.write_text(info.read_text().replace("ES: ", "ES: x"))
    with pytest.raises(DataError) as caught:
        dataset.check(request(acdc_copy))
    message = str(caught.value)
    for expected in (f"{folders[0].name}: no Info.cfg", "unknown Group 'XYZ", "lacks Height", f"{p7.name}: ES 'x"):
        assert expected in message
    assert f"{p2.name}: ED frame file" in message or f"{p2.name}: ES frame file" in message
    # the layout problems stop before decoding; fix them and the voxel problems are all named
    for folder in (folders[0], folders[1], p2, p7):
        shutil.rmtree(folder)
    with pytest.raises(DataError) as caught:
        dataset.check(request(acdc_copy))
    message = str(caught.value)
    assert f"{p3.name}:" in message and "but its _gt has (5, 5, 2)" in message
    assert f"{p4.name}:" in message and "label values [7] outside 0-3" in message
    assert f"{p5.name}:" in message and "1 non-finite voxels" in message
    assert f"{p6.name}:" in message and "not a readable NIfTI" in message


def test_missing_root_and_empty_root(tmp_path: Path):
    with pytest.raises(DataError, match="is not a folder"):
        dataset.check(request(tmp_path / "absent"))
    with pytest.raises(DataError, match="no patientXXX folders"):
        dataset.check(request(tmp_path))
