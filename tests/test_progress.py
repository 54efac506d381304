"""Progress bars in logs: whole lines, few of them, never carriage-return redraws."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
from tqdm.auto import tqdm
from cardiobench import progress
for i in progress.bar(range(12400), desc="decoding images (once)", unit="image", mininterval=0):
    if i == 6000:
        tqdm.write("a line of our own")
"""


def test_a_bar_into_a_pipe_prints_a_short_line_per_tenth():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env={**os.environ, "CARDIOBENCH_PROGRESS": "1"})
    err, lines = done.stderr, done.stderr.splitlines()
    assert "\r" not in err and len(err) < 2000, f"{len(err)} bytes, {err.count(chr(13))} carriage returns"
    bar_lines = [line for line in lines if line.startswith("decoding images (once):")]
    percents = [int(line.split(":")[1].split("%")[0]) for line in bar_lines]
    assert percents == list(range(0, 101, 10)) and "12400/12400" in bar_lines[-1]
    assert done.stdout == "a line of our own\n"
