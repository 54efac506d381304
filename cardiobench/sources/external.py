"""The ``external:`` model source: ``external:NAME`` names a model whose
predictions were made elsewhere and scored with ``cardiobench score``; it has
no network to build."""

from __future__ import annotations

from typing import Any

from cardiobench import hookimpl
from cardiobench.contract import ModelContract
from cardiobench.errors import ConfigError
from cardiobench.specs import ModelSource, SourcedModel


def find_external(name: str, contract: ModelContract) -> SourcedModel:
    def create(c: ModelContract, args: Any) -> Any:
        raise ConfigError(f"external:{name} names predictions made elsewhere; it has no network to train or test. Score its predictions with: cardiobench score --predictions FILE.")

    return SourcedModel({}, create, description=f"{name}: predictions made outside cardiobench")


@hookimpl
def cardiobench_model_sources() -> list[ModelSource]:
    return [ModelSource("external", "predictions made elsewhere (cardiobench score --model-name NAME)", "external:my-model", find_external)]
