"""The ``py:`` model source: ``py:path/to/file.py:factory`` or
``module.path:factory``. ``factory(contract, **args)`` returns an
``nn.Module``, bare (logits or a value; the task's loss and decoding are
added) or complete (with its own ``loss`` and ``predict``); its keyword
arguments are the model's ``--model-args``."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from cardiobench import hookimpl
from cardiobench.contract import ModelContract
from cardiobench.errors import ConfigError, PluginError, did_you_mean
from cardiobench.sources.signature import parameters
from cardiobench.specs import ModelSource, SourcedModel


def _load_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise ConfigError(f"Model file {path} does not exist (py:FILE.py:FACTORY names a file relative to the current folder).")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    module_name = f"cardiobench_user_model_{digest[:16]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as exc:
        del sys.modules[module_name]
        raise PluginError(f"Model file {path} failed to import: {type(exc).__name__}: {exc}.") from exc
    return module


def _load_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(f"Model module {name!r} cannot be imported ({exc}); is it installed or on PYTHONPATH?") from exc
    except Exception as exc:
        raise PluginError(f"Model module {name!r} failed to import: {type(exc).__name__}: {exc}.") from exc


def _origin(module: ModuleType) -> str:
    file = getattr(module, "__file__", None)
    return f"sha256:{hashlib.sha256(Path(file).read_bytes()).hexdigest()}" if file and Path(file).is_file() else ""


def find_python(rest: str, contract: ModelContract) -> SourcedModel:
    where, sep, factory_name = rest.rpartition(":")
    if not sep or not where or not factory_name:
        raise ConfigError(f"Model {rest!r}: write py:path/to/file.py:factory or module.path:factory.")
    module = _load_file(Path(where)) if where.endswith(".py") else _load_module(where)
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise ConfigError(f"{where} has no callable {factory_name!r}.{did_you_mean(factory_name, names)} Its callables: {', '.join(names) or 'none'}.")
    first = next(iter(inspect.signature(factory).parameters), None)
    found, required = parameters(factory, {first} if first else set())

    def create(c: ModelContract, args: dict[str, Any]) -> Any:
        return factory(c, **args)

    return SourcedModel(found, create, required, f"{factory_name} from {where}", _origin(module))


@hookimpl
def cardiobench_model_sources() -> list[ModelSource]:
    return [ModelSource("py", "a factory(contract, **args) in a Python file or module", "py:my_net.py:build", find_python)]
