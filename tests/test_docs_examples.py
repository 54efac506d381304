"""The examples of docs/your-model.md and docs/python-api.md run as written,
in an empty folder, as a reader would paste them (commands expanded by bash,
then run in this process)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, cli

FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(page: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall((REPO / "docs" / page).read_text()) if lang == language]


def _words(line: str, cwd: Path) -> list[str]:
    """The arguments bash makes of ``line`` after ``cardiobench`` (quotes, globs, $(...))."""
    done = subprocess.run(["bash", "-c", f"printf '%s\\0' {line.removeprefix('cardiobench ')}"], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.split("\0")[:-1]


@pytest.mark.slow
def test_every_route_of_benchmark_your_own_model_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model_file = next(b for b in _blocks("your-model.md", "python") if b.startswith("# my_net.py"))
    (tmp_path / "my_net.py").write_text(model_file)
    monkeypatch.chdir(tmp_path)
    lines = [line for block in _blocks("your-model.md", "bash") for line in block.splitlines() if line.startswith("cardiobench ")]
    assert len(lines) == 6
    for line in lines:
        result = cli(*_words(line, tmp_path))
        assert result.code == 0, f"{line}\n{result.err[-2000:]}"
    records = sorted(re.sub(r"-s0-\d+$", "-s0", p.parent.name) for p in tmp_path.glob("runs/*/record.json"))  # two runs started within one second: -2
    assert sorted(name.split("-", 2)[2] for name in records) == ["dcm-cls-timm-convnext_atto-s0", "ecg-pvc-apb-external-my-net-s0", "ecg-pvc-apb-py-my_net.py-build-s0", "ecg-pvc-apb-py-my_net.py-build-s0", "myo-seg-monai-UNet-s0"]
    assert (tmp_path / "split" / "manifest.csv").is_file()


@pytest.mark.slow
def test_the_python_api_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (example,) = _blocks("python-api.md", "python")
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "docs/python-api.md", "exec"), {"__name__": "__docs__"})
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("Record(ecg-pvc-apb/python:Sequential: auc=") and lines[-1] == "torch.Size([8, 2, 500]) 2"
    assert "{'width': '16'}" in lines
    assert "\x1b[" not in out + err and "%|" not in err and len(lines) == 4  # quiet: only the example's own prints, no progress bars or tables
