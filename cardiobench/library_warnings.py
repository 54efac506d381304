"""Library warnings in our words: a warning raised by a library while a
command runs (scikit-learn, PyTorch, NumPy, ...) reaches the terminal once,
as one ``warning:`` line that names where it came from, never as the raw
two-line ``file:line: Category: message`` form (``--debug`` keeps that form).
Deprecation warnings are for the developers of the code that calls a
library, not for our users: they are dropped (``--debug`` shows them).
Warnings we already report in our own terms (an undefined metric, say) are
silenced where they arise instead.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from typing import Any


def _package(filename: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    return parts[-1].removesuffix(".py")


@contextlib.contextmanager
def in_our_words(debug: bool = False) -> Iterator[None]:
    """Show each distinct library warning once, as one line, for the block."""
    if debug:
        yield
        return
    seen: set[tuple[type, str]] = set()

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None) -> None:  # noqa: ARG001 - warnings.showwarning's signature
        text = " ".join(str(message).split())
        if issubclass(category, (DeprecationWarning, PendingDeprecationWarning)) or (category, text) in seen:
            return  # a library's deprecation is for its callers' developers, not for our users
        seen.add((category, text))
        print(f"warning: {text} ({category.__name__} from {_package(filename)}; --debug shows where)", file=file or sys.stderr)

    with warnings.catch_warnings():  # the filters stay as they are; only how a shown warning looks changes
        warnings.showwarning = show
        yield
