"""Model sources for well-kept libraries: ``timm:NAME`` (image classifiers),
``torchvision:NAME`` (image and video classifiers, image segmenters),
``monai:NAME`` (networks of ``monai.networks.nets``) and
``smp:ARCH[:ENCODER]`` (segmentation_models_pytorch). Never with pretrained
weights: cardiobench downloads nothing."""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from cardiobench import hookimpl
from cardiobench.contract import ModelContract
from cardiobench.errors import ConfigError, UnknownNameError
from cardiobench.sources.signature import parameters
from cardiobench.specs import ModelSource, SourcedModel


def _import(module: str, install: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"This model needs {module.split('.')[0]}, which is not installed: {install}.") from exc


def _unknown(kind: str, name: str, names: list[str], listing: str) -> UnknownNameError:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(f"Unknown {kind} {name!r}.{hint} {listing}")


def _model_class(builder: Callable[..., Any]) -> type:
    """The class a timm or torchvision builder returns (its return annotation):
    read without building, since nothing may compute before a run's numerics are set."""
    returned = inspect.signature(builder).return_annotation
    if isinstance(returned, str):
        returned = getattr(importlib.import_module(builder.__module__), returned, None)
    return returned if isinstance(returned, type) else nn.Module


class RepeatChannels(nn.Module):
    """A network whose stem takes ``wanted`` channels, fed a ``given``-channel
    input by repeating it (a one-channel MRI or ultrasound image becomes grey RGB)."""

    def __init__(self, net: nn.Module, given: int, wanted: int = 3):
        super().__init__()
        self.net, self.repeat = net, wanted // given

    def forward(self, x: torch.Tensor) -> Any:
        return self.net(x.repeat_interleave(self.repeat, dim=1))


# ----------------------------------------------------------------------- timm
def find_timm(name: str, contract: ModelContract) -> SourcedModel:
    timm = _import("timm", "pip install timm")
    if contract.kind != "image":
        raise ConfigError(f"timm:{name}: timm's models are image classifiers; this task's input is a {contract.kind} {contract.input_text()}.")
    names = timm.list_models()
    if name not in names:
        raise _unknown("timm model", name, names, "timm.list_models() lists them.")

    def create(c: ModelContract, args: Mapping[str, Any]) -> nn.Module:
        return timm.create_model(name, pretrained=False, in_chans=c.channels, num_classes=c.outputs, **args)

    cls = _model_class(timm.models.model_entrypoint(name))
    found, required = parameters(cls.__init__, {"in_chans", "num_classes"}, library_defaults=True)
    return SourcedModel(found, create, required, f"timm {name} ({cls.__name__}, no pretrained weights)")


# ---------------------------------------------------------------- torchvision
TORCHVISION_FAMILIES = {"image": "", "video": "video", "mask": "segmentation"}


def find_torchvision(name: str, contract: ModelContract) -> SourcedModel:
    models = _import("torchvision.models", "pip install torchvision")
    family = "mask" if contract.output == "mask" else contract.kind
    if family not in TORCHVISION_FAMILIES:
        raise ConfigError(f"torchvision:{name}: torchvision has no models for a {contract.kind} input {contract.input_text()}.")
    module = getattr(models, TORCHVISION_FAMILIES[family]) if TORCHVISION_FAMILIES[family] else models
    names = models.list_models(module=module)
    if name not in names:
        raise _unknown(f"torchvision {'segmentation' if family == 'mask' else family} model", name, names, f"Available: {', '.join(names)}.")
    builder = models.get_model_builder(name)
    extra = {"weights_backbone": None, "aux_loss": False} if family == "mask" else {}

    def create(c: ModelContract, args: Mapping[str, Any]) -> nn.Module:
        net = builder(weights=None, num_classes=c.outputs, **extra, **args)
        return RepeatChannels(net, c.channels) if c.channels != 3 and 3 % c.channels == 0 else net

    cls = _model_class(builder)
    found, required = parameters(cls.__init__, {"num_classes", "aux_loss"}, library_defaults=True)
    channels = "" if contract.channels == 3 else f"; its {contract.channels}-channel input repeated to 3"
    return SourcedModel(found, create, required, f"torchvision {name} ({cls.__name__}, no pretrained weights{channels})")


