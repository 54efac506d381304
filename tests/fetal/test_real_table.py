"""The real FETAL_PLANES_DB table (tests/data/fetal_planes_db, CC BY 4.0,
Burgos-Artizzu et al. 2020) read by the plugin's reader, with a tiny generated
image per row. The counts asserted are the release's published ones (the
paper's Table 1: 12,400 images of 1,792 patients, 7,129 for training and 5,271
for testing, 896 patients each)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from cardiobench.specs import DataRequest
from cardiobench_fetal.planes import dataset
from cardiobench_fetal.planes.layout import CSV_NAME, IMAGES
from tests.conftest import REPO

TABLE = REPO / "tests" / "data" / "fetal_planes_db" / CSV_NAME
PLANES = {"Other": 4213, "Fetal brain": 3092, "Fetal thorax": 1718, "Maternal cervix": 1626, "Fetal femur": 1040, "Fetal abdomen": 711}
BRAIN = {"Trans-thalamic": 1638, "Trans-cerebellum": 714, "Trans-ventricular": 597}


@pytest.fixture(scope="module")
def real_table_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fetal-real") / "FETAL_PLANES_DB"
    (root / IMAGES).mkdir(parents=True)
    shutil.copy(TABLE, root / CSV_NAME)
    names = [line.split(";")[0] for line in TABLE.read_text().splitlines()[1:]]
    grey = np.random.default_rng(0).integers(0, 255, (20, 24), dtype=np.uint8)
    ok, png = cv2.imencode(".png", grey)
    assert ok
    for name in names:
        (root / IMAGES / f"{name}.png").write_bytes(png.tobytes())
    return root


def _bundle(root: Path, config: dict, classes: str):
    values = {**config, "data": {**config["data"], "classes": classes}}
    return dataset.load(DataRequest("fetal-planes", root, values, 0))


def _totals(counts: dict) -> dict[str, int]:
    return {name: sum(part[name] for part in counts.values()) for name in counts["test"]}


def test_the_real_table_gives_the_published_counts(real_table_folder: Path, fetal_config: dict):
    bundle = _bundle(real_table_folder, fetal_config, "planes")
    fold = bundle.folds[0]
    assert _totals(bundle.info["class_counts"]) == PLANES and bundle.info["patients"] == 1792
    assert len(fold.test) == 5271 and len(fold.train) + len(fold.val) == 7129
    assert sum(bundle.info["class_counts"]["test"].values()) == 5271
    patients = lambda part: {i.split(":")[1].split("_")[0] for i in part.ids}  # noqa: E731 - Image_name starts with PatientNNNNN
    assert len(patients(fold.test)) == 896 and len(patients(fold.train) | patients(fold.val)) == 896
    assert not patients(fold.train) & patients(fold.val), "validation is split by patient"
    assert not (patients(fold.train) | patients(fold.val)) & patients(fold.test), "the official flag splits by patient"


def test_the_real_table_with_brain_sub_planes(real_table_folder: Path, fetal_config: dict):
    totals = _totals(_bundle(real_table_folder, fetal_config, "planes+brain").info["class_counts"])
    assert {k: totals[k] for k in BRAIN} == BRAIN
    assert totals["Fetal brain (other)"] == PLANES["Fetal brain"] - sum(BRAIN.values())
    assert sum(totals.values()) == 12400
