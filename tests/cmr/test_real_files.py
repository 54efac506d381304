"""ACDC as the real release varies: image dtypes int16 (raw MR values),
float32 (0-255) and uint8 by patient; ED not on frame 1 (patient090 has
``ED: 4``); slice spacing 5 or 10 mm; an affine without the voxel size (the
spacing only in the header's zooms); ``testing/`` patients with ``_gt``
files. Each property is written into a copy of a generated folder, which must
read exactly like the original. Then a user's first try: dcm-cls on 8
patients (2 DCM), whose validation parts cannot hold a DCM patient."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiobench import records
from cardiobench_cmr.acdc import synthetic
from cardiobench_cmr.acdc.layout import INFO_FILE, read_patients
from cardiobench_cmr.acdc.slices import decoded
from tests.conftest import cli


def _rewrite(path: Path, data: np.ndarray | None = None, zooms: tuple[float, ...] | None = None, bare_affine: bool = False) -> None:
    image = nib.load(str(path))
    array = np.asarray(image.dataobj) if data is None else data
    header_zooms = zooms or tuple(float(z) for z in image.header.get_zooms())
    out = nib.Nifti1Image(array, np.eye(4) if bare_affine else np.diag([*header_zooms[:3], 1.0]))
    out.header.set_zooms(header_zooms[: array.ndim])
    nib.save(out, str(path))


def _frame_files(folder: Path, phase_frame: int) -> list[Path]:
    return [folder / f"{folder.name}_frame{phase_frame:02d}{suffix}.nii.gz" for suffix in ("", "_gt")]


def _info(folder: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in (folder / INFO_FILE).read_text().splitlines() if line)


@pytest.fixture(scope="module")
def plain_and_real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    plain = tmp_path_factory.mktemp("acdc-plain") / "database"
    synthetic.write(plain, 8, seed=0)
    real = tmp_path_factory.mktemp("acdc-real") / "database"
    shutil.copytree(plain, real)
    patients = sorted((real / "training").glob("patient*"))
    # float32 0-255 and uint8 images, as some real patients have (the rest stay int16 raw values)
    for folder, dtype in ((patients[0], np.float32), (patients[1], np.uint8)):
        for phase in ("ED", "ES"):
            path = _frame_files(folder, int(_info(folder)[phase]))[0]
            raw = np.asarray(nib.load(str(path)).dataobj).astype(np.float64)
            _rewrite(path, (255 * (raw - raw.min()) / (raw.max() - raw.min())).round().astype(dtype) if dtype == np.uint8 else (255 * (raw - raw.min()) / (raw.max() - raw.min())).astype(dtype))
    # ED on a later frame, as patient090's ED: 4 (its files renamed to match)
    folder, info = patients[2], _info(patients[2])
    ed = 5 if int(info["ES"]) != 5 else 6
    for old, new in zip(_frame_files(folder, int(info["ED"])), _frame_files(folder, ed)):
        old.rename(new)
    (folder / INFO_FILE).write_text((folder / INFO_FILE).read_text().replace(f"ED: {info['ED']}\n", f"ED: {ed}\n"))
    # 10 mm between slices, and an affine that carries no voxel size at all
    for path in patients[3].glob("*_frame*.nii.gz"):
        zooms = nib.load(str(path)).header.get_zooms()
        _rewrite(path, zooms=(*zooms[:2], 10.0))
    for path in patients[4].glob("*_frame*.nii.gz"):
        _rewrite(path, bare_affine=True)
    # the release's testing/ folder, with _gt files
    (real / "testing").mkdir()
    for folder in patients[6:]:
        folder.rename(real / "testing" / folder.name)
    return plain, real


def test_every_real_variation_reads_like_the_original(plain_and_real):
    plain, real = plain_and_real
    a_patients, b_patients = read_patients(plain), read_patients(real)
    assert [p.name for p in a_patients] == [p.name for p in b_patients] and sum(p.folder.parent.name == "testing" for p in b_patients) == 2
    assert nib.load(str(b_patients[4].image("ED"))).affine[0, 0] == 1.0 != nib.load(str(a_patients[4].image("ED"))).affine[0, 0]
    a, _ = decoded(a_patients, 64, 1.5)
    b, problems = decoded(b_patients, 64, 1.5)
    assert problems == [] and a is not None and b is not None
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.patient, b.patient)
    same = b.patient >= 2  # patients whose image values were not re-quantised
    np.testing.assert_array_equal(a.images[same], b.images[same])
    gap = np.abs(a.images[~same].astype(int) - b.images[~same].astype(int))
    assert gap.max() <= 4 and gap.mean() < 0.7, "float32 0-255 and uint8 images scale to the same 0-255 slices (re-quantisation only)"


def test_a_first_try_on_eight_patients_names_the_validation_problem(plain_and_real, tmp_path: Path):
    _, real = plain_and_real
    result = cli("run", "--task", "dcm-cls", "--model", "mtl-attn", "--preset", "ci", "--data-root", real, "--runs-dir", tmp_path, "--no-progress")
    assert result.code == 0, result.err
    assert "[fold1] the validation part has no 'DCM' item, so auc cannot select epochs: this fold selects its best epoch by validation loss" in result.out
    assert "Warning" not in result.err and "warnings.warn" not in result.err, result.err
    (record_path,) = tmp_path.glob("*/record.json")
    folds = records.read(record_path)["folds"]
    assert all("validation loss" in f["selection"] for f in folds) and np.isfinite(records.read(record_path)["metrics"]["auc"]["value"])
