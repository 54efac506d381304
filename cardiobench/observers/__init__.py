"""The built-in observers of run events: the console (epoch lines and a bar
over the run's epochs) and the run's ``log.txt``. They are plugins like any
other, registered before the installed ones."""

from __future__ import annotations

from cardiobench.observers.console import Console
from cardiobench.observers.logfile import LogFile


def builtin() -> list[tuple[str, object]]:
    """(plugin name, observer) for each built-in observer."""
    return [("cardiobench.console", Console()), ("cardiobench.logfile", LogFile())]
