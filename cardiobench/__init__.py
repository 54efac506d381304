"""cardiobench: a plugin-based benchmark harness for cardiac deep learning.

Plugins implement the hooks in :mod:`cardiobench.hookspecs` with
:data:`hookimpl` and return specs from :mod:`cardiobench.specs`. The Python
API (:mod:`cardiobench.api`): ``cardiobench.run``, ``evaluate``, ``score``,
``datasets``, imported on first use, so ``import cardiobench`` stays light.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("cardiobench")  # here, not in hookspecs, so `import cardiobench` does not import torch

__version__ = "0.1.0"
API = ("run", "evaluate", "score", "datasets", "Record", "TaskData")
__all__ = ["__version__", "hookimpl", *API]


def __getattr__(name: str) -> object:
    if name in API:
        from cardiobench import api

        return getattr(api, name)
    raise AttributeError(f"module 'cardiobench' has no attribute {name!r}")
