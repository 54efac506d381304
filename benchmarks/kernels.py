"""Kernel speed against eager PyTorch and torch.compile, at the STCA and
AG-Sononet training shapes (see cardiobench/kernels/bench.py).

    python benchmarks/kernels.py [--device cuda] [--save benchmarks/results/kernels-<device>.md]

Same as ``cardiobench bench kernels``.
"""

import sys

from cardiobench.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "kernels", *sys.argv[1:]]))
