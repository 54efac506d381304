"""The MIT-BIH records kept in the repository (100, 209, 223) and the ECG
task's default settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

MITDB_SAMPLE = REPO / "tests" / "data" / "mitdb"
MITDB_FULL = REPO.parent / "shared" / "data" / "mitdb"


@pytest.fixture(scope="session")
def ecg_settings() -> dict:
    """The ``data`` section of the ecg-pvc-apb defaults."""
    return yaml.safe_load((REPO / "plugins" / "cardiobench_ecg" / "presets" / "ecg-pvc-apb" / "defaults.yaml").read_text())["data"]


@pytest.fixture
def mitdb_copy(tmp_path: Path) -> Path:
    """A private copy of the sample records a test may corrupt."""
    import shutil

    target = tmp_path / "mitdb"
    shutil.copytree(MITDB_SAMPLE, target)
    return target
