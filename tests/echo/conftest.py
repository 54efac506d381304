"""A small synthetic EchoNet-Dynamic folder, written once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cardiobench_echo.echonet import phantom


@pytest.fixture(scope="session")
def echonet_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("echonet") / "small"
    phantom.synthesize(root, 16, seed=7)
    return root


@pytest.fixture
def echonet_copy(echonet_small: Path, tmp_path: Path) -> Path:
    """A private copy a test may corrupt."""
    target = tmp_path / "copy"
    shutil.copytree(echonet_small, target)
    return target
