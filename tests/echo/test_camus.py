"""The CAMUS reader on generated folders in the NIfTI release's layout:
layout, Info cfg keys, spacing from the header, orientation (a phantom whose
apex position is known), splits, every bad input named at once, and the runs
it serves (``--dataset camus``, ``--test-dataset camus``, lvef-seg)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiobench_echo.camus import frames, layout, phantom
from tests.conftest import cli


@pytest.fixture(scope="module")
def camus_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("camus") / "small"
    phantom.synthesize(root, 8, seed=3, workers=1)
    return root


@pytest.fixture
def camus_copy(camus_small: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(camus_small, target)
    return target


def check(root: Path, task: str = "lvef"):
    return cli("data", "check", "--task", task, "--dataset", "camus", "--data-root", root, "--preset", "ci")


def test_layout_cfg_and_official_split(camus_small: Path):
    found, problems = layout.scan(camus_small, need_sequence=True)
    assert problems == [] and len(found.views) == 16 and found.split_note == "the official split"
    listed = {part: (camus_small / layout.SPLIT / file).read_text().split() for part, file in layout.SPLIT_FILES.items()}
    assert {p: s for s, names in listed.items() for p in names} == found.split
    view = found.views[0]
    assert set(layout.CFG_KEYS) <= set(view.info) and view.quality in layout.QUALITIES and 0 < view.ef < 100
    result = check(camus_small)
    assert result.code == 0 and "8 patients, 16 views" in result.out and "all readable" in result.out, result.err


def test_frames_are_apex_up_with_square_pixels_from_the_header(tmp_path: Path):
    """A phantom with a known apex: a bright block at the top centre of the
    image, a 12 x 12 mm square below it, written with anisotropic spacing
    (0.3 mm in x, 0.6 mm in y) in the release's orientation. Read back, the
    apex is at the top and the square is square."""
    rows, cols = 60, 100  # 36 mm tall, 30 mm wide
    image = np.zeros((rows, cols), np.float32)
    image[0:3, 45:55] = 255.0  # the apex, top centre
    image[30:50, 30:70] = 128.0  # 12 mm (20 rows x 0.6) by 12 mm (40 columns x 0.3)
    path = tmp_path / "known.nii.gz"
    nib.save(nib.Nifti1Image(image.T.copy(), np.diag([0.3, 0.6, 1.0, 1.0])), str(path))
    data, zooms = frames.read_nifti(path)
    assert zooms == pytest.approx((0.3, 0.6)) and data[:3, :].max() == 0 and data[45:55, :3].max() == 255  # as stored: apex on the left
    out = frames.squared(data, zooms, 64, nearest=True)
    top = np.argwhere(out == 255)
    square = np.argwhere(out == 128)
    assert top[:, 0].max() < 8 and abs(top[:, 1].mean() - 31.5) < 3, "apex at the top, centred"
    height, width = np.ptp(square[:, 0]) + 1, np.ptp(square[:, 1]) + 1
    assert abs(height - width) <= 1, (height, width)


def test_camus_and_echonet_phantoms_reach_the_model_in_one_orientation(camus_small: Path, registry):
    """The LV cavity's apex is above its base, and the atrium below the LV,
    in CAMUS's decoded frames as in EchoNet-Dynamic's traced masks."""
    from cardiobench import api

    found, _ = layout.scan(camus_small, need_sequence=False)
    decoded, problems = frames.decoded(found.views, 32, with_sequence=False)
    assert problems == []
    for labels in decoded.labels[:, 0]:
        lv, atrium = np.argwhere(labels == layout.LV_CAVITY), np.argwhere(labels == 3)
        assert lv[:, 0].min() < 12 and atrium[:, 0].mean() > lv[:, 0].mean()
    echonet = api.datasets("lvef-seg", preset="ci").train
    masks = np.stack([echonet[i]["target"].numpy() for i in range(4)])
    for mask in masks:
        assert np.argwhere(mask > 0.5)[:, 0].min() < 12


def test_every_bad_patient_is_named_at_once(camus_copy: Path):
    nifti = camus_copy / layout.NIFTI
    (nifti / "patient0001" / "Info_4CH.cfg").unlink()
    cfg = nifti / "patient0002" / "Info_2CH.cfg"
    cfg.write_text("\n".join(line for line in cfg.read_text().splitlines() if not line.startswith("FrameRate")) + "\nEF: 140\n")
    (nifti / "patient0003" / "patient0003_4CH_ES_gt.nii.gz").unlink()
    bad_label = nifti / "patient0004" / "patient0004_2CH_ED_gt.nii.gz"
    labels = np.asarray(nib.load(str(bad_label)).dataobj).copy()
    labels[0, 0] = 7
    nib.save(nib.Nifti1Image(labels, np.diag([0.6, 0.6, 1, 1])), str(bad_label))
    nan_image = nifti / "patient0005" / "patient0005_4CH_ED.nii.gz"
    pixels = np.asarray(nib.load(str(nan_image)).dataobj).copy()
    pixels[3, 3] = np.nan
    nib.save(nib.Nifti1Image(pixels, np.diag([0.6, 0.6, 1, 1])), str(nan_image))
    (nifti / "patient0006" / "patient0006_2CH_half_sequence.nii.gz").write_bytes(b"not a nifti file")
    small_truth = nifti / "patient0007" / "patient0007_4CH_ES_gt.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((10, 10), np.uint8), np.diag([0.6, 0.6, 1, 1])), str(small_truth))
    result = check(camus_copy)
    assert result.code == 2 and "Traceback" not in result.err and result.err.strip().count("\n") == 0, result.err
    first = ["patient0001: no Info_4CH.cfg", "patient0002: Info_2CH.cfg lacks FrameRate", "EF '140' is not a percentage", "patient0003: patient0003_4CH_ES_gt.nii.gz is missing"]
    for fragment in first:
        assert fragment in result.err, (fragment, result.err)
    decoded = _decode_problems(camus_copy)  # files that exist but are bad, named once the cfg problems are fixed
    for fragment in ["patient0004/2CH: patient0004_2CH_ED_gt.nii.gz has labels 7 outside 0-3", "patient0005/4CH: patient0005_4CH_ED.nii.gz has 1 non-finite voxel", "patient0006/2CH: patient0006_2CH_half_sequence.nii.gz is not a readable NIfTI file", "patient0007/4CH: patient0007_4CH_ES_gt.nii.gz is (10, 10), its image"]:
        assert fragment in decoded, (fragment, decoded)


def _decode_problems(root: Path) -> str:
    found, _ = layout.scan(root, need_sequence=True)
    _, problems = frames.decoded(found.views, 16, with_sequence=True)
    return "; ".join(problems)


def test_older_release_and_missing_folders_are_refused_in_one_line(tmp_path: Path):
    old = tmp_path / "training" / "patient0001"
    old.mkdir(parents=True)
    (old / "patient0001_4CH_ED.mhd").write_text("ObjectType = Image\n")
    result = check(tmp_path)
    assert result.code == 2 and ".mhd/.raw release" in result.err and "NIfTI release" in result.err and result.err.strip().count("\n") == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "has no database_nifti/" in check(empty).err


def test_splits_without_a_validation_file_or_without_the_split_folder(camus_copy: Path):
    (camus_copy / layout.SPLIT / layout.SPLIT_FILES["VAL"]).unlink()
    found, problems = layout.scan(camus_copy, need_sequence=False, val_fraction=0.2, seed=1)
    assert problems == [] and "training patients validate" in found.split_note
    assert sorted(found.split.values()).count("VAL") == 1 and set(found.split.values()) == {"TRAIN", "VAL", "TEST"}
    shutil.rmtree(camus_copy / layout.SPLIT)
    found, _ = layout.scan(camus_copy, need_sequence=False)
    assert "70/10/20" in found.split_note and len(found.split) == 8


def test_pseudo_cycle_resamples_time_and_mirrors():
    sequence = np.arange(5, dtype=np.uint8)[:, None, None] * np.ones((1, 2, 2), np.uint8) * 10  # 5 frames ED..ES at 25 fps
    doubled = frames.pseudo_cycle(sequence, 25.0, 50.0, "pad", span=4)
    assert len(doubled) == 9 and doubled[1, 0, 0] == 5 and doubled[-1, 0, 0] == 40
    assert frames.pseudo_cycle_length(5, 25.0, 50.0, "pad", 4) == len(doubled)
    cycle = frames.pseudo_cycle(sequence, 25.0, 25.0, "mirror", span=20)
    assert frames.pseudo_cycle_length(5, 25.0, 25.0, "mirror", 20) == len(cycle)
    assert cycle[:, 0, 0].tolist()[:9] == [0, 10, 20, 30, 40, 30, 20, 10, 0] and len(cycle) >= 20


def _record(result) -> dict:
    run_dir = result.out.strip().splitlines()[-1].split("run directory: ")[-1]
    return json.loads((Path(run_dir) / "record.json").read_text())


def test_runs_on_camus_and_across_datasets(tmp_path: Path):
    """``--dataset camus`` for lvef and lvef-seg, and lvef trained on
    EchoNet-Dynamic and tested on CAMUS: the external run trains exactly the
    in-domain run's model (same history) and its record names both datasets;
    every record reports its metrics per image quality."""
    runs = tmp_path / "runs"
    common = ("--preset", "ci", "--runs-dir", runs, "--no-progress", "--set", "train.epochs=1")
    on_camus = cli("run", "--task", "lvef", "--model", "r2plus1d", "--dataset", "camus", *common)
    assert on_camus.code == 0, on_camus.err
    record = _record(on_camus)
    assert record["dataset"]["name"] == "camus" and "test_dataset" not in record and any(k.startswith("mae/") for k in record["metrics"])
    seg = cli("run", "--task", "lvef-seg", "--model", "deeplabv3", "--dataset", "camus", *common)
    assert seg.code == 0, seg.err
    seg_record = _record(seg)
    assert {"dice/ed", "dice/es"} <= set(seg_record["metrics"]) and all(i.split("/")[1] in ("2CH", "4CH") for i in seg_record["test_items"]["ids"])
    home = _record(cli("run", "--task", "lvef", "--model", "r2plus1d", *common))
    away = cli("run", "--task", "lvef", "--model", "r2plus1d", "--test-dataset", "camus", *common)
    assert away.code == 0, away.err
    external = _record(away)
    assert external["dataset"]["fingerprint"] == home["dataset"]["fingerprint"] and external["test_dataset"]["name"] == "camus"
    strip = lambda r: [{k: v for k, v in e.items() if k != "seconds"} for e in r["folds"][0]["history"]]  # noqa: E731
    assert strip(external) == strip(home), "the external run trains the in-domain run's model"
    assert external["test_items"]["ids"] == record["test_items"]["ids"], "tested on CAMUS's test split"
    assert external["dataset"]["info"]["channel_mean"] == external["test_dataset"]["info"]["channel_mean"], "CAMUS normalised with EchoNet's statistics"
    refused = cli("run", "--task", "lvef", "--model", "r2plus1d", "--test-dataset", "acdc", *common)
    assert refused.code == 2 and "does not serve task 'lvef'" in refused.err
    away_dir = away.out.strip().splitlines()[-1].split("run directory: ")[-1]
    retested = cli("eval", away_dir, "--corrupt", "zero-pixels", "--levels", "0", "--no-progress")
    assert retested.code == 0 and f"{external['metrics']['mae']['value']:.4f}" in retested.out, "re-tested on the same CAMUS test split"
    exported = cli("export-split", "--task", "lvef", "--preset", "ci", "--test-dataset", "camus", "--out", tmp_path / "split")
    assert exported.code == 0 and "/4CH" in (tmp_path / "split" / "manifest.csv").read_text(), "the test items to predict elsewhere are CAMUS's"
    stca = cli("run", "--task", "lvef", "--model", "stca", "--dataset", "camus", *common)
    assert stca.code == 2 and "stca trains on EchoNet-Dynamic only" in stca.err and "--test-dataset camus" in stca.err
