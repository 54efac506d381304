"""AG-Sononet-n against Sononet-n, forward and forward + backward time per
image in the same run (the overhead of the paper's Table 1), at the paper's
208 x 272 input. On CPU the gates use the torch backend; on a GPU both the
triton and the torch backends are timed. Ratios only: the paper's milliseconds
are from another machine (a GPU)."""

from __future__ import annotations

import pytest
import torch

from benchmarks.timing import paired_medians
from cardiobench.kernels import triton_available
from cardiobench_fetal.models.ag_sononet import AGSononet
from cardiobench_fetal.models.sononet import Sononet

BATCH = {"cpu": 4, "cuda": 64}
PAPER_OVERHEAD = {"forward": 1.86 / 1.36, "forward+backward": (1.86 + 3.46) / (1.36 + 2.60)}  # Table 1, n = 8


def _backends(device: str) -> list[str]:
    return ["torch", "triton"] if device == "cuda" and triton_available() else ["torch"]


def _devices() -> list[str]:
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("n", [8, 16])
def test_ag_sononet_overhead_per_image(benchmark, report, device: str, n: int):
    torch.manual_seed(0)
    batch = BATCH[device]
    x = torch.randn(batch, 1, 208, 272, device=device)
    target = torch.randint(0, 6, (batch,), device=device)
    sononet = Sononet(n, 6).to(device)

    def forward(model) -> None:  # noqa: ANN001
        with torch.no_grad():
            model(x)
        if device == "cuda":
            torch.cuda.synchronize()

    def train_step(model) -> None:  # noqa: ANN001
        model.zero_grad(set_to_none=True)
        model.loss(model(x), {"target": target}).backward()
        if device == "cuda":
            torch.cuda.synchronize()

    for backend in _backends(device):
        ag = AGSononet(n, 6, "mean", backend=backend).to(device)
        for name, step in (("forward", forward), ("forward+backward", train_step)):
            step(sononet), step(ag)
            base_s, ag_s = paired_medians(lambda: step(sononet), lambda: step(ag), rounds=5)
            benchmark.extra_info[f"{backend}/{name}"] = {"sononet_ms_per_image": 1000 * base_s / batch, "ag_sononet_ms_per_image": 1000 * ag_s / batch, "ratio": ag_s / base_s}
            report(
                f"{device} n={n} {name} ({backend} gates, batch {batch}, 208x272): AG-Sononet-{n} {1000 * ag_s / batch:.1f} ms/image vs Sononet-{n} "
                f"{1000 * base_s / batch:.1f} -> {ag_s / base_s:.2f}x (paper, n=8 on a GPU: {PAPER_OVERHEAD[name]:.2f}x)"
            )
    benchmark.pedantic(lambda: forward(sononet), rounds=1, iterations=1)
