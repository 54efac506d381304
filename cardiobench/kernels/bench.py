"""Speed of the kernels against the eager PyTorch module code they replace and
against ``torch.compile`` of that code (``benchmarks/kernels.py`` and
``cardiobench bench kernels``).

Workloads:
- TCA (pooling difference + excitation, with the reduction convolutions between
  them) at the STCA training shapes: batch 20, the outputs of the four
  R(2+1)D-18 stages for 32-frame 112 x 112 clips.
- The attention gate at the AG-Sononet shapes: batch 64, 208 x 272 input, the
  gates at layer 11 (4n channels, 52 x 68) and layer 14 (8n, 26 x 34) gated by
  the last layer (8n, 13 x 17), for n = 8 and 32; Cint = C (as the public
  Attention-Gated-Networks code; the paper does not state it).

Bytes/s count the minimum traffic. Forward: tca_pool_diff reads x once and
excite reads x and writes x' once (3 |x|); the gate reads f and g once.
Forward + backward adds the backward's minimum: TCA reads x and the upstream
gradient and writes x's gradient (3 |x|); the gate reads f and g and writes
their gradients (2 (|f| + |g|)).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cardiobench.kernels import attention_gate, excite, tca_pool_diff, triton_available

STCA_STAGES = {"layer1": (64, 32, 56), "layer2": (128, 16, 28), "layer3": (256, 8, 14), "layer4": (512, 4, 7)}  # C, T, H=W
AG_GATES = {"layer11": (4, 52, 68), "layer14": (8, 26, 34)}  # channels per n, H, W
AG_GATING = (8, 13, 17)


TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 4e-2}  # largest error / largest reference value


@dataclass
class Check:
    """One implementation's outputs and input gradients against the float64
    reference (the eager module code in float64) at one shape and dtype."""

    workload: str
    impl: str
    dtype: str
    forward_error: float
    gradient_error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.forward_error <= self.tolerance and self.gradient_error <= self.tolerance


def _relative(actual: torch.Tensor, reference: torch.Tensor) -> float:
    return float((actual.double() - reference).abs().max() / reference.abs().max().clamp_min(1e-12))


@dataclass
class Row:
    workload: str
    impl: str
    mode: str
    ms: float
    gb_per_s: float
    copy_fraction: float
    speedup_vs_eager: float


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def copy_bandwidth(device: torch.device, megabytes: int = 256) -> float:
    """Measured device copy bandwidth (bytes read + written per second)."""
    src = torch.empty(megabytes * 2**20 // 4, dtype=torch.float32, device=device).normal_()
    dst = torch.empty_like(src)
    seconds = median_seconds(lambda: dst.copy_(src), device, repeats=10)
    return 2 * src.numel() * 4 / seconds


class EagerTCA(nn.Module):
    """TCA as straightforward module code: max_pool3d, avg_pool3d, spatial mean,
    the two 1x1 convolutions, X * E + X (STCA Eq. 1-2)."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.reduce = nn.Conv1d(channels, channels // reduction, 1)
        self.expand = nn.Conv1d(channels // reduction, channels, 1)

    def excitation(self, d: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.expand(torch.relu(self.reduce(d))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        local_max = F.max_pool3d(x, (3, 1, 1), stride=1, padding=(1, 0, 0))
        local_mean = F.avg_pool3d(x, (3, 1, 1), stride=1, padding=(1, 0, 0), count_include_pad=False)
        e = self.excitation(local_max.mean(dim=(3, 4)) - local_mean.mean(dim=(3, 4)))
        return x * e[..., None, None] + x


class KernelTCA(EagerTCA):
    def __init__(self, channels: int, backend: str):
        super().__init__(channels)
        self.backend = backend

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return excite(x, self.excitation(tca_pool_diff(x, 3, backend=self.backend)), backend=self.backend)


def eager_gate(f, g, w_f, w_g, b_g, psi, b_psi, norm):  # noqa: ANN001, ANN201
    """The gate as module code: 1x1 convolutions, F.interpolate, ReLU, normalisation, weighted sum."""
    theta = F.conv2d(f, w_f[..., None, None])
    phi = F.interpolate(F.conv2d(g, w_g[..., None, None]), size=f.shape[-2:], mode="bilinear", align_corners=False)
    c = F.conv2d(torch.relu(theta + phi + b_g[None, :, None, None]), psi[None, :, None, None], b_psi.reshape(1))
    flat = c.flatten(1)
    if norm == "softmax":
        alpha = torch.softmax(flat, 1)
    elif norm == "sigmoid":
        alpha = torch.sigmoid(flat)
    else:
        shifted = flat - flat.min(1, keepdim=True).values
        alpha = shifted / shifted.sum(1, keepdim=True).clamp_min(1e-12)
    alpha = alpha.view_as(c)
    return (alpha * f).sum(dim=(2, 3)), alpha


def _impls(device: torch.device, compile_eager: bool) -> list[str]:
    """Eager module code, its torch.compile, our torch backend, and our Triton
    backend on CUDA (or interpreted on the CPU under TRITON_INTERPRET=1)."""
    impls = ["eager"] + (["compiled"] if compile_eager else []) + ["torch"]
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    return impls + (["triton"] if (device.type == "cuda" or interpreted) and triton_available() else [])


def _measure(name: str, impl: str, fn: Callable[[], object], backward: Callable[[], object], bytes_fwd: float, bytes_bwd: float, device: torch.device, repeats: int, bandwidth: float, eager: dict[str, float]) -> list[Row]:
    rows = []
    for mode, work, traffic in (("forward", fn, bytes_fwd), ("forward+backward", backward, bytes_fwd + bytes_bwd)):
        seconds = median_seconds(work, device, repeats)
        if impl == "eager":
            eager[mode] = seconds
        rows.append(Row(name, impl, mode, 1000 * seconds, traffic / seconds / 1e9, traffic / seconds / bandwidth, eager.get(mode, seconds) / seconds))
    return rows


def check_tca(module: nn.Module, reference: EagerTCA, x: torch.Tensor, upstream: torch.Tensor, label: str, impl: str) -> Check:
    """``module`` (its weights copied from ``reference``) against ``reference`` in float64."""
    x64 = x.detach().double().requires_grad_(True)
    expected = reference(x64)
    expected.backward(upstream.double())
    x.grad = None
    out = module(x)
    out.backward(upstream)
    return Check(label, impl, str(x.dtype).removeprefix("torch."), _relative(out.detach(), expected.detach()), _relative(x.grad, x64.grad), TOLERANCE.get(x.dtype, 1e-4))


def run_tca(device: torch.device, batch: int, repeats: int, bandwidth: float, compile_eager: bool, stages: list[str], dtype: torch.dtype | None = None, shapes: dict[str, tuple[int, int, int]] | None = None, checks: list[Check] | None = None) -> list[Row]:
    """Speed rows of every implementation at each stage's shape (``shapes``,
    default :data:`STCA_STAGES`); with ``checks``, each kernel's correctness
    against the float64 reference is appended to it."""
    rows = []
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    for stage in stages:
        channels, frames, size = (shapes or STCA_STAGES)[stage]
        x = torch.randn(batch, channels, frames, size, size, device=device, dtype=dtype, requires_grad=True)
        upstream = torch.randn_like(x)
        n_bytes = x.numel() * x.element_size()
        eager: dict[str, float] = {}
        reference = EagerTCA(channels).to(device, torch.float64)
        for impl in _impls(device, compile_eager):
            module = (EagerTCA(channels) if impl in ("eager", "compiled") else KernelTCA(channels, impl)).to(device, torch.float64)
            module.load_state_dict(reference.state_dict())
            module = module.to(dtype)
            call = torch.compile(module, dynamic=False) if impl == "compiled" else module
            label = f"TCA {stage} {tuple(x.shape)} {str(dtype).removeprefix('torch.')}"
            if checks is not None and impl in ("torch", "triton"):
                checks.append(check_tca(module, reference, x, upstream, label, impl))

            def forward(call=call) -> object:  # noqa: ANN001
                with torch.no_grad():
                    return call(x)

            def forward_backward(call=call) -> object:  # noqa: ANN001
                x.grad = None
                return call(x).backward(upstream)

            rows += _measure(label, impl, forward, forward_backward, 3 * n_bytes, 3 * n_bytes, device, repeats, bandwidth, eager)
    return rows


def check_gate(call: Callable[[], tuple[torch.Tensor, torch.Tensor]], tensors: list[torch.Tensor], norm: str, label: str, impl: str) -> Check:
    """The gate's pooled output, attention map and input gradients against :func:`eager_gate` in float64."""
    doubles = [t.detach().double().requires_grad_(True) for t in tensors]
    pooled64, alpha64 = eager_gate(*doubles[:2], *doubles[2:], norm)
    (pooled64.square().sum() + alpha64.sum()).backward()
    for t in tensors:
        t.grad = None
    pooled, alpha = call()
    (pooled.float().square().sum() + alpha.float().sum()).backward()
    forward = max(_relative(pooled.detach(), pooled64.detach()), _relative(alpha.detach(), alpha64.detach()))
    gradient = max(_relative(t.grad, d.grad) for t, d in zip(tensors[:2], doubles[:2]))
    return Check(label, impl, str(tensors[0].dtype).removeprefix("torch."), forward, gradient, TOLERANCE.get(tensors[0].dtype, 1e-4))


def run_gate(device: torch.device, batch: int, repeats: int, bandwidth: float, compile_eager: bool, widths: list[int], norm: str = "range", dtype: torch.dtype | None = None, scale: int = 1, checks: list[Check] | None = None) -> list[Row]:
    """Speed rows of every implementation at the AG-Sononet gate shapes of each
    width n (spatial sizes divided by ``scale`` for a dry run); with
    ``checks``, correctness against the float64 reference."""
    rows = []
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    for n in widths:
        for layer, (mult, H, W) in AG_GATES.items():
            H, W = max(2, H // scale), max(2, W // scale)
            C, Cg = mult * n, AG_GATING[0] * n
            f = torch.randn(batch, C, H, W, device=device, dtype=dtype, requires_grad=True)
            g = torch.randn(batch, Cg, max(2, AG_GATING[1] // scale), max(2, AG_GATING[2] // scale), device=device, dtype=dtype, requires_grad=True)
            params = [torch.randn(shape, device=device, dtype=dtype).mul_(0.1).requires_grad_(True) for shape in ((C, C), (C, Cg), (C,), (C,), (1,))]
            n_bytes = (f.numel() + g.numel()) * f.element_size()
            eager: dict[str, float] = {}
            for impl in _impls(device, compile_eager):
                if impl in ("eager", "compiled"):
                    gate = torch.compile(eager_gate, dynamic=False) if impl == "compiled" else eager_gate
                    call = lambda gate=gate: gate(f, g, *params, norm)  # noqa: E731
                else:
                    call = lambda impl=impl: attention_gate(f, g, *params, norm, backend=impl)  # noqa: E731
                label = f"gate n={n} {layer} f{tuple(f.shape)} {str(dtype).removeprefix('torch.')} {norm}"
                if checks is not None and impl in ("torch", "triton"):
                    checks.append(check_gate(call, [f, g, *params], norm, label, impl))

                def forward(call=call) -> object:  # noqa: ANN001
                    with torch.no_grad():
                        return call()

                def forward_backward(call=call) -> object:  # noqa: ANN001
                    pooled, alpha = call()
                    return (pooled.float().square().sum() + alpha.float().sum()).backward()

                rows += _measure(label, impl, forward, forward_backward, n_bytes, 2 * n_bytes, device, repeats, bandwidth, eager)
    return rows


def table(rows: list[Row]) -> str:
    import polars as pl

    from cardiobench.tables import markdown

    frame = pl.DataFrame([r.__dict__ for r in rows]).with_columns(
        pl.col("ms").round(3), pl.col("gb_per_s").round(1), pl.col("copy_fraction").round(3), pl.col("speedup_vs_eager").round(2)
    )
    return markdown(frame)


def run(device: str = "auto", tca_batch: int = 20, gate_batch: int = 64, repeats: int = 5, compile_eager: bool = True, stages: list[str] | None = None, widths: list[int] | None = None) -> tuple[str, list[Row]]:
    """Run every workload; returns (header, rows)."""
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device))
    bandwidth = copy_bandwidth(dev)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    header = f"device: {name}; torch {torch.__version__}; measured copy bandwidth {bandwidth / 1e9:.1f} GB/s; median of {repeats} runs"
    rows = run_tca(dev, tca_batch, repeats, bandwidth, compile_eager, stages or list(STCA_STAGES))
    rows += run_gate(dev, gate_batch, repeats, bandwidth, compile_eager, widths or [8, 32])
    return header, rows
