"""``python -m cardiobench``: the command line, also as torchrun's module
(``torchrun --nproc-per-node N -m cardiobench run ...``)."""

import sys

from cardiobench.launch import main

sys.exit(main())
