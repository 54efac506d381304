"""CPU: the torch backend of tca_pool_diff + excite against the eager module
code, forward + backward (target: >= 1.5x), on the first two STCA stages at
batch 4 (batch 20 in ``cardiobench bench kernels``)."""

from __future__ import annotations

import pytest
import torch

from benchmarks.timing import paired_medians
from cardiobench.kernels.bench import STCA_STAGES, EagerTCA, KernelTCA


@pytest.mark.parametrize("stage", ["layer1", "layer2"])
def test_tca_torch_backend_against_eager(benchmark, report, stage: str):
    channels, frames, size = STCA_STAGES[stage]
    torch.manual_seed(0)
    x = torch.randn(4, channels, frames, size, size, requires_grad=True)
    upstream = torch.randn_like(x)
    eager, kernel = EagerTCA(channels), KernelTCA(channels, "torch")
    kernel.load_state_dict(eager.state_dict())

    def step(module) -> None:  # noqa: ANN001
        x.grad = None
        module(x).backward(upstream)

    step(eager), step(kernel)
    eager_s, kernel_s = paired_medians(lambda: step(eager), lambda: step(kernel), rounds=5)
    benchmark.extra_info.update({"eager_s": eager_s, "torch_backend_s": kernel_s, "speedup": eager_s / kernel_s})
    benchmark.pedantic(lambda: step(kernel), rounds=2, iterations=1)
    report(
        f"TCA {stage} {tuple(x.shape)} fwd+bwd: torch backend {1000 * kernel_s:.0f} ms vs eager module {1000 * eager_s:.0f} ms "
        f"-> {eager_s / kernel_s:.2f}x (target >= 1.5x: {'met' if eager_s / kernel_s >= 1.5 else 'NOT met'})"
    )
