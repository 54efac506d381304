"""cardiobench: a plugin-based benchmark harness for cardiac deep learning.

Plugins implement the hooks in :mod:`cardiobench.hookspecs` with
:data:`hookimpl` and return specs from :mod:`cardiobench.specs`.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("cardiobench")  # here, not in hookspecs, so `import cardiobench` does not import torch

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
