"""A small synthetic ACDC folder and the cmr task settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cardiobench_cmr.acdc import synthetic
from tests.conftest import REPO

PRESETS = REPO / "plugins" / "cardiobench_cmr" / "presets"


@pytest.fixture(scope="session")
def acdc_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 patients, two per group, in ACDC's database/ layout."""
    root = tmp_path_factory.mktemp("acdc") / "database"
    synthetic.write(root, 10, seed=5)
    return root


@pytest.fixture
def acdc_copy(acdc_folder: Path, tmp_path: Path) -> Path:
    """A private copy a test may corrupt."""
    target = tmp_path / "database"
    shutil.copytree(acdc_folder, target)
    return target


def cmr_config(task: str = "dcm-cls", **data: object) -> dict:
    """A task's defaults with the ci preset's data settings and ``data`` overrides."""
    values = yaml.safe_load((PRESETS / task / "defaults.yaml").read_text())
    values["data"].update(yaml.safe_load((PRESETS / task / "ci.yaml").read_text())["data"])
    values["data"].update(data)
    return values
