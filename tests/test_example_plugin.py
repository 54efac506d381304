"""The plugin of docs/writing-plugins.md, installed out of tree, through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_subprocess

BLOCK = re.compile(r"^```\w+ file=(?P<path>\S+)\n(?P<body>.*?)^```", re.S | re.M)


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the documented files plus a dist-info with entry_points.txt, so the
    plugin is discovered exactly as a pip-installed distribution would be."""
    site = tmp_path_factory.mktemp("site")
    blocks = {m["path"]: m["body"] for m in BLOCK.finditer((REPO / "docs" / "writing-plugins.md").read_text())}
    assert "toy_heart/__init__.py" in blocks and "toy_heart/presets/toy-hr/defaults.yaml" in blocks
    for rel, body in blocks.items():
        if rel.startswith("toy_heart/"):
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            (site / rel).write_text(body)
    dist = site / "toy_heart-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-heart\nVersion: 0.1.0\n")
    entry = re.search(r"\[project\.entry-points\.cardiobench\]\n(.*?)\n\n", blocks["pyproject.toml"], re.S)
    (dist / "entry_points.txt").write_text("[cardiobench]\n" + entry.group(1).replace('"', "") + "\n")
    return site


def test_example_is_discovered_through_its_entry_point(installed_example: Path):
    env = {"PYTHONPATH": str(installed_example)}
    plugins = cli_subprocess("plugins", env=env)
    assert plugins.returncode == 0, plugins.stderr
    line = next(l for l in plugins.stdout.splitlines() if "toy_heart" in l)
    assert "entry point" in line and "distribution toy-heart" in line
    assert "datasets, metrics, models, tasks" in line
    models = cli_subprocess("list", "models", "--task", "toy-hr", env=env)
    assert models.returncode == 0 and "ratenet" in models.stdout


def test_example_runs_through_the_cli(installed_example: Path, tmp_path: Path):
    env = {"PYTHONPATH": str(installed_example)}
    result = cli_subprocess("run", "--task", "toy-hr", "--model", "ratenet", "--preset", "ci", "--runs-dir", tmp_path, "--no-progress", env=env)
    assert result.returncode == 0, result.stderr
    (run_dir,) = tmp_path.iterdir()
    record = json.loads((run_dir / "record.json").read_text())
    assert record["task"]["name"] == "toy-hr" and record["model"]["plugin"] == "toy_heart"
    assert record["metrics"]["max-error"]["value"] > 0
    assert record["environment"]["plugins"] == {"toy_heart": "0.1.0"}


def test_example_can_be_disabled(installed_example: Path):
    env = {"PYTHONPATH": str(installed_example), "CARDIOBENCH_DISABLE_PLUGINS": "toy_heart"}
    result = cli_subprocess("list", "tasks", env=env)
    assert result.returncode == 0 and "toy-hr" not in result.stdout