# ---------------------------------------------------------------------- MONAI
def find_monai(name: str, contract: ModelContract) -> SourcedModel:
    nets = _import("monai.networks.nets", "pip install 'cardiobench[cmr]' (or pip install monai)")
    names = sorted(n for n in dir(nets) if isinstance(getattr(nets, n), type) and issubclass(getattr(nets, n), nn.Module))
    if name not in names:
        raise _unknown("MONAI network", name, names, "monai.networks.nets lists them.")
    cls = getattr(nets, name)
    fills = {"spatial_dims": contract.spatial_dims, "in_channels": contract.channels, "out_channels": contract.outputs, "num_classes": contract.outputs}
    accepted = set(inspect.signature(cls.__init__).parameters)
    filled = {k for k in fills if k in accepted}
    found, required = parameters(cls.__init__, filled)

    def create(c: ModelContract, args: Mapping[str, Any]) -> nn.Module:
        now = {"spatial_dims": c.spatial_dims, "in_channels": c.channels, "out_channels": c.outputs, "num_classes": c.outputs}
        return cls(**{k: now[k] for k in filled}, **args)

    return SourcedModel(found, create, required, f"MONAI {name} ({contract.spatial_dims}D, {contract.channels} input channel(s))")


# ------------------------------------------------------------ segmentation_models_pytorch
def find_smp(name: str, contract: ModelContract) -> SourcedModel:
    smp = _import("segmentation_models_pytorch", "pip install 'cardiobench[smp]'")
    arch, _, encoder = name.partition(":")
    archs = {cls.__name__.lower(): cls for cls in getattr(smp, "_MODEL_ARCHITECTURES", [])} or {n.lower(): getattr(smp, n) for n in ("Unet", "UnetPlusPlus", "FPN", "PSPNet", "Linknet", "PAN", "DeepLabV3", "DeepLabV3Plus", "MAnet") if hasattr(smp, n)}
    if arch.lower() not in archs:
        raise _unknown("segmentation_models_pytorch architecture", arch, sorted(archs), f"Available: {', '.join(sorted(archs))}.")
    if contract.kind != "image":
        raise ConfigError(f"smp:{name}: segmentation_models_pytorch builds 2D image segmenters; this task's input is a {contract.kind}.")
    encoder = encoder or "resnet34"
    encoders = smp.encoders.get_encoder_names()
    if encoder not in encoders:
        raise _unknown("segmentation_models_pytorch encoder", encoder, encoders, "smp.encoders.get_encoder_names() lists them.")
    cls = archs[arch.lower()]
    found, required = parameters(cls.__init__, {"encoder_name", "in_channels", "classes"})

    def create(c: ModelContract, args: Mapping[str, Any]) -> nn.Module:
        return cls(encoder_name=encoder, encoder_weights=None, in_channels=c.channels, classes=c.outputs, **args)

    return SourcedModel(found, create, required, f"segmentation_models_pytorch {cls.__name__} with a {encoder} encoder (no pretrained weights)")


@hookimpl
def cardiobench_model_sources() -> list[ModelSource]:
    return [
        ModelSource("timm", "timm image models (Wightman, PyTorch Image Models)", "timm:convnext_atto", find_timm, ("classes", "scalar"), "pip install timm", ("image",)),
        ModelSource("torchvision", "torchvision image and video classifiers, image segmenters", "torchvision:r2plus1d_18", find_torchvision, ("classes", "scalar", "mask"), "pip install torchvision", ("image", "video")),
        ModelSource("monai", "MONAI networks (monai.networks.nets)", "monai:UNet --model-args channels=[8,16,32],strides=[2,2]", find_monai, ("classes", "scalar", "mask"), "pip install 'cardiobench[cmr]'"),
        ModelSource("smp", "segmentation_models_pytorch segmenters, ARCH[:ENCODER]", "smp:Unet:resnet18", find_smp, ("mask",), "pip install 'cardiobench[smp]'", ("image",)),
    ]
