"""Sononet and AG-Sononet: parameter counts equal to the authors'
implementation, each gate equal to a plain PyTorch statement of the reference
gate, forward and a training step of each aggregation, init_from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import yaml

from cardiobench.specs import parameter_count
from cardiobench_fetal.models.ag_sononet import AGSononet
from cardiobench_fetal.models.build import builder
from cardiobench_fetal.models.sononet import Sononet
from tests.conftest import cli

# Counted from ozan-oktay/Attention-Gated-Networks (sononet2 and
# sononet_grid_attention with nonlocal_mode='concatenation_mean_flow',
# aggregation_mode 'mean' / 'deep_sup' / 'ft', in_channels=1,
# feature_scale = 64 / n): {classes: {n: (sononet, mean, deep_sup, ft)}}.
# With 14 classes they round to the paper's Table 1.
REFERENCE_COUNTS = {
    6: {8: (162674, 175764, 176730, 175878), 16: (647378, 698132, 700058, 698246), 32: (2582930, 2782740, 2786586, 2782854)},
    14: {8: (162954, 177068, 179322, 177670), 16: (647914, 700716, 705210, 701318), 32: (2583978, 2787884, 2796858, 2788486)},
}
AGGREGATIONS = ("mean", "deep-supervision", "fine-tune")


@pytest.mark.parametrize("classes", [6, 14])
def test_parameter_counts_equal_the_reference_implementation(classes: int):
    for n, counts in REFERENCE_COUNTS[classes].items():
        ours = (parameter_count(Sononet(n, classes)),) + tuple(parameter_count(AGSononet(n, classes, a)) for a in AGGREGATIONS)
        assert ours == counts, (n, ours)


def test_list_models_json_prints_the_exact_counts():
    result = cli("list", "models", "--task", "fetal-planes", "--json")
    assert result.code == 0, result.err
    counts = {m["name"]: m["parameters"] for m in json.loads(result.out) if not m["name"].endswith(":...")}  # not the model sources
    assert len(counts) == 12
    for n, (sononet, mean, ds, ft) in REFERENCE_COUNTS[6].items():
        assert (counts[f"sononet-{n}"], counts[f"ag-sononet-{n}"], counts[f"ag-sononet-{n}-ds"], counts[f"ag-sononet-{n}-ft"]) == (sononet, mean, ds, ft)


def reference_gate(x: torch.Tensor, g: torch.Tensor, theta: torch.Tensor, phi: torch.Tensor, psi: torch.Tensor, psi_bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """_GridAttentionBlockND_TORR._concatenation with mode
    'concatenation_mean_flow', use_W=False, sub-sample factor 1, restated in
    plain PyTorch (F.upsample there is F.interpolate, align_corners=False)."""
    theta_x = F.conv2d(x, theta)
    phi_g = F.interpolate(F.conv2d(g, phi), size=theta_x.shape[2:], mode="bilinear", align_corners=False)
    psi_f = F.conv2d(F.relu(theta_x + phi_g), psi, psi_bias).flatten(1)
    shifted = psi_f - psi_f.min(dim=1, keepdim=True).values
    attention = (shifted / shifted.sum(dim=1, keepdim=True)).view(x.shape[0], 1, *x.shape[2:])
    return (attention * x).sum(dim=(2, 3)), attention


@pytest.mark.parametrize("n", [8, 16])
def test_each_gate_computes_what_the_reference_gate_computes(n: int):
    torch.manual_seed(n)
    model = AGSononet(n, 6).double()
    x = torch.randn(2, 1, 64, 80, dtype=torch.double)
    f3, f4, g = model.features(x)
    for gate, f in ((model.gate1, f3), (model.gate2, f4)):
        ours = gate(f, g)
        theirs = reference_gate(f, g, gate.theta.weight, gate.phi.weight, gate.psi.weight, gate.psi.bias)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
        grads = torch.autograd.grad(ours[0].square().sum(), (gate.theta.weight, gate.phi.weight, gate.psi.weight))
        expected = torch.autograd.grad(theirs[0].square().sum(), (gate.theta.weight, gate.phi.weight, gate.psi.weight))
        for a, b in zip(grads, expected):
            torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("aggregation", [None, *AGGREGATIONS])
def test_forward_and_a_training_step(aggregation: str | None):
    torch.manual_seed(0)
    model = Sononet(8, 6) if aggregation is None else AGSononet(8, 6, aggregation)
    x, target = torch.randn(4, 1, 64, 80), torch.tensor([0, 1, 2, 5])
    outputs = model(x)
    heads = {None: 1, "mean": 3, "deep-supervision": 4, "fine-tune": 1}[aggregation]
    assert (len(outputs) if isinstance(outputs, list) else 1) == heads
    scores = model.predict(outputs)
    assert scores.shape == (4, 6) and torch.allclose(scores.sum(1), torch.ones(4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    before = [p.detach().clone() for p in model.parameters()]
    losses = []
    for _ in range(5):
        loss = model.loss(model(x), {"target": target})
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    trained = [not torch.equal(a, b) for a, b in zip(before, model.parameters()) if b.grad is not None and b.grad.abs().sum() > 1e-5]
    assert trained and all(trained)  # (a convolution's bias before batch norm gets none, up to rounding)


def test_losses_follow_the_reference_weights():
    torch.manual_seed(0)
    x, target = torch.randn(3, 1, 64, 80), torch.tensor([1, 2, 3])
    for aggregation, weights in (("mean", (1, 1, 1)), ("deep-supervision", (1, 0.1, 0.1, 0.1))):
        model = AGSononet(8, 6, aggregation)
        outputs = model(x)
        expected = sum(w * F.cross_entropy(o, target) for w, o in zip(weights, outputs))
        torch.testing.assert_close(model.loss(outputs, {"target": target}), expected)
    mean = AGSononet(8, 6, "mean")
    outputs = mean(x)
    torch.testing.assert_close(mean.predict(outputs), torch.stack([o.softmax(1) for o in outputs]).mean(0))


def test_attention_maps_have_the_gated_resolutions():
    maps = AGSononet(8, 6).attention_maps(torch.randn(2, 1, 64, 80))
    assert maps["AG1"].shape == (2, 16, 20) and maps["AG2"].shape == (2, 8, 10) and maps["AG3"].shape == (2, 4, 5)
    torch.testing.assert_close(maps["AG1"].sum(dim=(1, 2)), torch.ones(2))


def test_init_from_a_finished_sononet_run(tmp_path: Path):
    result = cli("run", "--task", "fetal-planes", "--model", "sononet-8", "--preset", "ci", "--no-progress", "--runs-dir", tmp_path / "a")
    assert result.code == 0, result.err
    (sononet_dir,) = list((tmp_path / "a").iterdir())
    state = torch.load(next(sononet_dir.glob("checkpoints/*/best.pt")), weights_only=True)["model"]
    config = yaml.safe_load((sononet_dir / "config.yaml").read_text())
    config["model"]["init_from"] = str(sononet_dir)
    model = builder(8, "fine-tune")(config, {})
    for name, value in model.state_dict().items():
        if name.startswith("features."):
            assert torch.equal(value, state[name]), name
    bad = cli("run", "--task", "fetal-planes", "--model", "ag-sononet-8", "--preset", "ci", "--no-progress", "--runs-dir", tmp_path / "c", "--set", f"model.init_from={tmp_path}")
    assert bad.code != 0 and "must be a finished cardiobench run directory" in bad.err
