"""Models named by a source string (``timm:convnext_atto``,
``py:my_net.py:build``), turned into model specs for one task.

A :class:`~cardiobench.specs.ModelSource` finds the constructor; here its
arguments become the model's config keys (``model.<argument>``, set with
``--model-args k=v,...`` or ``--set model.k=v``, checked like every key with
did-you-mean), and ``build`` gives the constructor only the arguments a user
set, never a download.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from cardiobench.contract import ModelContract
from cardiobench.errors import ConfigError
from cardiobench.specs import ModelSource, ModelSpec, SourcedModel, TaskSpec

SOURCE_SEPARATOR = ":"


def is_source_name(name: str) -> bool:
    """Whether ``name`` names a model through a source (``prefix:rest``)."""
    return SOURCE_SEPARATOR in name


def split(name: str) -> tuple[str, str]:
    prefix, _, rest = name.partition(SOURCE_SEPARATOR)
    return prefix, rest


def path_safe(name: str) -> str:
    """``name`` usable in a directory name on any system (``timm:x`` -> ``timm-x``)."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", name).strip("-")


def parse_model_args(text: str) -> list[str]:
    """``'channels=[16,32],strides=[2,2],dropout=0.1'`` -> ``--set`` overrides
    ``model.channels=[16,32]``, ...: commas inside brackets or quotes stay."""
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    overrides = []
    for part in (p.strip() for p in parts if p.strip()):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--model-args {text!r}: {part!r} must look like name=value (e.g. --model-args drop_rate=0.1,depth=3).")
        overrides.append(f"model.{key.strip()}={value.strip()}")
    return overrides


def arguments(overrides: list[str]) -> dict[str, str]:
    """The model arguments a run set (its ``model.*`` overrides), as given."""
    found = {}
    for text in overrides:
        key, _, value = text.partition("=")
        if key.strip().startswith("model."):
            found[key.strip().removeprefix("model.")] = value.strip()
    return dict(sorted(found.items()))


def arguments_hash(values: Mapping[str, Any]) -> str:
    """A short, stable hash of model arguments (empty arguments: '')."""
    if not values:
        return ""
    return hashlib.sha256(json.dumps(dict(values), sort_keys=True, default=str).encode()).hexdigest()[:8]


def sourced_spec(name: str, rest: str, task: TaskSpec, source: ModelSource) -> ModelSpec:
    """The model spec of source string ``name`` for ``task``; ``source``
    finds ``rest`` (``name`` after its prefix)."""
    if task.contract is None:
        raise ConfigError(f"Task {task.name!r} declares no model contract, so {name!r} cannot be built for it: only its plugins' models serve it.")
    if not source.serves(task.contract):
        raise ConfigError(f"Model source {source.prefix!r} builds {'/'.join(source.outputs)} models of {'/'.join(source.inputs)} inputs; task {task.name!r} needs a {task.contract.output} model of a {task.contract.kind} {task.contract.input_text()}.")
    found = source.find(rest, task.contract)
    return ModelSpec(
        name=name,
        version=1,
        description=found.description or f"{name} ({source.description})",
        citation=source.description,
        tasks=(task.name,),
        build=_builder(name, found, task.contract),
        defaults=dict(found.parameters),
        sections={"objective": {"loss": None}},
        source=source.prefix,
        origin=found.origin,
        required=found.required,
    )


def missing_arguments(spec: ModelSpec, model_values: Mapping[str, Any]) -> None:
    """Refuse a model whose required constructor arguments are not set."""
    missing = [key for key in spec.required if model_values.get(key) is None]
    if missing:
        example = ",".join(f"{key}=..." for key in missing)
        raise ConfigError(f"Model {spec.name!r} needs {', '.join(missing)} (its constructor has no default for them): pass --model-args {example}.")


def _builder(name: str, found: SourcedModel, contract: ModelContract) -> Callable[[Mapping[str, Any], Mapping[str, Any]], nn.Module]:
    def build(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
        model_cfg = config["model"]
        given = {key: value for key, value in model_cfg.items() if key in found.parameters and value != found.parameters[key]}
        return found.create(contract.resolved(info), given)

    return build
