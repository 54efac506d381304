"""Device choice and batch placement. Multi-GPU support will wrap the model in
:func:`prepare_model`; nothing else in the engine needs to know."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.utils.fusion import fuse_conv_bn_eval

from cardiobench.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"Unknown device {name!r}; use auto, cpu, cuda or cuda:N.") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"Device {name!r} was requested but CUDA is not available on this machine.")
    return device


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


_PROC = "/proc/self"


def reset_peak_memory() -> None:
    """Start measuring a run's peak memory: CUDA's peak statistics, and on
    Linux the process's peak resident set (``clear_refs`` 5), so that a
    process running several runs (``leaderboard reproduce``) gives each its own."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    try:
        with open(f"{_PROC}/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass  # not Linux: the peak is the process's since it started


def peak_memory(device: torch.device) -> dict[str, Any]:
    """The run's peak memory in MiB and what it measures: the largest GPU
    allocation on CUDA, else the process's peak resident set (data and model
    together) since :func:`reset_peak_memory`."""
    if device.type == "cuda":
        return {"peak_memory_mib": round(torch.cuda.max_memory_allocated(device) / 2**20, 1), "peak_memory_of": "cuda allocated"}
    try:
        with open(f"{_PROC}/status") as handle:
            kib = next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        import resource  # POSIX; its peak cannot be reset

        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_memory_mib": round(kib / 1024, 1), "peak_memory_of": "process resident set"}


def to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    """Move every tensor of a batch dict (and of dicts inside it) to ``device`` (non-blocking)."""
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else to_device(v, device) if isinstance(v, Mapping) else v for k, v in batch.items()}


def prepare_model(model: nn.Module, device: torch.device, channels_last: bool = False) -> nn.Module:
    """``model`` on ``device``; with ``channels_last``, its convolution weights
    and inputs in channels-last layout (oneDNN's fast path on CPUs, e.g. several
    times faster for MobileNet's depthwise convolutions)."""
    model = model.to(device)
    if channels_last:
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Conv3d)):
                module.weight.data = module.weight.data.contiguous(memory_format=_LAYOUT[module.weight.dim()])
        model.register_forward_pre_hook(_inputs_channels_last)
    return model


def fold_batch_norm(model: nn.Module) -> nn.Module:
    """An inference copy of ``model`` (eval mode) with each batch norm that
    directly follows a convolution inside an ``nn.Sequential`` (torchvision's
    conv-norm-activation blocks) folded into the convolution's weights
    (``torch.nn.utils.fusion``): one pass less per layer, the same outputs
    to float rounding (MobileNetV3 DeepLabV3 at 64x64 on 2 CPU cores: 1.35x)."""
    model = copy.deepcopy(model).eval()
    for block in model.modules():
        if not isinstance(block, nn.Sequential):
            continue
        names = list(block._modules)
        for conv_name, norm_name in zip(names, names[1:]):
            conv, norm = block._modules[conv_name], block._modules[norm_name]
            if isinstance(conv, _ConvNd) and not conv.transposed and isinstance(norm, _BatchNorm) and norm.track_running_stats:
                block._modules[conv_name], block._modules[norm_name] = fuse_conv_bn_eval(conv, norm), nn.Identity()
    return model


_LAYOUT = {4: torch.channels_last, 5: torch.channels_last_3d}


def _inputs_channels_last(_module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a.contiguous(memory_format=_LAYOUT[a.dim()]) if torch.is_tensor(a) and a.dim() in _LAYOUT else a for a in args)


def default_workers(device: torch.device) -> int:
    """DataLoader workers: none on CPU (they would compete with compute for
    cores), several on GPU to keep it fed."""
    return 8 if device.type == "cuda" else 0
