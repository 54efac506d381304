"""The built-in model sources, plugins of ``cardiobench_model_sources`` like
any other: ``timm:``, ``torchvision:``, ``monai:``, ``smp:`` and ``py:``
(a factory in a Python file or module), and ``external:`` (predictions
made elsewhere, for ``cardiobench score``). Each imports its library only when a
name is resolved, so a missing library costs nothing until it is asked for."""

from __future__ import annotations

from cardiobench.sources import external, library, python


def builtin() -> list[tuple[str, object]]:
    """(plugin name, plugin) for each built-in model source."""
    return [("cardiobench.sources", library), ("cardiobench.sources.py", python), ("cardiobench.sources.external", external)]
