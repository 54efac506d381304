"""A constructor's settable arguments, read from its signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

SKIPPED = {"self", "device", "dtype", "pretrained", "weights", "weights_backbone", "progress", "encoder_weights"}


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return False


def _yaml_value(value: Any) -> Any:
    return [_yaml_value(v) for v in value] if isinstance(value, (list, tuple)) else value


def parameters(fn: Callable[..., Any], filled: Collection[str], library_defaults: bool = False) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(settable argument -> default, required arguments) of ``fn``, leaving
    out ``filled`` (what the task's contract decides) and ``*args``/``**kwargs``.

    With ``library_defaults`` every default is ``None``, meaning "what the
    library's builder chooses" (timm's and torchvision's builders pass their
    own values over the class defaults a signature shows). An argument whose
    default YAML cannot hold (a class, a function) is left out.
    """
    found: dict[str, Any] = {}
    required = []
    for name, p in inspect.signature(fn).parameters.items():
        if name in SKIPPED or name in filled or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty and library_defaults:  # the builder passes it
            continue
        if p.default is p.empty:
            found[name] = None
            required.append(name)
        elif library_defaults:
            found[name] = None
        elif _plain(p.default):
            found[name] = _yaml_value(p.default)
    return found, tuple(required)
