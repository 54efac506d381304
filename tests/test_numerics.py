"""Numerics: portable runs are bit-identical whatever CPU capability and
thread count the process starts with; native runs are not; the signature
names what decided the bits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cardiobench.engine import numerics
from cardiobench.launch import requested_numerics
from cardiobench.run_request import RunRequest
from cardiobench.runner import _with_numerics
from tests.conftest import cli

CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def _predictions(runs: Path, mode: str, one_core: bool = False, **env: str) -> bytes:
    """predictions.csv of lvef/mc3 ci started as its own process with ``env`` (another CPU's stand-in), on one core if asked."""
    command = [sys.executable, "-m", "cardiobench", "run", "--task", "lvef", "--model", "mc3", "--preset", "ci", "--numerics", mode, "--runs-dir", str(runs), "--no-progress"]
    if one_core and shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    done = subprocess.run(command, capture_output=True, text=True, env={**CLEAN_ENV, **env})
    assert done.returncode == 0, done.stderr
    (run_dir,) = runs.iterdir()
    return (run_dir / "predictions.csv").read_bytes()


@pytest.mark.slow
def test_portable_predictions_do_not_depend_on_the_cpu_capability_threads_or_cores_and_native_ones_do(tmp_path: Path):
    portable = [
        _predictions(tmp_path / "p0", "portable", ATEN_CPU_CAPABILITY="avx2", OMP_NUM_THREADS="2"),
        _predictions(tmp_path / "p1", "portable", one_core=True, ATEN_CPU_CAPABILITY="default", OMP_NUM_THREADS="1"),
    ]
    assert portable[0] == portable[1]
    native = [_predictions(tmp_path / f"n{cap}", "native", ATEN_CPU_CAPABILITY=cap) for cap in ("avx2", "default")]
    assert native[0] != native[1]  # the mode is what makes the difference


def test_portable_numerics_refuse_a_process_that_already_computed_natively():
    code = "import torch; torch.ones(9).exp(); from cardiobench.engine import numerics; numerics.apply('portable')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=CLEAN_ENV)
    assert done.returncode != 0
    assert "Portable numerics must be chosen before torch computes anything" in done.stderr and "ATen already dispatches to its" in done.stderr
    prepared = "from cardiobench.engine import numerics; numerics.prepare('portable'); import torch; torch.ones(9).exp(); numerics.apply('portable'); print(numerics.describe(numerics.signature('portable')))"
    done = subprocess.run([sys.executable, "-c", prepared], capture_output=True, text=True, env=CLEAN_ENV)
    assert done.returncode == 0, done.stderr
    assert "ATen DEFAULT, oneDNN off" in done.stdout and "COMPATIBLE" in done.stdout and "2 threads" in done.stdout


def test_the_portable_signature_key_ignores_the_cpu_and_the_native_key_does_not(monkeypatch: pytest.MonkeyPatch):
    numerics.apply("portable")
    here = numerics.signature("portable")
    assert numerics.portable_signature(here) and here["threads"] == numerics.PORTABLE_THREADS and not here["onednn"]
    other_cpu = {"model": "Intel(R) Xeon(R) Platinum 8480+", "vendor": "GenuineIntel", "extensions": ["fma", "avx2", "avx512f", "amx_tile"]}
    monkeypatch.setattr(numerics, "_cpu", lambda: other_cpu)
    elsewhere = numerics.signature("portable")
    assert elsewhere["cpu"] == other_cpu and elsewhere["key"] == here["key"]
    numerics.apply("native")
    try:
        native_there = numerics.signature("native")
        monkeypatch.undo()
        native_here = numerics.signature("native")
        assert not numerics.portable_signature(native_here) and native_here["onednn"]
        assert native_there["key"] != native_here["key"] != here["key"]
    finally:
        numerics.apply("portable")


def test_bad_numerics_settings_are_refused_before_anything_runs(tmp_path: Path):
    result = cli("run", "--task", "lvef", "--model", "mc3", "--preset", "ci", "--set", "engine.numerics=fast", "--runs-dir", tmp_path)
    assert result.code == 2 and "engine.numerics must be one of native, portable, got 'fast'" in result.err
    result = cli("run", "--task", "lvef", "--model", "mc3", "--preset", "ci", "--set", "engine.threads=0", "--runs-dir", tmp_path)
    assert result.code == 2 and "engine.threads must be a whole number >= 1" in result.err
    assert not any(tmp_path.iterdir())


def test_the_command_line_prepares_the_mode_it_is_given():
    assert requested_numerics(["run", "--numerics", "portable"]) == "portable"
    assert requested_numerics(["run", "--numerics=native"]) == "native"
    assert requested_numerics(["run", "--set", "engine.numerics=portable", "--set", "train.epochs=1"]) == "portable"


def test_a_stage_computes_with_its_owners_numerics(registry):
    stage = RunRequest(task="lvef-seg", model="deeplabv3", preset="ci")  # ci: portable on its own
    owner = {"engine": {"numerics": "native", "threads": None}}
    assert _with_numerics(stage, owner, registry).overrides == ["engine.numerics=native", "engine.threads=null"]
    assert _with_numerics(stage, {"engine": {"numerics": "portable", "threads": None}}, registry) is stage
