"""``python -m cardiobench``: the command line, also as torchrun's module
(``torchrun --nproc-per-node N -m cardiobench run ...``)."""

import sys

from cardiobench.cli import main

sys.exit(main())
