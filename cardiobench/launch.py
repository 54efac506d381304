"""The ``cardiobench`` command's start-up: what must be settled before torch
is imported (the numerics mode's environment), then the command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cardiobench.engine import numerics


def requested_numerics(argv: Sequence[str]) -> str | None:
    """The numerics mode named by ``--numerics MODE`` or ``--set
    engine.numerics=MODE`` (the last one wins), else None (the preset's, applied
    when the run starts)."""
    mode = None
    for i, word in enumerate(argv):
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if word == "--numerics":
            mode = following
        elif word.startswith("--numerics="):
            mode = word.partition("=")[2]
        elif word == "--set" and following.startswith("engine.numerics="):
            mode = following.partition("=")[2]
    return mode


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if (mode := requested_numerics(args)) in numerics.MODES:  # an unknown mode is refused by the command, with the others
        numerics.prepare(mode)
    from cardiobench.cli import main as cli_main

    return cli_main(args)
