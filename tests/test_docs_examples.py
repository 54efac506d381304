"""The examples of docs/your-model.md and docs/python-api.md run as written,
each in a fresh process in an empty folder (as a reader would paste them)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(page: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall((REPO / "docs" / page).read_text()) if lang == language]


def _shell(line: str, cwd: Path) -> subprocess.CompletedProcess:
    command = re.sub(r"^cardiobench ", f"{sys.executable} -m cardiobench ", line)
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.slow
def test_every_route_of_benchmark_your_own_model_runs_as_written(tmp_path: Path) -> None:
    model_file = next(b for b in _blocks("your-model.md", "python") if b.startswith("# my_net.py"))
    (tmp_path / "my_net.py").write_text(model_file)
    lines = [line for block in _blocks("your-model.md", "bash") for line in block.splitlines() if line.startswith("cardiobench ")]
    assert len(lines) == 6
    for line in lines:
        done = _shell(line, tmp_path)
        assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"
    records = sorted(p.parent.name for p in tmp_path.glob("runs/*/record.json"))
    assert sorted(name.split("-", 2)[2] for name in records) == ["dcm-cls-timm-convnext_atto-s0", "ecg-pvc-apb-external-my-net-s0", "ecg-pvc-apb-py-my_net.py-build-s0", "ecg-pvc-apb-py-my_net.py-build-s0", "myo-seg-monai-UNet-s0"]
    assert (tmp_path / "split" / "manifest.csv").is_file()


@pytest.mark.slow
def test_the_python_api_example_runs_as_written(tmp_path: Path) -> None:
    (example,) = _blocks("python-api.md", "python")
    done = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Record(ecg-pvc-apb/python:Sequential: auc=") and lines[-1] == "torch.Size([8, 2, 500]) 2"
    assert "{'width': '16'}" in lines
    assert "\x1b[" not in done.stdout + done.stderr and "%|" not in done.stderr  # quiet: no progress bars, no escapes
