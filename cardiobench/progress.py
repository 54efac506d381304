"""Progress bars (tqdm), switched off for the whole process by ``--no-progress``
or ``CARDIOBENCH_PROGRESS=0``. Plugins use :func:`bar` too."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
_enabled = os.environ.get("CARDIOBENCH_PROGRESS", "1") != "0"


def set_enabled(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled


def bar(iterable: Iterable[T] | None = None, **kwargs: Any) -> tqdm:
    """A tqdm bar that disappears when it ends (unless ``leave=True``)."""
    kwargs.setdefault("leave", False)
    kwargs["disable"] = kwargs.get("disable", False) or not _enabled
    return tqdm(iterable, **kwargs)
