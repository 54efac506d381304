"""Benchmarks report ratios against a baseline measured in the same run.

Run: ``pytest benchmarks/ --benchmark-columns=mean,stddev,rounds``. Each
benchmark adds a line to the summary printed at the end.
"""

from __future__ import annotations

import os

import pytest

from cardiobench import progress

_lines: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _quiet(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("CARDIOBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
    progress.set_enabled(False)


@pytest.fixture
def report():
    """Call ``report(line)`` to print ``line`` in the final summary."""
    return _lines.append


def pytest_terminal_summary(terminalreporter) -> None:
    if _lines:
        terminalreporter.section("cardiobench benchmark ratios")
        for line in _lines:
            terminalreporter.write_line(line)
