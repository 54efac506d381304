"""A small synthetic FETAL_PLANES_DB folder and the fetal-planes settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cardiobench_fetal.planes import synthetic
from tests.conftest import REPO

PRESETS = REPO / "plugins" / "cardiobench_fetal" / "presets" / "fetal-planes"


@pytest.fixture(scope="session")
def planes_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planes") / "FETAL_PLANES_DB"
    synthetic.write(root, 48, seed=3)
    return root


@pytest.fixture
def planes_copy(planes_folder: Path, tmp_path: Path) -> Path:
    """A private copy a test may corrupt."""
    target = tmp_path / "db"
    shutil.copytree(planes_folder, target)
    return target


@pytest.fixture(scope="session")
def fetal_config() -> dict:
    """The fetal-planes defaults with the ci preset's data sizes."""
    values = yaml.safe_load((PRESETS / "defaults.yaml").read_text())
    values["data"].update(yaml.safe_load((PRESETS / "ci.yaml").read_text())["data"])
    return values
