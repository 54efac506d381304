"""cardiobench: a plugin-based benchmark harness for cardiac deep learning.

Plugins implement the hooks in :mod:`cardiobench.hookspecs` with
:data:`hookimpl` and return specs from :mod:`cardiobench.specs`.
"""

from cardiobench.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
