"""Paired timing: alternate two workloads so drift hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def paired_medians(first: Callable[[], object], second: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median seconds of ``first`` and of ``second`` over alternating rounds."""
    a, b = [], []
    for _ in range(rounds):
        tic = time.perf_counter()
        first()
        a.append(time.perf_counter() - tic)
        tic = time.perf_counter()
        second()
        b.append(time.perf_counter() - tic)
    return statistics.median(a), statistics.median(b)
